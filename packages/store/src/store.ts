// The Store port, written once over an Rpc transport (rpc.ts): each operation is one call of a SQL
// function (database/schema/) and one mapper of its JSON (rows.ts). User operations never filter by
// user themselves: the transport runs them as the user, and RLS decides what they may see.
import { AppError, conflict, notFound, unauthorized, type PageRequest, type Store, type UserStore } from "@conversation-api/core";
import { decodeConversationCursor, decodeMessageCursor, encodeConversationCursor, encodeMessageCursor, isUuid, toPage } from "./cursor";
import * as rows from "./rows";
import type { Call, Rpc } from "./rpc";

/** Rethrows a failed call as what its SQLSTATE means to the API, when it means something. */
const meaning =
  (bySqlState: Record<string, (e: unknown) => Error>) =>
  (e: unknown): never => {
    throw bySqlState[rows.sqlState(e) ?? ""]?.(e) ?? e;
  };
const deletedAccount = meaning({ "23503": () => unauthorized() }); // a valid token, for an account deleted since
const conversationGone = () => notFound("Conversation");
const beginFailure = meaning({
  P0002: conversationGone, // raised by begin_reply: not the caller's conversation
  "23503": conversationGone, // deleted between the check and the insert
  "42501": conversationGone, // RLS refused the row
  "23505": (e) =>
    String((e as Error).message).includes('"messages_idempotency_key"')
      ? conflict("This Idempotency-Key was already used in this conversation")
      : conflict("A message with this id already exists"),
});
const isTrue = (r: unknown) => r === true;
const orNull = <T>(map: (r: rows.Row) => T) => (r: rows.Row | null) => (r === null ? null : map(r));

export function createStore(rpc: Rpc): Store {
  const server = rpc.server;
  return {
    createUser: (u) =>
      server("create_user", { p_email: u.email, p_password_hash: u.password_hash, p_display_name: u.display_name }).then(
        rows.userFromJson,
        meaning({ "23505": () => conflict("Email is already registered") }),
      ),
    findLogin: (email) => server("find_login", { p_email: email }).then(rows.loginFromJson),
    findLoginById: async (id) => (isUuid(id) ? rows.loginFromJson(await server("find_login_by_id", { p_user_id: id })) : null),
    createSession: (userId, tokenHash, expiresAt) =>
      server("create_session", { p_user_id: userId, p_token_hash: tokenHash, p_expires_at: expiresAt }).then(() => undefined),
    rotateSession: (tokenHash, newHash, expiresAt) =>
      server("rotate_refresh_token", { p_token_hash: tokenHash, p_new_hash: newHash, p_expires_at: expiresAt }).then(rows.rotationFrom),
    revokeSession: (tokenHash) => server("revoke_session", { p_token_hash: tokenHash }).then(isTrue),
    revokeUserSessions: async (id) => (isUuid(id) ? Number(await server("revoke_user_sessions", { p_user_id: id })) : 0),
    changePassword: async (id, hash) => isUuid(id) && isTrue(await server("change_password", { p_user_id: id, p_password_hash: hash })),
    authenticateApiKey: (keyHash) => server("authenticate_api_key", { p_key_hash: keyHash }).then((id) => (typeof id === "string" ? id : null)),
    loginRetryAfter: (t) =>
      server("login_retry_after", { p_account: t.account, p_ip: t.ip, p_window_seconds: t.windowSeconds, p_max_account: t.maxAccount, p_max_ip: t.maxIp }).then(Number),
    recordLogin: (account, ip, ok) => server("record_login", { p_account: account, p_ip: ip, p_ok: ok }).then(() => undefined),
    registerAttempt: (ip, windowSeconds, max) => server("register_attempt", { p_ip: ip, p_window_seconds: windowSeconds, p_max: max }).then(Number),
    forUser(userId, credential) {
      // auth.uid() casts the claim to uuid; anything else would fail every call obscurely.
      if (!isUuid(userId)) throw unauthorized();
      return userStore(rpc.user(userId, credential), rpc.blocksThread || rpc.inProcess === true);
    },
    health: () => rpc.health(),
    close: () => rpc.close(),
  };
}

