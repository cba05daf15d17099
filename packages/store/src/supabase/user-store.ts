// The UserStore port over PostgREST, on behalf of one user. Every request carries that user's own
// short-lived token (see token.ts), so the database's RLS policies scope it: nothing here filters by
// user for safety's sake. Multi-step writes and multi-part reads are the SQL functions in
// database/schema/, called through /rpc, so both adapters share one implementation of them.
import type { Conversation, Message, Page, TurnContext, UsageRow, UserStore } from "@conversation-api/core";
import { AppError, notFound, unauthorized } from "@conversation-api/core";
import type { DataClient as SupabaseClient } from "./clients";
import {
  decodeConversationCursor,
  decodeMessageCursor,
  encodeConversationCursor,
  encodeMessageCursor,
  isUuid,
  toPage,
} from "../cursor";
import { SupabaseRequestError, appendMessageError, createConversationError, type PostgrestFailure } from "./errors";
import { CONVERSATION_SELECT, MESSAGE_SELECT, USER_SELECT, conversationFromJson, messageFromJson, microsUtc, userFromJson } from "./rows";
import {
  API_KEY_COLUMNS,
  apiKeyFromJson,
  beginFromJson,
  branchPageFromJson,
  cancelFromJson,
  exportFromJson,
  flushFromJson,
  messageFromJson as messageFromSqlJson,
  replyFromJson,
  expectArg,
  reservationArgs,
  turnFromJson,
  usageRowFrom,
} from "../rows";

type Row = Record<string, unknown>;
type Result<T> = PromiseLike<{ data: T | null; error: PostgrestFailure | null }>;

/** Awaits a supabase-js query: its data, or `onError`'s error (by default a SupabaseRequestError). */
async function run<T>(
  operation: string,
  query: Result<T>,
  onError: (e: PostgrestFailure) => Error = (e) => new SupabaseRequestError(operation, e),
): Promise<T | null> {
  const { data, error } = await query;
  if (error) throw onError(error);
  return data;
}

const rows = (data: unknown): Row[] => (Array.isArray(data) ? (data as Row[]) : []);

