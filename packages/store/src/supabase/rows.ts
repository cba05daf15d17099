// PostgREST renders rows with PostgreSQL's own JSON output: timestamptz as
// "2024-05-01T12:00:00.123456+02:00" (in the database's time zone, fraction trimmed), integers as
// numbers, jsonb as JSON. These turn that into the API shapes the SQL store produces.


// Column lists in PostgREST's `select=` syntax (no spaces).
export const USER_SELECT = "id,email,display_name,created_at";
export const CONVERSATION_SELECT = "id,title,system_prompt,model,created_at,updated_at";
export const MESSAGE_SELECT =
  "id,conversation_id,role,content,reasoning,model,token_count,input_tokens,finish_reason,latency_ms,ttft_ms,metadata,created_at,parent_id";

// PostgreSQL's JSON rendering is shared with the SQL store (its jsonb-returning SQL functions).
export { conversationFromJson, messageFromJson, userFromJson } from "../rows";

const JSON_TIMESTAMP = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d(?::\d\d)?(?::\d\d)?)$/;

/**
 * The same instant as UTC text with all six fractional digits, for keyset cursors: the API's
 * millisecond ISO string would make rows that differ only in microseconds repeat or vanish.
 */
export function microsUtc(text: string): string {
  const m = JSON_TIMESTAMP.exec(text);
  if (!m) throw new Error(`Unexpected timestamp in a PostgREST response: ${text}`);
  let zone = m[4]!;
  if (zone !== "Z") {
    // JS parses ±HH:MM only; second-level offsets exist only for pre-1900 local mean time.
    const digits = zone.slice(1).replace(/:/g, "");
    zone = `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || "00"}`;
  }
  const seconds = new Date(`${m[1]}T${m[2]}${zone}`);
  if (Number.isNaN(seconds.getTime())) throw new Error(`Unexpected timestamp in a PostgREST response: ${text}`);
  return `${seconds.toISOString().slice(0, 19)}.${(m[3] ?? "").padEnd(6, "0")}Z`;
}
