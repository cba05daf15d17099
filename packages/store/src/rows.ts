// Column lists and row → API shape mappers. Queries select exactly the API fields (plus the
// pagination key where needed), so the mappers only pin down types.
import type {
  ApiKeyRecord,
  BeginReservation,
  BeginResult,
  CancelResult,
  Conversation,
  ConversationExport,
  FinishReason,
  FlushResult,
  ListedMessage,
  Message,
  Page,
  Rotation,
  StoredReply,
  TurnContext,
  UsageRow,
  User,
  TurnVersion,
} from "@conversation-api/core";
import { timestamptzToIso } from "./sql";
import { toPage } from "./cursor";

export const USER_COLUMNS = "id, email, display_name, created_at";

export const CONVERSATION_COLUMNS = "id, title, system_prompt, model, created_at, updated_at";

export const MESSAGE_COLUMNS =
  "id, conversation_id, role, content, reasoning, model, token_count, input_tokens, finish_reason, latency_ms, ttft_ms, metadata, created_at, parent_id";

const JSON_TIMESTAMP = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d(?::\d\d)?(?::\d\d)?)$/;

/**
 * A timestamptz in PostgreSQL's JSON form ("2024-05-01T12:00:00.123456+02:00": session time zone,
 * fraction trimmed) as UTC text with all six fractional digits, for keyset cursors: the API's
 * millisecond ISO string would make rows that differ only in microseconds repeat or vanish.
 */
export function microsUtc(text: string): string {
  const m = JSON_TIMESTAMP.exec(text);
  if (!m) throw new Error(`Unexpected timestamp in a JSON row: ${text}`);
  let zone = m[4]!;
  if (zone !== "Z") {
    // JS parses ±HH:MM only; second-level offsets exist only for pre-1900 local mean time.
    const digits = zone.slice(1).replace(/:/g, "");
    zone = `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || "00"}`;
  }
  const seconds = new Date(`${m[1]}T${m[2]}${zone}`);
  if (Number.isNaN(seconds.getTime())) throw new Error(`Unexpected timestamp in a JSON row: ${text}`);
  return `${seconds.toISOString().slice(0, 19)}.${(m[3] ?? "").padEnd(6, "0")}Z`;
}

type Row = Record<string, unknown>;

const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const intOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function toUser(r: Row): User {
  return { id: str(r.id), email: str(r.email), display_name: strOrNull(r.display_name), created_at: str(r.created_at) };
}

export function toConversation(r: Row): Conversation {
  return {
    id: str(r.id),
    title: strOrNull(r.title),
    system_prompt: strOrNull(r.system_prompt),
    model: str(r.model),
    created_at: str(r.created_at),
    updated_at: str(r.updated_at),
  };
}

export function toMessage(r: Row): Message {
  const metadata = typeof r.metadata === "string" ? (JSON.parse(r.metadata) as unknown) : r.metadata;
  return {
    id: str(r.id),
    conversation_id: str(r.conversation_id),
    role: r.role === "assistant" ? "assistant" : "user",
    content: str(r.content),
    // Absent from prepare_turn's history, which leaves reasoning out of every prompt.
    reasoning: r.reasoning === undefined || r.reasoning === null ? "" : str(r.reasoning),
    model: strOrNull(r.model),
    token_count: intOrNull(r.token_count),
    input_tokens: intOrNull(r.input_tokens),
    finish_reason: strOrNull(r.finish_reason) as FinishReason | null,
    latency_ms: intOrNull(r.latency_ms),
    ttft_ms: intOrNull(r.ttft_ms),
    metadata: metadata && typeof metadata === "object" ? (metadata as Record<string, unknown>) : {},
    created_at: str(r.created_at),
    parent_id: strOrNull(r.parent_id),
  };
}

/** SQLSTATE of a driver error (both pg and PGlite put it on `.code`). */
export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

// ---- rows rendered as JSON by PostgreSQL (to_jsonb / PostgREST): timestamps in ISO text with offset ----

const iso = (v: unknown): string => timestamptzToIso(String(v));

export const userFromJson = (r: Row): User => toUser({ ...r, created_at: iso(r.created_at) });

export const conversationFromJson = (r: Row): Conversation =>
  toConversation({ ...r, created_at: iso(r.created_at), updated_at: iso(r.updated_at) });

export const messageFromJson = (r: Row): Message => toMessage({ ...r, created_at: iso(r.created_at) });

/** A message of list_branch's jsonb (both adapters call it): the message, its siblings, and its cursor key. */
export const listedFromJson = (r: Row): ListedMessage & { cursor_seq: string } => {
  const ids = Array.isArray(r.sibling_ids) ? r.sibling_ids.map(str) : [str(r.id)];
  return {
    ...messageFromJson(r),
    sibling_ids: ids,
    sibling_count: ids.length,
    sibling_index: Math.max(0, ids.indexOf(str(r.id))),
    cursor_seq: str(r.cursor_seq),
  };
};

