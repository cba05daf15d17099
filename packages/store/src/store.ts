// The Store port, written once over an Rpc transport (rpc.ts): each operation is one call of a SQL
// function (database/schema/) and one mapper of its JSON (rows.ts). User operations never filter by
// user themselves: the transport runs them as the user, and RLS decides what they may see.
import { AppError, conflict, notFound, unauthorized, type PageRequest, type Store, type UserStore } from "@conversation-api/core";
import { decodeConversationCursor, decodeMessageCursor, encodeConversationCursor, encodeMessageCursor, isUuid, toPage } from "./cursor";
import * as rows from "./rows";
import type { Call, Rpc, RpcArgs } from "./rpc";

/**
 * Rethrows a failed call as what its SQLSTATE means to the API, when it means something. The drivers'
 * errors and PostgREST's both carry the SQLSTATE as `code`.
 */
const meaning =
  (bySqlState: Record<string, (e: unknown) => Error>) =>
  (e: unknown): never => {
    throw bySqlState[String((e as { code?: unknown } | null)?.code)]?.(e) ?? e;
  };
const deletedAccount = meaning({ "23503": () => unauthorized() }); // a valid token, for an account deleted since
const emailTaken = meaning({ "23505": () => conflict("Email is already registered") });
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
/** An id that is not a uuid names no row: `none`, without a call whose uuid cast would fail. */
const ifUuid = async <T>(id: string, none: T, call: () => Promise<T>): Promise<T> => (isUuid(id) ? call() : none);

export function createStore(rpc: Rpc): Store {
  const server = rpc.server;
  return {
    createUser: (u) =>
      server("create_user", { p_email: u.email, p_password_hash: u.password_hash, p_display_name: u.display_name }).then(rows.userFromJson, emailTaken),
    findLogin: (email) => server("find_login", { p_email: email }).then(rows.loginFromJson),
    findLoginById: (id) => ifUuid(id, null, () => server("find_login_by_id", { p_user_id: id }).then(rows.loginFromJson)),
    createSession: (userId, tokenHash, expiresAt) =>
      server("create_session", { p_user_id: userId, p_token_hash: tokenHash, p_expires_at: expiresAt }).then(() => undefined),
    rotateSession: (tokenHash, newHash, expiresAt) =>
      server("rotate_refresh_token", { p_token_hash: tokenHash, p_new_hash: newHash, p_expires_at: expiresAt }).then(rows.rotationFrom),
    revokeSession: (tokenHash) => server("revoke_session", { p_token_hash: tokenHash }).then(isTrue),
    revokeUserSessions: (id) => ifUuid(id, 0, () => server("revoke_user_sessions", { p_user_id: id }).then(Number)),
    changePassword: (id, hash) => ifUuid(id, false, () => server("change_password", { p_user_id: id, p_password_hash: hash }).then(isTrue)),
    authenticateApiKey: (keyHash) => server("authenticate_api_key", { p_key_hash: keyHash }).then((id) => (typeof id === "string" ? id : null)),
    loginRetryAfter: (t) =>
      server("login_retry_after", { p_account: t.account, p_ip: t.ip, p_window_seconds: t.windowSeconds, p_max_account: t.maxAccount, p_max_ip: t.maxIp }).then(Number),
    recordLogin: (account, ip, ok) => server("record_login", { p_account: account, p_ip: ip, p_ok: ok }).then(() => undefined),
    registerAttempt: (ip, windowSeconds, max) => server("register_attempt", { p_ip: ip, p_window_seconds: windowSeconds, p_max: max }).then(Number),
    forUser(userId, credential) {
      // auth.uid() casts the claim to uuid; anything else would fail every call obscurely.
      if (!isUuid(userId)) throw unauthorized();
      return userStore(rpc.user(userId, credential), rpc.inProcess === true);
    },
    health: () => rpc.health(),
    close: () => rpc.close(),
  };
}