export function createSupabaseUserStore(db: SupabaseClient, userId: string): UserStore {
  const conversations = () => db.from("conversations");

  const store: UserStore = {
    async getUser() {
      const [row] = rows(await run("getUser", db.from("users").select(USER_SELECT).eq("id", userId)));
      return row ? userFromJson(row) : null;
    },

    async createConversation(input) {
      // user_id defaults to auth.uid() in the table; the insert policy would reject any other value.
      const data = await run(
        "createConversation",
        conversations().insert({ title: input.title, system_prompt: input.system_prompt, model: input.model }).select(CONVERSATION_SELECT),
        createConversationError,
      );
      return conversationFromJson(rows(data)[0]!);
    },

    async listConversations(page): Promise<Page<Conversation>> {
      const limit = pageLimit(page.limit);
      const after = page.cursor ? decodeConversationCursor(page.cursor) : null;
      let query = conversations().select(CONVERSATION_SELECT);
      if (after) {
        // Keyset: (updated_at, id) < (t, id). Quoted because the timestamp contains ':' and '.',
        // which PostgREST's logic-tree syntax reserves.
        const t = `"${after.updated_at}"`;
        query = query.or(`updated_at.lt.${t},and(updated_at.eq.${t},id.lt.${after.id})`);
      }
      const found = rows(
        await run("listConversations", query.order("updated_at", { ascending: false }).order("id", { ascending: false }).limit(limit + 1)),
      );
      return toPage(found, limit, conversationFromJson, (last) =>
        encodeConversationCursor({ updated_at: microsUtc(String(last.updated_at)), id: String(last.id) }),
      );
    },

    async searchConversations(query, page): Promise<Page<Conversation>> {
      const limit = pageLimit(page.limit);
      const after = page.cursor ? decodeConversationCursor(page.cursor) : null;
      // Full-text search is one SQL function for both adapters: PostgREST's fts operators filter a
      // single table, and a match may be in any of the conversation's messages.
      const found = rows(
        await run(
          "searchConversations",
          db.rpc("search_conversations", {
            p_query: query,
            p_after_updated_at: after?.updated_at ?? null,
            p_after_id: after?.id ?? null,
            p_limit: limit + 1,
          }),
        ),
      );
      return toPage(found, limit, conversationFromJson, (last) =>
        encodeConversationCursor({ updated_at: String(last.cursor_ts), id: String(last.id) }),
      );
    },

    async setDefaultTitle(conversationId, title) {
      if (!isUuid(conversationId)) return false;
      return (await run("setDefaultTitle", db.rpc("set_default_title", { p_conversation_id: conversationId, p_title: title }))) === true;
    },

    async exportConversation(conversationId) {
      if (!isUuid(conversationId)) return null;
      return exportFromJson((await run("exportConversation", db.rpc("export_conversation", { p_conversation_id: conversationId }))) as Row | null);
    },

    async getConversation(id) {
      if (!isUuid(id)) return null;
      const [row] = rows(await run("getConversation", conversations().select(CONVERSATION_SELECT).eq("id", id)));
      return row ? conversationFromJson(row) : null;
    },

    async updateConversation(id, patch) {
      if (!isUuid(id)) return null;
      const changes: Row = {};
      for (const field of ["title", "system_prompt"] as const) if (patch[field] !== undefined) changes[field] = patch[field];
      if (Object.keys(changes).length === 0) return store.getConversation(id);
      // 'now' is PostgreSQL's special timestamp input for the transaction's start time, i.e. now()
      // on the database's clock, which orders it correctly against the reply functions' bumps.
      changes.updated_at = "now";
      const [row] = rows(await run("updateConversation", conversations().update(changes).eq("id", id).select(CONVERSATION_SELECT)));
      return row ? conversationFromJson(row) : null;
    },

    async deleteConversation(id) {
      if (!isUuid(id)) return false;
      // Messages go with it through the foreign key's on delete cascade.
      return rows(await run("deleteConversation", conversations().delete().eq("id", id).select("id"))).length > 0;
    },

    async listMessages(conversationId, page) {
      if (!isUuid(conversationId)) return null;
      const limit = pageLimit(page.limit);
      const after = page.cursor ? decodeMessageCursor(page.cursor).seq : "0";
      const r = await run("listMessages", db.rpc("list_branch", { p_conversation_id: conversationId, p_after_seq: after, p_limit: limit + 1 }));
      return branchPageFromJson(r as Row[] | null, limit, (seq) => encodeMessageCursor({ seq }));
    },

    async switchBranch(conversationId, messageId) {
      if (!isUuid(conversationId) || !isUuid(messageId)) return null;
      const r = await run("switchBranch", db.rpc("switch_branch", { p_conversation_id: conversationId, p_message_id: messageId }));
      return r === null || r === undefined ? null : String(r);
    },

    async prepareTurn(conversationId, opts): Promise<TurnContext | null> {
      if (!isUuid(conversationId)) return null;
      const turn = (await run(
        "prepareTurn",
        db.rpc("prepare_turn", {
          p_conversation_id: conversationId,
          p_history_limit: Math.max(0, Math.trunc(opts.historyLimit)),
          p_idempotency_key: opts.idempotencyKey,
          p_parent_id: opts.parent?.parentId ?? null,
          p_branch: opts.parent?.branch ?? false,
        }),
      )) as Parameters<typeof turnFromJson>[0];
      return turnFromJson(turn);
    },

    async beginReply(input) {
      if (!isUuid(input.conversation_id)) throw notFound("Conversation");
      const r = await run(
        "beginReply",
        db.rpc("begin_reply", {
          p_conversation_id: input.conversation_id,
          p_user_message_id: input.user_message_id,
          p_content: input.content,
          p_idempotency_key: input.idempotency_key,
          p_reply_id: input.reply_id,
          p_model: input.model,
          p_metadata: input.metadata,
          p_stale_ms: Math.trunc(input.stale_ms),
          p_parent_id: input.parent_id ?? null,
          p_answer_to: input.answer_to ?? null,
          p_input_tokens: input.input_tokens ?? null,
          p_branch: input.branch ?? false,
          ...reservationArgs(input.reservation),
          p_expect: expectArg(input.expect),
          p_max_streaming: input.max_streaming ?? null,
        }),
        (e) => appendMessageError("beginReply", e),
      );
      return beginFromJson(r as Row);
    },

    async flushReply(id, text, reasoning) {
      const r = await run("flushReply", db.rpc("flush_reply", { p_id: id, p_text: text, p_reasoning: reasoning }));
      return flushFromJson(r as Row | null);
    },

    async finishReply(input) {
      const r = await run(
        "finishReply",
        db.rpc("finish_reply", {
          p_id: input.id,
          p_text: input.text,
          p_reasoning: input.reasoning,
          p_token_count: input.token_count,
          p_input_tokens: input.input_tokens,
          p_finish_reason: input.finish_reason,
          p_latency_ms: input.latency_ms,
          p_ttft_ms: input.ttft_ms,
          p_metadata: input.metadata,
        }),
      );
      // A composite-returning function gives a row of nulls when it returned null.
      const row = r as Row | null;
      return row && row.id ? messageFromSqlJson(row) : null;
    },

    async getReply(id, staleMs) {
      if (!isUuid(id)) return null;
      const r = await run("getReply", db.rpc("get_reply", { p_id: id, p_stale_ms: Math.trunc(staleMs) }));
      return r ? replyFromJson(r as Row) : null;
    },

    async requestCancel(id, staleMs) {
      if (!isUuid(id)) return null;
      const r = await run("requestCancel", db.rpc("request_cancel", { p_id: id, p_stale_ms: Math.trunc(staleMs) }));
      return cancelFromJson(r as Row | null);
    },

    async settleStaleReplies(conversationId, staleMs) {
      if (!isUuid(conversationId)) return 0;
      const r = await run(
        "settleStaleReplies",
        db.rpc("settle_stale_replies", { p_conversation_id: conversationId, p_stale_ms: Math.trunc(staleMs) }),
      );
      return Number(r ?? 0);
    },

    async usage(query): Promise<UsageRow[]> {
      const data = await run("usage", db.rpc("usage_report", { p_from: query.from, p_to: query.to, p_group_by: query.group_by }));
      return rows(data).map(usageRowFrom);
    },

    // ---- access: the same SQL functions the SQL store calls ----
    async settleTokens(st) {
      if (!isUuid(st.reservation_id)) return false;
      const data = await run(
        "settleTokens",
        db.rpc("settle_tokens", {
          p_reservation_id: st.reservation_id,
          p_secret: st.secret,
          p_input_tokens: st.input_tokens,
          p_output_tokens: st.output_tokens,
          p_latency_ms: st.latency_ms,
          p_model: st.model ?? null,
        }),
      );
      return data === true;
    },

    async reserveTitle(r) {
      const a = reservationArgs(r);
      const data = await run(
        "reserveTitle",
        db.rpc("reserve_title", {
          p_reservation_id: a.p_reservation_id,
          p_model: a.p_reserve_model,
          p_tokens: a.p_reserve_tokens,
          p_budget: a.p_budget,
          p_since: a.p_since,
          p_secret_hash: a.p_secret_hash,
        }),
      );
      return (data as Row | null)?.status === "reserved";
    },

    async createApiKey(input) {
      const data = await run(
        "createApiKey",
        db.rpc("create_api_key", { p_name: input.name, p_prefix: input.prefix, p_key_hash: input.key_hash, p_expires_at: input.expires_at }),
        (e) => (e.code === "23503" ? unauthorized() : new SupabaseRequestError("createApiKey", e)),
      );
      return apiKeyFromJson(data as Row);
    },

    async listApiKeys() {
      const data = await run(
        "listApiKeys",
        db
          .from("api_keys")
          .select(API_KEY_COLUMNS.replace(/\s+/g, ""))
          .is("revoked_at", null)
          .order("created_at", { ascending: false })
          .order("id", { ascending: false }),
      );
      return rows(data).map(apiKeyFromJson);
    },

    async revokeApiKey(id) {
      if (!isUuid(id)) return false;
      return (await run("revokeApiKey", db.rpc("revoke_api_key", { p_id: id }))) === true;
    },
  };
  return store;
}

function pageLimit(limit: number): number {
  if (!Number.isFinite(limit)) throw new AppError("invalid_request_error", "Invalid limit");
  return Math.max(1, Math.trunc(limit));
}