/** The jsonb that the SQL function prepare_turn returns (both adapters call it), as the port's shape. */
export function turnFromJson(
  turn: { conversation: Row; history: Row[]; user_message: Row | null; reply: Row | null; parent_found?: boolean } | null,
): TurnContext | null {
  if (!turn) return null;
  return {
    conversation: conversationFromJson(turn.conversation),
    history: turn.history.map(messageFromJson),
    idempotent: turn.user_message
      ? { user_message: messageFromJson(turn.user_message), reply: turn.reply ? messageFromJson(turn.reply) : null }
      : null,
    parent_found: turn.parent_found !== false,
  };
}

/** A row of the SQL function usage_report (both adapters call it). */
export const usageRowFrom = (r: Row): UsageRow => ({
  key: String(r.key),
  input_tokens: Number(r.input_tokens),
  output_tokens: Number(r.output_tokens),
  messages: Number(r.messages),
  title_calls: Number(r.title_calls ?? 0),
  mean_latency_ms: r.mean_latency_ms === null ? null : Number(r.mean_latency_ms),
});

// ---- access: shared by both stores (the SQL functions return the same JSON to each) ----

export const API_KEY_COLUMNS = "id, name, prefix, created_at, last_used_at, expires_at";

export function toApiKey(r: Row): ApiKeyRecord {
  return {
    id: str(r.id),
    name: strOrNull(r.name),
    prefix: str(r.prefix),
    created_at: str(r.created_at),
    last_used_at: strOrNull(r.last_used_at),
    expires_at: strOrNull(r.expires_at),
  };
}

const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));

export const apiKeyFromJson = (r: Row): ApiKeyRecord =>
  toApiKey({ ...r, created_at: iso(r.created_at), last_used_at: isoOrNull(r.last_used_at), expires_at: isoOrNull(r.expires_at) });

/** begin_reply's reservation arguments, in its parameter order (none: nothing is reserved). */
/** begin_reply's p_expect. */
export const expectArg = (v: TurnVersion | null | undefined) => (v ? { leaf: v.leaf, leaf_open: v.leaf_open ?? false, system_prompt: v.system_prompt, model: v.model } : null);

export function reservationArgs(r: BeginReservation | null | undefined) {
  return {
    p_reservation_id: r?.reservation_id ?? null,
    p_reserve_model: r?.model ?? null,
    p_reserve_tokens: r ? Math.trunc(r.tokens) : null,
    p_budget: r ? Math.trunc(r.budget) : null,
    p_since: r?.since ?? null,
    p_secret_hash: r?.secret_hash ?? null,
  };
}

/** rotate_refresh_token's jsonb. */
export function rotationFrom(r: unknown): Rotation {
  const o = (r ?? {}) as { status?: unknown; user_id?: unknown };
  if (o.status === "ok" && typeof o.user_id === "string") return { status: "ok", user_id: o.user_id };
  return { status: o.status === "reused" ? "reused" : "invalid" };
}

// ---- durable replies: the jsonb the SQL functions return, mapped once for both adapters ----

export const replyFromJson = (r: Row): StoredReply => ({
  ...messageFromJson(r),
  reasoning: str(r.reasoning ?? ""),
  cancel_requested: r.cancel_requested_at !== null && r.cancel_requested_at !== undefined,
});

export function beginFromJson(r: Row): BeginResult {
  switch (r.status) {
    case "created":
      return {
        status: "created",
        reply: messageFromJson(r.reply as Row),
        user_message: messageFromJson(r.user_message as Row),
        budget_left: r.budget_left === null || r.budget_left === undefined ? null : Number(r.budget_left),
      };
    case "moved":
      return { status: "moved" };
    case "attach":
      return { status: "attach", reply: messageFromJson(r.reply as Row) };
    case "done":
      return { status: "done", reply: r.reply ? messageFromJson(r.reply as Row) : null };
    case "busy":
      return { status: "busy", reply: messageFromJson(r.reply as Row) };
    case "over_budget":
      return { status: "over_budget", used: Number(r.used ?? 0) };
    case "too_many":
      return { status: "too_many", streaming: Number(r.streaming ?? 0) };
    default:
      return { status: "mismatch" };
  }
}

export const flushFromJson = (r: Row | null): FlushResult | null =>
  r ? { finish_reason: strOrNull(r.finish_reason) as FinishReason | null, cancel: r.cancel === true } : null;

export const cancelFromJson = (r: Row | null): CancelResult | null =>
  !r ? null : r.status === "accepted" ? { status: "accepted" } : { status: "ended", finish_reason: str(r.finish_reason) as FinishReason };

// ---- export: the jsonb of export_conversation, for both adapters ----

export function exportFromJson(r: Row | null): ConversationExport | null {
  if (!r || !r.conversation) return null;
  const messages = Array.isArray(r.messages) ? (r.messages as Row[]) : [];
  return { ...conversationFromJson(r.conversation as Row), messages: messages.map(messageFromJson) };
}

/** list_branch's jsonb as a page (both adapters): null when the conversation is not the caller's. */
export function branchPageFromJson(r: Row[] | null, limit: number, cursorOf: (seq: string) => string): Page<ListedMessage> | null {
  if (!r) return null;
  const rows = r.map(listedFromJson);
  return toPage(rows, limit, ({ cursor_seq: _, ...m }) => m, (last) => cursorOf(last.cursor_seq));
}
