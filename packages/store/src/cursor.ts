// Opaque keyset cursors. They carry the last row's sort key exactly as the database holds it:
// timestamps at microsecond precision (a JS Date would round to milliseconds and make rows that
// differ only in microseconds repeat or vanish between pages).
import { AppError, type Page } from "@conversation-api/core";

export interface ConversationKey {
  updated_at: string; // YYYY-MM-DDTHH:MM:SS.ffffffZ
  id: string;
}

export interface MessageKey {
  seq: string; // bigint as decimal text
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MICROS_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const SEQ = /^[1-9]\d{0,17}$/;

export const isUuid = (s: string): boolean => UUID.test(s);

const invalid = () => new AppError("invalid_request_error", "Invalid cursor");

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");

function decode(cursor: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw invalid();
}

/** A real calendar instant (rejects 2024-02-30 and friends before PostgreSQL has to). */
function isInstant(ts: string): boolean {
  const msPrecision = `${ts.slice(0, 23)}Z`;
  const d = new Date(msPrecision);
  return !Number.isNaN(d.getTime()) && d.toISOString() === msPrecision;
}

export function encodeConversationCursor(key: ConversationKey): string {
  return encode({ k: "c", t: key.updated_at, id: key.id });
}

export function decodeConversationCursor(cursor: string): ConversationKey {
  const v = decode(cursor);
  const { k, t, id } = v;
  if (k !== "c" || typeof t !== "string" || typeof id !== "string") throw invalid();
  if (!MICROS_UTC.test(t) || !isInstant(t) || !isUuid(id)) throw invalid();
  return { updated_at: t, id };
}

export function encodeMessageCursor(key: MessageKey): string {
  return encode({ k: "m", s: key.seq });
}

export function decodeMessageCursor(cursor: string): MessageKey {
  const { k, s } = decode(cursor);
  if (k !== "m" || typeof s !== "string" || !SEQ.test(s)) throw invalid();
  return { seq: s };
}

/** One page from `limit + 1` fetched rows: the extra row only tells whether a next page exists. */
export function toPage<R, T>(rows: R[], limit: number, map: (row: R) => T, cursorOf: (last: R) => string): Page<T> {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data: data.map(map), next_cursor: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}