/**
 * A reply's final writes come right after its last events were written. With the database in this
 * process they start a turn of the event loop later, so the response's last bytes and its end reach
 * the socket first (Node sends them once the current microtasks and ticks are done): PGlite on this
 * thread would run the query synchronously in front of them, and waking its worker thread can cost
 * this thread its core for a moment on a busy machine. Nobody can send again through another
 * instance meanwhile, and this process holds the conversation's next send until the write landed.
 * A remote database gets them at once, so they reach it before a client that saw the reply end can
 * send again through another instance.
 */
const afterOutputLater = <T>(write: () => Promise<T>): Promise<T> => new Promise<void>((resolve) => setImmediate(resolve)).then(write);
const atOnce = <T>(write: () => Promise<T>): Promise<T> => write();
const conversation = orNull(rows.conversationFromJson);
const user = orNull(rows.userFromJson);

/** A page of conversations from `fn`: one row more than the limit, after the cursor's row; `cursorTs` gives a row's cursor timestamp. */
async function conversations(call: Call, fn: string, args: RpcArgs, page: PageRequest, returns: "rows" | undefined, cursorTs: (last: rows.Row) => string) {
  const limit = pageLimit(page.limit);
  const after = page.cursor ? decodeConversationCursor(page.cursor) : null;
  const fetched = await call(fn, { ...args, p_after_updated_at: after?.updated_at ?? null, p_after_id: after?.id ?? null, p_limit: limit + 1 }, returns);
  return toPage(fetched, limit, rows.conversationFromJson, (last) => encodeConversationCursor({ updated_at: cursorTs(last), id: String(last.id) }));
}
/** The JSON timestamp keeps its microseconds, for the cursor. */
const listCursorTs = (last: rows.Row) => rows.microsUtc(String(last.updated_at));
const searchCursorTs = (last: rows.Row) => String(last.cursor_ts);

/**
 * Built for every signed-in request, so it holds methods rather than arrow-valued properties: where
 * esbuild keeps names (tsx, which runs `npm start`) each arrow property costs a defineProperty call for
 * its name, which for this object was a measurable share of a small request's CPU.
 */
