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

// The cursor key from a JSON timestamp, shared with the SQL store's JSON pages.
export { microsUtc } from "../rows";
