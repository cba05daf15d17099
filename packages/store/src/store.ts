// The Store port, written once over an Rpc transport (rpc.ts): each operation is one call of a SQL
// function (database/schema/) and one mapper of its JSON (rows.ts). User operations never filter by
// user themselves: the transport runs them as the user, and RLS decides what they may see.
import { AppError, conflict, notFound, unauthorized, type PageRequest, type Store, type UserStore } from "@conversation-api/core";
import { decodeConversationCursor, decodeMessageCursor, encodeConversationCursor, encodeMessageCursor, isUuid, toPage } from "./cursor";
import {
  apiKeyFromJson,
  beginFromJson,
  branchPageFromJson,
  cancelFromJson,
  conversationFromJson,
  expectArg,
  exportFromJson,
  finishedFromJson,
  flushFromJson,
  loginFromJson,
  microsUtc,
  replyFromJson,
  reservationArgs,
  rotationFrom,
  sqlState,
  turnFromJson,
  usageRowFrom,
  userFromJson,
  type Row,
} from "./rows";
import type { Call, Rpc } from "./rpc";

/** Rethrows a failed call as what its SQLSTATE means to the API, when it means something. */
const meaning =
  (bySqlState: Record<string, (e: unknown) => Error>) =>
  (e: unknown): never => {
    throw bySqlState[sqlState(e) ?? ""]?.(e) ?? e;
  };

const deletedAccount = meaning({ "23503": () => unauthorized() }); // a valid token for an account deleted since
const conversationGone = () => notFound("Conversation");
/** begin_reply's failures. */
const beginFailure = meaning({
  P0002: conversationGone, // raised by the function: not the caller's conversation
  "23503": conversationGone, // deleted between the check and the insert
  "42501": conversationGone, // RLS rejected the row
  "23505": (e) =>
    String((e as Error).message).includes('"messages_idempotency_key"')
      ? conflict("This Idempotency-Key was already used in this conversation")
      : conflict("A message with this id already exists"),
});

const isTrue = (r: unknown) => r === true;
const orNull = <T>(map: (r: Row) => T) => (r: unknown) => (r === null || r === undefined ? null : map(r as Row));

export function createStore(rpc: Rpc): Store {
  const server = rpc.server;
  return {
    createUser: (input) =>
      server("create_user", { p_email: input.email, p_password_hash: input.password_hash, p_display_name: input.display_name }).then(
        (r) => userFromJson(r as Row),
        meaning({ "23505": () => conflict("Email is already registered") }),
      ),
    findLogin: (email) => server("find_login", { p_email: email }).then((r) => loginFromJson(r as Row | null)),
    findLoginById: async (userId) => (isUuid(userId) ? loginFromJson((await server("find_login_by_id", { p_user_id: userId })) as Row | null) : null),
    createSession: async (userId, tokenHash, expiresAt) => {
      await server("create_session", { p_user_id: userId, p_token_hash: tokenHash, p_expires_at: expiresAt });
    },
    rotateSession: (tokenHash, newHash, expiresAt) =>
      server("rotate_refresh_token", { p_token_hash: tokenHash, p_new_hash: newHash, p_expires_at: expiresAt }).then(rotationFrom),
    revokeSession: (tokenHash) => server("revoke_session", { p_token_hash: tokenHash }).then(isTrue),
    changePassword: async (userId, passwordHash) =>
      isUuid(userId) && isTrue(await server("change_password", { p_user_id: userId, p_password_hash: passwordHash })),
    authenticateApiKey: (keyHash) => server("authenticate_api_key", { p_key_hash: keyHash }).then((id) => (typeof id === "string" ? id : null)),
    loginRetryAfter: (t) =>
      server("login_retry_after", { p_account: t.account, p_ip: t.ip, p_window_seconds: t.windowSeconds, p_max_account: t.maxAccount, p_max_ip: t.maxIp }).then(Number),
    recordLogin: async (account, ip, ok) => {
      await server("record_login", { p_account: account, p_ip: ip, p_ok: ok });
    },
    registerAttempt: (ip, windowSeconds, max) => server("register_attempt", { p_ip: ip, p_window_seconds: windowSeconds, p_max: max }).then(Number),
    forUser(userId, credential) {
      // auth.uid() casts the claim to uuid; anything else would fail every call obscurely.
      if (!isUuid(userId)) throw unauthorized();
      return userStore(rpc.user(userId, credential), rpc.blocksThread);
    },
    health: () => rpc.health(),
    close: () => rpc.close(),
  };
}