function userStore(call: Call, writeAfterOutput: boolean): UserStore {
  const afterOutput = writeAfterOutput ? afterOutputLater : atOnce;
  return {
    getUser() { return call("get_user", {}).then(user); },
    createConversation(c) { return call("create_conversation", { p_title: c.title, p_system_prompt: c.system_prompt, p_model: c.model }).then(rows.conversationFromJson, deletedAccount); },
    openConversation(id, c) { return ifUuid(id, null, () => call("open_conversation", { p_id: id, p_model: c.model }).then(rows.openedFromJson, deletedAccount)); },
    listConversations(page) { return conversations(call, "list_conversations", {}, page, undefined, listCursorTs); },
    searchConversations(query, page) { return conversations(call, "search_conversations", { p_query: query }, page, "rows", searchCursorTs); },
    setDefaultTitle(id, title) { return ifUuid(id, false, () => call("set_default_title", { p_conversation_id: id, p_title: title }).then(isTrue)); },
    exportConversation(id) { return ifUuid(id, null, () => call("export_conversation", { p_conversation_id: id }).then(rows.exportFromJson)); },
    getConversation(id) { return ifUuid(id, null, () => call("get_conversation", { p_id: id }).then(conversation)); },
    updateConversation(id, { title, system_prompt }) { return ifUuid(id, null, () => call("update_conversation", { p_id: id, p_patch: { title, system_prompt } }).then(conversation)); },
    // Its messages go with it (their foreign key cascades).
    deleteConversation(id) { return ifUuid(id, false, () => call("delete_conversation", { p_id: id }).then(isTrue)); },
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
    prepareTurn(id, { historyLimit, idempotencyKey, parent }) {
      return ifUuid(id, null, () => call("prepare_turn", {
        p_conversation_id: id, p_history_limit: Math.max(0, Math.trunc(historyLimit)), p_idempotency_key: idempotencyKey,
        p_parent_id: parent?.parentId ?? null, p_branch: parent?.branch ?? false,
      }).then(rows.turnFromJson));
    },
    async beginReply(b) {
      if (!isUuid(b.conversation_id)) throw notFound("Conversation");
      return call("begin_reply", {
        p_conversation_id: b.conversation_id, p_user_message_id: b.user_message_id, p_content: b.content, p_idempotency_key: b.idempotency_key,
        p_reply_id: b.reply_id, p_model: b.model, p_metadata: b.metadata, p_stale_ms: Math.trunc(b.stale_ms), p_parent_id: b.parent_id ?? null,
        p_answer_to: b.answer_to ?? null, p_input_tokens: b.input_tokens ?? null, p_branch: b.branch ?? false, ...rows.reservationArgs(b.reservation),
        p_expect: rows.expectArg(b.expect), p_max_streaming: b.max_streaming ?? null, p_tool_result: b.tool_result ?? null,
      }).then(rows.beginFromJson, beginFailure);
    },
    flushReply(id, text, reasoning, toolText = "") { return call("flush_reply", { p_id: id, p_text: text, p_reasoning: reasoning, p_tool_text: toolText }).then(rows.flushFromJson); },
    finishReply(f) {
      return afterOutput(() => call("finish_reply", {
        p_id: f.id, p_text: f.text, p_reasoning: f.reasoning, p_token_count: f.token_count, p_input_tokens: f.input_tokens,
        p_finish_reason: f.finish_reason, p_latency_ms: f.latency_ms, p_ttft_ms: f.ttft_ms, p_metadata: f.metadata,
        p_tool_text: f.tool_text ?? "",
      }, "row")).then(rows.finishedFromJson);
    },
    getReply(id, staleMs) { return ifUuid(id, null, () => call("get_reply", { p_id: id, p_stale_ms: Math.trunc(staleMs) }).then(rows.replyFromJson)); },
    requestCancel(id, staleMs) { return ifUuid(id, null, () => call("request_cancel", { p_id: id, p_stale_ms: Math.trunc(staleMs) }).then(rows.cancelFromJson)); },
    settleStaleReplies(id, staleMs) { return ifUuid(id, 0, () => call("settle_stale_replies", { p_conversation_id: id, p_stale_ms: Math.trunc(staleMs) }).then((n) => Number(n ?? 0))); },
    async usage(q) { return (await call("usage_report", { p_from: q.from, p_to: q.to, p_group_by: q.group_by }, "rows")).map(rows.usageRowFrom); },
    settleTokens(s) {
      return ifUuid(s.reservation_id, false, () => afterOutput(() => call("settle_tokens", {
        p_reservation_id: s.reservation_id, p_secret: s.secret, p_input_tokens: s.input_tokens, p_output_tokens: s.output_tokens,
        p_latency_ms: s.latency_ms, p_model: s.model ?? null,
      })).then(isTrue));
    },
    async reserveTitle(r) { return (await call("reserve_title", rows.reservationArgs(r, "p_model", "p_tokens")))?.status === "reserved"; },
    async reserveCall(c) {
      return rows.reserveCallFromJson(
        await call("reserve_call", {
          ...rows.reservationArgs(c.reservation, "p_model", "p_tokens"),
          p_max_streaming: Math.trunc(c.max_streaming), p_stale_ms: Math.trunc(c.stale_ms), p_open_ms: Math.trunc(c.open_ms),
        }),
      );
    },
    createApiKey(k) { return call("create_api_key", { p_name: k.name, p_prefix: k.prefix, p_key_hash: k.key_hash, p_expires_at: k.expires_at }).then(rows.apiKeyFromJson, deletedAccount); },
    async listApiKeys() { return (await call("list_api_keys", {})).map(rows.apiKeyFromJson); },
    revokeApiKey(id) { return ifUuid(id, false, () => call("revoke_api_key", { p_id: id }).then(isTrue)); },
  };
}

function pageLimit(limit: number): number {
  if (!Number.isFinite(limit)) throw new AppError("invalid_request_error", "Invalid limit");
  return Math.max(1, Math.trunc(limit));
}
