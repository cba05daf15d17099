// The one message a wire format's error carries: ours, with each failing field named as the client
// wrote it (`max_tokens`, `messages.0.content`), since those formats have no list of fields.
import type { PublicError } from "@conversation-api/core";

const GENERIC = "Request validation failed";

/** A field's path as the client knows it: body fields without the `body.` prefix. */
export const fieldName = (path: string) => (path.startsWith("body.") ? path.slice(5) : path);

export function errorMessage(e: PublicError): string {
  if (!e.fields?.length) return e.message;
  const fields = e.fields.map((f) => `${fieldName(f.path)}: ${f.message}`).join("; ");
  return e.message === GENERIC ? fields : `${e.message} (${fields})`;
}

/** The first failing field, for formats that name one (OpenAI's `param`). */
export const firstField = (e: PublicError): string | null => (e.fields?.[0] ? fieldName(e.fields[0].path) : null);
