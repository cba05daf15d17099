// The JSON the SQL functions return (database/schema/), as the API's shapes. Both transports hand
// over PostgreSQL's own JSON rendering: timestamptz as "2024-05-01T12:00:00.123456+02:00" (session
// time zone, fraction trimmed), integers as numbers, jsonb as JSON. So a mapper lists the shape's
// fields (nothing else of a row gets through) and turns its timestamps into the API's ISO form.
import type { ApiKeyRecord, BeginReservation, BeginResult, CancelResult, Conversation, ConversationExport, FlushResult } from "@conversation-api/core";
import type { ListedMessage, Message, Page, ReserveCallResult, Rotation, StoredReply, TurnContext, TurnVersion, UsageRow, User } from "@conversation-api/core";
import { toolUseBlocks } from "@conversation-api/core";
import { toPage } from "./cursor";
import { timestamptzToIso as iso } from "./sql";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON as PostgreSQL typed it; each mapper states what it yields
export type Row = Record<string, any>;

const isoOrNull = (v: string | null) => (v === null ? null : iso(v));

export const userFromJson = (r: Row): User => ({ id: r.id, email: r.email, display_name: r.display_name, created_at: iso(r.created_at) });
export const conversationFromJson = (r: Row): Conversation => ({
  id: r.id, title: r.title, system_prompt: r.system_prompt, model: r.model, created_at: iso(r.created_at), updated_at: iso(r.updated_at),
});
export const apiKeyFromJson = (r: Row): ApiKeyRecord => ({
  id: r.id, name: r.name, prefix: r.prefix, created_at: iso(r.created_at), last_used_at: isoOrNull(r.last_used_at), expires_at: isoOrNull(r.expires_at),
});
export const usageRowFrom = (r: Row): UsageRow => ({
  key: r.key, input_tokens: r.input_tokens, output_tokens: r.output_tokens, messages: r.messages, title_calls: r.title_calls, mean_latency_ms: r.mean_latency_ms,
});
export const messageFromJson = (r: Row): Message => ({
  id: r.id, conversation_id: r.conversation_id, role: r.role, content: r.content, reasoning: r.reasoning ?? "", model: r.model, token_count: r.token_count,
  input_tokens: r.input_tokens, finish_reason: r.finish_reason, latency_ms: r.latency_ms, ttft_ms: r.ttft_ms, metadata: r.metadata, created_at: iso(r.created_at),
  parent_id: r.parent_id, // prepare_turn's history leaves reasoning out: it never goes back into a prompt
  // Only a reply that called tools has the field: every other message reads as it always did.
  ...(r.tool_text ? { tool_use: toolUseBlocks(r.tool_text) } : {}),
  ...(r.tool_result ? { tool_result: r.tool_result } : {}),
});

/** find_login's account and its password hash. */
export const loginFromJson = (r: Row | null) => (r ? { user: userFromJson(r), password_hash: String(r.password_hash) } : null);

/** finish_reply returns a messages row: a row of nulls (or null) when it stored nothing. */
export const finishedFromJson = (r: Row | null): Message | null => (r?.id ? messageFromJson(r) : null);

/** A timestamp of a JSON row as UTC text with all six fractional digits: a keyset cursor must not round. */
export function microsUtc(text: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d(?::\d\d)?(?::\d\d)?)$/.exec(text);
  // Whole seconds through Date, which reads ±HH:MM offsets only (second-level ones predate 1900).
  const seconds = m ? new Date(`${m[1]}${m[3] === "Z" ? "Z" : `${m[3]}:00`.slice(0, 6)}`) : null;
  if (!seconds || Number.isNaN(seconds.getTime())) throw new Error(`Unexpected timestamp in a JSON row: ${text}`);
  return `${seconds.toISOString().slice(0, 19)}.${(m![2] ?? "").padEnd(6, "0")}Z`;
}