function userStore(call: Call, writeAfterOutput: boolean): UserStore {
  // A reply's final writes come right after its last events were written. With the database in this
  // process they start a turn of the event loop later, so the response's last bytes and its end reach
  // the socket first (Node sends them once the current microtasks and ticks are done): PGlite on this
  // thread would run the query synchronously in front of them, and waking its worker thread can cost
  // this thread its core for a moment on a busy machine. Nobody can send again through another
  // instance meanwhile, and this process holds the conversation's next send until the write landed.
  // A remote database gets them at once, so they reach it before a client that saw the reply end can
  // send again through another instance.
  const afterOutput: <T>(write: () => Promise<T>) => Promise<T> = writeAfterOutput
    ? (write) => new Promise<void>((resolve) => setImmediate(resolve)).then(write)
    : (write) => write();
  /** A conversation page: its limit, and the arguments that fetch one row more after the cursor's row. */
  const keyset = (page: PageRequest) => {
    const limit = pageLimit(page.limit);
    const after = page.cursor ? decodeConversationCursor(page.cursor) : null;
    return { limit, args: { p_after_updated_at: after?.updated_at ?? null, p_after_id: after?.id ?? null, p_limit: limit + 1 } };
  };
  const conversation = orNull(rows.conversationFromJson);

  return {
    getUser: () => call("get_user", {}).then(orNull(rows.userFromJson)),
    createConversation: (c) =>
      call("create_conversation", { p_title: c.title, p_system_prompt: c.system_prompt, p_model: c.model }).then(rows.conversationFromJson, deletedAccount),
    openConversation: async (id, c) =>
      isUuid(id)
        ? call("open_conversation", { p_id: id, p_model: c.model }).then(
            (r: rows.Row | null) => (r === null ? null : { conversation: rows.conversationFromJson(r.conversation), created: r.created === true }),
            deletedAccount,
          )
        : null,
    async listConversations(page) {
      const { limit, args } = keyset(page);
      // The JSON timestamp keeps its microseconds, for the cursor.
      return toPage(await call("list_conversations", args), limit, rows.conversationFromJson, (last) =>
        encodeConversationCursor({ updated_at: rows.microsUtc(String(last.updated_at)), id: String(last.id) }),
      );
    },
    async searchConversations(query, page) {
      const { limit, args } = keyset(page);
      return toPage(await call("search_conversations", { p_query: query, ...args }, "rows"), limit, rows.conversationFromJson, (last) =>
        encodeConversationCursor({ updated_at: String(last.cursor_ts), id: String(last.id) }),
      );
    },
    setDefaultTitle: async (id, title) => isUuid(id) && isTrue(await call("set_default_title", { p_conversation_id: id, p_title: title })),
    exportConversation: async (id) => (isUuid(id) ? rows.exportFromJson(await call("export_conversation", { p_conversation_id: id })) : null),
    getConversation: async (id) => (isUuid(id) ? conversation(await call("get_conversation", { p_id: id })) : null),
    updateConversation: async (id, patch) =>
      isUuid(id) ? conversation(await call("update_conversation", { p_id: id, p_patch: { title: patch.title, system_prompt: patch.system_prompt } })) : null,
    // Its messages go with it (their foreign key cascades).
    deleteConversation: async (id) => isUuid(id) && isTrue(await call("delete_conversation", { p_id: id })),
    async listMessages(id, page) {
      if (!isUuid(id)) return null;
      const limit = pageLimit(page.limit);
      const after = page.cursor ? decodeMessageCursor(page.cursor).seq : "0";
      const branch = await call("list_branch", { p_conversation_id: id, p_after_seq: after, p_limit: limit + 1 });
      return rows.branchPageFromJson(branch, limit, (seq) => encodeMessageCursor({ seq }));
    },
    async switchBranch(id, messageId) {
      if (!isUuid(id) || !isUuid(messageId)) return null;
      const leaf = await call("switch_branch", { p_conversation_id: id, p_message_id: messageId });
      return leaf === null ? null : String(leaf);
    },
    prepareTurn: async (id, { historyLimit, idempotencyKey, parent }) =>
      isUuid(id)
        ? rows.turnFromJson(
            await call("prepare_turn", {
              p_conversation_id: id, p_history_limit: Math.max(0, Math.trunc(historyLimit)), p_idempotency_key: idempotencyKey,
              p_parent_id: parent?.parentId ?? null, p_branch: parent?.branch ?? false,
            }),
          )
        : null,
    async beginReply(b) {
      if (!isUuid(b.conversation_id)) throw notFound("Conversation");
      return call("begin_reply", {
        p_conversation_id: b.conversation_id, p_user_message_id: b.user_message_id, p_content: b.content, p_idempotency_key: b.idempotency_key,
        p_reply_id: b.reply_id, p_model: b.model, p_metadata: b.metadata, p_stale_ms: Math.trunc(b.stale_ms), p_parent_id: b.parent_id ?? null,
        p_answer_to: b.answer_to ?? null, p_input_tokens: b.input_tokens ?? null, p_branch: b.branch ?? false, ...rows.reservationArgs(b.reservation),
        p_expect: rows.expectArg(b.expect), p_max_streaming: b.max_streaming ?? null, p_tool_result: b.tool_result ?? null,
      }).then(rows.beginFromJson, beginFailure);
    },
    flushReply: (id, text, reasoning, toolText = "") =>
      call("flush_reply", { p_id: id, p_text: text, p_reasoning: reasoning, p_tool_text: toolText }).then(rows.flushFromJson),
    finishReply: (f) =>
      afterOutput(() => call("finish_reply", {
        p_id: f.id, p_text: f.text, p_reasoning: f.reasoning, p_token_count: f.token_count, p_input_tokens: f.input_tokens,
        p_finish_reason: f.finish_reason, p_latency_ms: f.latency_ms, p_ttft_ms: f.ttft_ms, p_metadata: f.metadata,
        p_tool_text: f.tool_text ?? "",
      }, "row")).then(rows.finishedFromJson),
    getReply: async (id, staleMs) => (isUuid(id) ? rows.replyFromJson(await call("get_reply", { p_id: id, p_stale_ms: Math.trunc(staleMs) })) : null),
    requestCancel: async (id, staleMs) =>
      isUuid(id) ? rows.cancelFromJson(await call("request_cancel", { p_id: id, p_stale_ms: Math.trunc(staleMs) })) : null,
    settleStaleReplies: async (id, staleMs) =>
      isUuid(id) ? Number((await call("settle_stale_replies", { p_conversation_id: id, p_stale_ms: Math.trunc(staleMs) })) ?? 0) : 0,
    usage: async (q) => (await call("usage_report", { p_from: q.from, p_to: q.to, p_group_by: q.group_by }, "rows")).map(rows.usageRowFrom),
    settleTokens: async (s) =>
      isUuid(s.reservation_id) &&
      isTrue(
        await afterOutput(() =>
          call("settle_tokens", {
            p_reservation_id: s.reservation_id, p_secret: s.secret, p_input_tokens: s.input_tokens, p_output_tokens: s.output_tokens,
            p_latency_ms: s.latency_ms, p_model: s.model ?? null,
          }),
        ),
      ),
    async reserveTitle(r) {
      const { p_reserve_model: p_model, p_reserve_tokens: p_tokens, ...rest } = rows.reservationArgs(r);
      return (await call("reserve_title", { ...rest, p_model, p_tokens }))?.status === "reserved";
    },
    async reserveCall(c) {
      const { p_reserve_model: p_model, p_reserve_tokens: p_tokens, ...rest } = rows.reservationArgs(c.reservation);
      return rows.reserveCallFromJson(
        await call("reserve_call", {
          ...rest, p_model, p_tokens, p_max_streaming: Math.trunc(c.max_streaming), p_stale_ms: Math.trunc(c.stale_ms), p_open_ms: Math.trunc(c.open_ms),
        }),
      );
    },
    createApiKey: (k) =>
      call("create_api_key", { p_name: k.name, p_prefix: k.prefix, p_key_hash: k.key_hash, p_expires_at: k.expires_at }).then(rows.apiKeyFromJson, deletedAccount),
    listApiKeys: async () => (await call("list_api_keys", {})).map(rows.apiKeyFromJson),
    revokeApiKey: async (id) => isUuid(id) && isTrue(await call("revoke_api_key", { p_id: id })),
  };
}

function pageLimit(limit: number): number {
  if (!Number.isFinite(limit)) throw new AppError("invalid_request_error", "Invalid limit");
  return Math.max(1, Math.trunc(limit));
}