function userStore(call: Call, blocksThread: boolean): UserStore {
  /** A conversation page's limit and its keyset arguments (after the cursor's row, if any). */
  const keyset = (page: PageRequest) => {
    const limit = pageLimit(page.limit);
    const after = page.cursor ? decodeConversationCursor(page.cursor) : null;
    return { limit, args: { p_after_updated_at: after?.updated_at ?? null, p_after_id: after?.id ?? null, p_limit: limit + 1 } };
  };
  const conversation = orNull(conversationFromJson);

  return {
    blocksThread,
    getUser: () => call("get_user", {}).then(orNull(userFromJson)),
    createConversation: (input) =>
      call("create_conversation", { p_title: input.title, p_system_prompt: input.system_prompt, p_model: input.model }).then(
        (r) => conversationFromJson(r as Row),
        deletedAccount,
      ),
    async listConversations(page) {
      const { limit, args } = keyset(page);
      // Timestamps in their JSON form keep their microseconds, for the cursor.
      return toPage((await call("list_conversations", args)) as Row[], limit, conversationFromJson, (last) =>
        encodeConversationCursor({ updated_at: microsUtc(String(last.updated_at)), id: String(last.id) }),
      );
    },
    async searchConversations(query, page) {
      const { limit, args } = keyset(page);
      return toPage((await call("search_conversations", { p_query: query, ...args }, "rows")) as Row[], limit, conversationFromJson, (last) =>
        encodeConversationCursor({ updated_at: String(last.cursor_ts), id: String(last.id) }),
      );
    },
    setDefaultTitle: async (conversationId, title) =>
      isUuid(conversationId) && isTrue(await call("set_default_title", { p_conversation_id: conversationId, p_title: title })),
    exportConversation: async (conversationId) =>
      isUuid(conversationId) ? exportFromJson((await call("export_conversation", { p_conversation_id: conversationId })) as Row | null) : null,
    getConversation: async (id) => (isUuid(id) ? conversation(await call("get_conversation", { p_id: id })) : null),
    updateConversation: async (id, patch) =>
      isUuid(id) ? conversation(await call("update_conversation", { p_id: id, p_patch: { title: patch.title, system_prompt: patch.system_prompt } })) : null,
    // Messages go with it through the foreign key's on delete cascade.
    deleteConversation: async (id) => isUuid(id) && isTrue(await call("delete_conversation", { p_id: id })),
    async listMessages(conversationId, page) {
      if (!isUuid(conversationId)) return null;
      const limit = pageLimit(page.limit);
      const after = page.cursor ? decodeMessageCursor(page.cursor).seq : "0";
      const r = await call("list_branch", { p_conversation_id: conversationId, p_after_seq: after, p_limit: limit + 1 });
      return branchPageFromJson(r as Row[] | null, limit, (seq) => encodeMessageCursor({ seq }));
    },
    async switchBranch(conversationId, messageId) {
      if (!isUuid(conversationId) || !isUuid(messageId)) return null;
      const leaf = await call("switch_branch", { p_conversation_id: conversationId, p_message_id: messageId });
      return leaf === null || leaf === undefined ? null : String(leaf);
    },
    prepareTurn: async (conversationId, opts) =>
      isUuid(conversationId)
        ? turnFromJson(
            (await call("prepare_turn", {
              p_conversation_id: conversationId,
              p_history_limit: Math.max(0, Math.trunc(opts.historyLimit)),
              p_idempotency_key: opts.idempotencyKey,
              p_parent_id: opts.parent?.parentId ?? null,
              p_branch: opts.parent?.branch ?? false,
            })) as Row | null,
          )
        : null,
    async beginReply(input) {
      if (!isUuid(input.conversation_id)) throw notFound("Conversation");
      const args = {
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
      };
      return call("begin_reply", args).then((r) => beginFromJson(r as Row), beginFailure);
    },
    flushReply: (id, text, reasoning) => call("flush_reply", { p_id: id, p_text: text, p_reasoning: reasoning }).then((r) => flushFromJson(r as Row | null)),
    finishReply: (input) =>
      call("finish_reply", {
        p_id: input.id,
        p_text: input.text,
        p_reasoning: input.reasoning,
        p_token_count: input.token_count,
        p_input_tokens: input.input_tokens,
        p_finish_reason: input.finish_reason,
        p_latency_ms: input.latency_ms,
        p_ttft_ms: input.ttft_ms,
        p_metadata: input.metadata,
      }).then((r) => finishedFromJson(r as Row | null)),
    getReply: async (id, staleMs) => (isUuid(id) ? replyFromJson((await call("get_reply", { p_id: id, p_stale_ms: Math.trunc(staleMs) })) as Row | null) : null),
    requestCancel: async (id, staleMs) =>
      isUuid(id) ? cancelFromJson((await call("request_cancel", { p_id: id, p_stale_ms: Math.trunc(staleMs) })) as Row | null) : null,
    settleStaleReplies: async (conversationId, staleMs) =>
      isUuid(conversationId) ? Number((await call("settle_stale_replies", { p_conversation_id: conversationId, p_stale_ms: Math.trunc(staleMs) })) ?? 0) : 0,
    usage: async (query) =>
      ((await call("usage_report", { p_from: query.from, p_to: query.to, p_group_by: query.group_by }, "rows")) as Row[]).map(usageRowFrom),
    settleTokens: async (s) =>
      isUuid(s.reservation_id) &&
      isTrue(
        await call("settle_tokens", {
          p_reservation_id: s.reservation_id,
          p_secret: s.secret,
          p_input_tokens: s.input_tokens,
          p_output_tokens: s.output_tokens,
          p_latency_ms: s.latency_ms,
          p_model: s.model ?? null,
        }),
      ),
    async reserveTitle(r) {
      const { p_reserve_model, p_reserve_tokens, ...rest } = reservationArgs(r);
      const out = (await call("reserve_title", { ...rest, p_model: p_reserve_model, p_tokens: p_reserve_tokens })) as Row | null;
      return out?.status === "reserved";
    },
    createApiKey: (input) =>
      call("create_api_key", { p_name: input.name, p_prefix: input.prefix, p_key_hash: input.key_hash, p_expires_at: input.expires_at }).then(
        (r) => apiKeyFromJson(r as Row),
        deletedAccount,
      ),
    listApiKeys: async () => ((await call("list_api_keys", {})) as Row[]).map(apiKeyFromJson),
    revokeApiKey: async (id) => isUuid(id) && isTrue(await call("revoke_api_key", { p_id: id })),
  };
}

function pageLimit(limit: number): number {
  if (!Number.isFinite(limit)) throw new AppError("invalid_request_error", "Invalid limit");
  return Math.max(1, Math.trunc(limit));
}