/** list_branch's page: the current branch with each message's siblings; null when the conversation is not the caller's. */
export function branchPageFromJson(r: Row[] | null, limit: number, cursorOf: (seq: string) => string): Page<ListedMessage> | null {
  if (!r) return null;
  const listed = (m: Row): ListedMessage => {
    const ids: string[] = m.sibling_ids ?? [m.id];
    return { ...messageFromJson(m), sibling_ids: ids, sibling_count: ids.length, sibling_index: Math.max(0, ids.indexOf(m.id)) };
  };
  return toPage(r, limit, listed, (last) => cursorOf(String(last.cursor_seq)));
}

/** prepare_turn's jsonb. */
export function turnFromJson(r: Row | null): TurnContext | null {
  if (!r) return null;
  const { conversation, history, user_message, reply, parent_found } = r;
  return {
    conversation: conversationFromJson(conversation),
    history: (history as Row[]).map(messageFromJson),
    idempotent: user_message ? { user_message: messageFromJson(user_message), reply: reply ? messageFromJson(reply) : null } : null,
    parent_found: parent_found !== false,
  };
}

/** A reservation as begin_reply's arguments (none: nothing is reserved). */
export const reservationArgs = (r: BeginReservation | null | undefined) => ({
  p_reservation_id: r?.reservation_id ?? null,
  p_reserve_model: r?.model ?? null,
  p_reserve_tokens: r ? Math.trunc(r.tokens) : null,
  p_budget: r ? Math.trunc(r.budget) : null,
  p_since: r?.since ?? null,
  p_secret_hash: r?.secret_hash ?? null,
});

/** begin_reply's p_expect. */
export const expectArg = (v: TurnVersion | null | undefined) =>
  v ? { leaf: v.leaf, leaf_open: v.leaf_open ?? false, system_prompt: v.system_prompt, model: v.model } : null;

/** rotate_refresh_token's jsonb. */
export const rotationFrom = (r: { status?: unknown; user_id?: unknown } | null): Rotation =>
  r?.status === "ok" && typeof r.user_id === "string" ? { status: "ok", user_id: r.user_id } : { status: r?.status === "reused" ? "reused" : "invalid" };

export const replyFromJson = (r: Row | null): StoredReply | null =>
  r ? { ...messageFromJson(r), cancel_requested: r.cancel_requested_at !== null && r.cancel_requested_at !== undefined, tool_text: r.tool_text ?? "" } : null;

export function beginFromJson(r: Row): BeginResult {
  const reply = r.reply ? messageFromJson(r.reply) : null;
  switch (r.status) {
    case "created":
      return { status: "created", reply: reply!, user_message: messageFromJson(r.user_message), budget_left: r.budget_left ?? null };
    case "attach":
    case "busy":
      return { status: r.status, reply: reply! };
    case "done":
      return { status: "done", reply };
    case "moved":
      return { status: "moved" };
    case "over_budget":
      return { status: "over_budget", used: r.used ?? 0 };
    case "too_many":
      return { status: "too_many", streaming: r.streaming ?? 0 };
    case "tool_results":
      return { status: "tool_results", unknown: r.unknown ?? [], missing: r.missing ?? [], calls: r.calls ?? [] };
    default:
      return { status: "mismatch" };
  }
}

export function reserveCallFromJson(r: Row): ReserveCallResult {
  switch (r?.status) {
    case "reserved":
      return { status: "reserved" };
    case "over_budget":
      return { status: "over_budget", used: Number(r.used ?? 0) };
    case "too_many":
      return { status: "too_many", streaming: Number(r.streaming ?? 0) };
    default:
      throw new Error(`reserve_call answered ${JSON.stringify(r)}`);
  }
}

export const flushFromJson = (r: Row | null): FlushResult | null =>
  r ? { finish_reason: r.finish_reason ?? null, cancel: r.cancel === true } : null;

export const cancelFromJson = (r: Row | null): CancelResult | null =>
  !r ? null : r.status === "accepted" ? { status: "accepted" } : { status: "ended", finish_reason: r.finish_reason };

/** export_conversation's jsonb: null when the conversation is not the caller's. */
export const exportFromJson = (r: Row | null): ConversationExport | null =>
  r?.conversation ? { ...conversationFromJson(r.conversation), messages: ((r.messages ?? []) as Row[]).map(messageFromJson) } : null;

/** SQLSTATE of a failed call: the drivers' errors and PostgREST's both carry it as `code`. */
export const sqlState = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
};
