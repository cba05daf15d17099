// Opaque keyset cursors. They carry the last row's sort key exactly as the database holds it:
// timestamps at microsecond precision (a JS Date would round to milliseconds and make rows that
// differ only in microseconds repeat or vanish between pages).
import { AppError, type Page } from "@conversation-api/core";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MICROS_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const SEQ = /^[1-9]\d{0,17}$/;

export const isUuid = (s: string): boolean => UUID.test(s);

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");

/** The cursor's fields when it is one of kind `k` and `valid` accepts them; else the API's "Invalid cursor". */
function decode(cursor: string, k: string, valid: (v: Record<string, unknown>) => boolean): Record<string, string> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    v = null;
  }
  if (v && typeof v === "object" && (v as Record<string, unknown>).k === k && valid(v as Record<string, unknown>)) return v as Record<string, string>;
  throw new AppError("invalid_request_error", "Invalid cursor");
}

/** A real calendar instant (rejects 2024-02-30 and friends before PostgreSQL has to). */
function isInstant(ts: string): boolean {
  const msPrecision = `${ts.slice(0, 23)}Z`;
  const d = new Date(msPrecision);
  return !Number.isNaN(d.getTime()) && d.toISOString() === msPrecision;
}

/** updated_at: YYYY-MM-DDTHH:MM:SS.ffffffZ. */
export const encodeConversationCursor = (key: { updated_at: string; id: string }): string => encode({ k: "c", t: key.updated_at, id: key.id });

export function decodeConversationCursor(cursor: string): { updated_at: string; id: string } {
  const valid = ({ t, id }: Record<string, unknown>) => typeof t === "string" && typeof id === "string" && MICROS_UTC.test(t) && isInstant(t) && isUuid(id);
  const { t, id } = decode(cursor, "c", valid);
  return { updated_at: t!, id: id! };
}

/** seq: bigint as decimal text. */
export const encodeMessageCursor = (key: { seq: string }): string => encode({ k: "m", s: key.seq });

export const decodeMessageCursor = (cursor: string): { seq: string } => ({
  seq: decode(cursor, "m", ({ s }) => typeof s === "string" && SEQ.test(s)).s!,
});

/** One page from `limit + 1` fetched rows: the extra row only tells whether a next page exists. */
export function toPage<R, T>(rows: R[], limit: number, map: (row: R) => T, cursorOf: (last: R) => string): Page<T> {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data: data.map(map), next_cursor: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}
