import type { FieldError } from "@conversation-api/core";

const NUL = "\u0000";
const MESSAGE = "must not contain NUL (\\u0000)";

/**
 * Every string of a request value that holds U+0000, by field path (`query.q`, `body.messages.0.text`;
 * an object key holding one is named by its own path). PostgreSQL's text and jsonb cannot store U+0000,
 * so the edge refuses it everywhere, whatever the route's schema reads, instead of each schema
 * remembering to and a forgotten field reaching the database as a 500.
 * The walk keeps its own stack: a 64 KiB body can nest arrays deeper than the call stack goes.
 */
export function nulFields(value: unknown, where: string): FieldError[] {
  const found: FieldError[] = [];
  const stack: [unknown, string][] = [[value, where]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === "string") {
      if (v.includes(NUL)) found.push({ path, message: MESSAGE });
    } else if (v !== null && typeof v === "object") {
      const entries = Array.isArray(v) ? v.map((item, i) => [String(i), item] as const) : Object.entries(v);
      // Pushed last to first, so fields are reported in document order.
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i]!;
        const at = `${path}.${key}`;
        stack.push([item, at]);
        if (key.includes(NUL)) stack.push([NUL, at]);
      }
    }
  }
  return found;
}
