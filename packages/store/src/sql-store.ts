// The Store port over SQL. User-scoped operations never filter by user themselves: each runs in a
// transaction that assumes the `authenticated` role with the user's JWT claims, exactly as
// PostgREST does, and the row level security policies in database/schema/ decide what is visible.
import {
  AppError,
  conflict,
  notFound,
  unauthorized,
  type Conversation,
  type Message,
  type NewUser,
  type Page,
  type PageRequest,
  type Store,
  type TurnContext,
  type UsageQuery,
  type UsageRow,
  type User,
  type UserStore,
} from "@conversation-api/core";
import {
  decodeConversationCursor,
  decodeMessageCursor,
  encodeConversationCursor,
  encodeMessageCursor,
  isUuid,
  toPage,
} from "./cursor";
import {
  API_KEY_COLUMNS,
  apiKeyFromJson,
  expectArg,
  reservationArgs,
  rotationFrom,
  toApiKey,
  CONVERSATION_COLUMNS,
  MESSAGE_COLUMNS,
  USER_COLUMNS,
  conversationFromJson,
  microsUtc,
  sqlState,
  toConversation,
  toMessage,
  toUser,
  turnFromJson,
  beginFromJson,
  branchPageFromJson,
  cancelFromJson,
  flushFromJson,
  replyFromJson,
  usageRowFrom,
  exportFromJson,
} from "./rows";
import type { LocalSettings, SqlClient } from "./sql";

type Row = Record<string, unknown>;

export function createSqlStore(sql: SqlClient): Store {
  return {
    // Pre-auth: runs with the connection's own privileges (see database/schema/90_privileges.sql).
    async createUser(input: NewUser): Promise<User> {
      try {
        const [row] = await sql.query(
          `insert into public.users (email, password_hash, display_name) values ($1, $2, $3) returning ${USER_COLUMNS}`,
          [input.email, input.password_hash, input.display_name],
        );
        return toUser(row!);
      } catch (e) {
        if (sqlState(e) === "23505") throw conflict("Email is already registered");
        throw e;
      }
    },

    async findLogin(email: string) {
      const [row] = await sql.query(
        `select ${USER_COLUMNS}, password_hash from public.users where lower(email) = lower($1)`,
        [email],
      );
      return row ? { user: toUser(row), password_hash: String(row.password_hash) } : null;
    },

    async findLoginById(userId: string) {
      if (!isUuid(userId)) return null;
      const [row] = await sql.query(`select ${USER_COLUMNS}, password_hash from public.users where id = $1`, [userId]);
      return row ? { user: toUser(row), password_hash: String(row.password_hash) } : null;
    },

    // Sessions, API-key checks and throttling: server-only SQL functions, run with the connection's
    // own privileges like register and login. The Supabase store calls the same functions.
    async createSession(userId, tokenHash, expiresAt) {
      await sql.query("select public.create_session($1, $2, $3)", [userId, tokenHash, expiresAt]);
    },

    async rotateSession(tokenHash, newHash, expiresAt) {
      const [row] = await sql.query<{ r: Record<string, unknown> }>("select public.rotate_refresh_token($1, $2, $3) as r", [
        tokenHash,
        newHash,
        expiresAt,
      ]);
      return rotationFrom(row?.r);
    },

    async revokeSession(tokenHash) {
      const [row] = await sql.query<{ ok: boolean }>("select public.revoke_session($1) as ok", [tokenHash]);
      return row?.ok === true;
    },

    async changePassword(userId, passwordHash) {
      if (!isUuid(userId)) return false;
      const [row] = await sql.query<{ ok: boolean }>("select public.change_password($1, $2) as ok", [userId, passwordHash]);
      return row?.ok === true;
    },

    async authenticateApiKey(keyHash) {
      const [row] = await sql.query<{ user_id: string | null }>("select public.authenticate_api_key($1) as user_id", [keyHash]);
      return row?.user_id ?? null;
    },

    async loginRetryAfter(t) {
      const [row] = await sql.query<{ s: number }>("select public.login_retry_after($1, $2, $3, $4, $5) as s", [
        t.account,
        t.ip,
        t.windowSeconds,
        t.maxAccount,
        t.maxIp,
      ]);
      return Number(row?.s ?? 0);
    },

    async recordLogin(account, ip, ok) {
      await sql.query("select public.record_login($1, $2, $3)", [account, ip, ok]);
    },

    async registerAttempt(ip, windowSeconds, max) {
      const [row] = await sql.query<{ s: number }>("select public.register_attempt($1, $2, $3) as s", [ip, windowSeconds, max]);
      return Number(row?.s ?? 0);
    },

    forUser(userId: string): UserStore {
      // auth.uid() casts the claim to uuid; anything else would fail every statement obscurely.
      if (!isUuid(userId)) throw unauthorized();
      return createUserStore(sql, userId);
    },

    async health(): Promise<boolean> {
      try {
        await sql.query("select 1");
        return true;
      } catch {
        return false;
      }
    },

    close: () => sql.close(),
  };
}

function createUserStore(sql: SqlClient, userId: string): UserStore {
  const claims = JSON.stringify({ sub: userId, role: "authenticated" });
  const identity: LocalSettings = [
    ["role", "authenticated"],
    ["request.jwt.claims", claims],
  ];

  /** One statement as the user, in a transaction of its own: the identity travels with it (one round trip). */
  const userQuery = <T = Row>(text: string, params: unknown[] = []): Promise<T[]> => sql.queryAs<T>(identity, text, params);

  const one = async (text: string, params: unknown[]): Promise<Row | undefined> => (await userQuery(text, params))[0];

  const store: UserStore = {
    blocksThread: sql.blocksThread,
    async getUser() {
      const row = await one(`select ${USER_COLUMNS} from public.users where id = auth.uid()`, []);
      return row ? toUser(row) : null;
    },

    async createConversation(input) {
      try {
        // user_id defaults to auth.uid(); the insert policy would reject any other value anyway.
        const row = await one(
          `insert into public.conversations (title, system_prompt, model) values ($1, $2, $3) returning ${CONVERSATION_COLUMNS}`,
          [input.title, input.system_prompt, input.model],
        );
        return toConversation(row!);
      } catch (e) {
        // A valid token for an account that has since been deleted.
        if (sqlState(e) === "23503") throw unauthorized();
        throw e;
      }
    },

    async listConversations(page: PageRequest): Promise<Page<Conversation>> {
      const limit = pageLimit(page.limit);
      const after = page.cursor ? decodeConversationCursor(page.cursor) : null;
      // One json value, as list_conversations (database/schema/) returns it (timestamps keep microseconds,
      // for the cursor). Where the driver plans each statement once, the same query is sent directly
      // (a PL/pgSQL call costs more than it saves there); elsewhere the function's cached plans win.
      const [row] = sql.reusesPlans
        ? after
          ? await userQuery<{ page: unknown }>(LIST_AFTER, [limit + 1, after.updated_at, after.id])
          : await userQuery<{ page: unknown }>(LIST_FIRST, [limit + 1])
        : await userQuery<{ page: unknown }>("select public.list_conversations($1::timestamptz, $2::uuid, $3::integer) as page", [
            after?.updated_at ?? null,
            after?.id ?? null,
            limit + 1,
          ]);
      const rows = (json(row?.page ?? null) as unknown as Row[] | null) ?? [];
      return toPage(rows, limit, conversationFromJson, (last) =>
        encodeConversationCursor({ updated_at: microsUtc(String(last.updated_at)), id: String(last.id) }),
      );
    },

    async searchConversations(query, page): Promise<Page<Conversation>> {
      const limit = pageLimit(page.limit);
      const after = page.cursor ? decodeConversationCursor(page.cursor) : null;
      const rows = await userQuery(
        `select id, title, system_prompt, model, created_at, updated_at, cursor_ts
           from public.search_conversations($1::text, $2::timestamptz, $3::uuid, $4::integer)`,
        [query, after?.updated_at ?? null, after?.id ?? null, limit + 1],
      );
      return toPage(rows, limit, toConversation, (last) =>
        encodeConversationCursor({ updated_at: String(last.cursor_ts), id: String(last.id) }),
      );
    },

    async setDefaultTitle(conversationId, title) {
      if (!isUuid(conversationId)) return false;
      const row = await one("select public.set_default_title($1::uuid, $2::text) as set", [conversationId, title]);
      return row?.set === true;
    },

    async exportConversation(conversationId) {
      if (!isUuid(conversationId)) return null;
      const row = await one("select public.export_conversation($1::uuid) as export", [conversationId]);
      return exportFromJson(json(row?.export));
    },

    async getConversation(id) {
      if (!isUuid(id)) return null;
      const row = await one(`select ${CONVERSATION_COLUMNS} from public.conversations where id = $1`, [id]);
      return row ? toConversation(row) : null;
    },

    async updateConversation(id, patch) {
      if (!isUuid(id)) return null;
      const params: unknown[] = [id];
      const sets: string[] = [];
      for (const field of ["title", "system_prompt"] as const) {
        if (patch[field] === undefined) continue;
        params.push(patch[field]);
        sets.push(`${field} = $${params.length}`);
      }
      if (sets.length === 0) return store.getConversation(id);
      const row = await one(
        `update public.conversations set ${sets.join(", ")}, updated_at = now() where id = $1 returning ${CONVERSATION_COLUMNS}`,
        params,
      );
      return row ? toConversation(row) : null;
    },

    async deleteConversation(id) {
      if (!isUuid(id)) return false;
      // Messages go with it through the foreign key's on delete cascade.
      const row = await one("delete from public.conversations where id = $1 returning id", [id]);
      return row !== undefined;
    },

    async listMessages(conversationId, page) {
      if (!isUuid(conversationId)) return null;
      const limit = pageLimit(page.limit);
      const after = page.cursor ? decodeMessageCursor(page.cursor).seq : "0";
      // The SQL function the Supabase adapter calls too: the current branch with each message's siblings.
      const row = await one("select public.list_branch($1::uuid, $2::bigint, $3::integer) as r", [conversationId, after, limit + 1]);
      return branchPageFromJson(json(row?.r ?? null) as Record<string, unknown>[] | null, limit, (seq) => encodeMessageCursor({ seq }));
    },

    async switchBranch(conversationId, messageId) {
      if (!isUuid(conversationId) || !isUuid(messageId)) return null;
      const row = await one("select public.switch_branch($1::uuid, $2::uuid) as leaf", [conversationId, messageId]);
      return row?.leaf === null || row?.leaf === undefined ? null : String(row.leaf);
    },

    async prepareTurn(conversationId, opts): Promise<TurnContext | null> {
      if (!isUuid(conversationId)) return null;
      // The SQL function the Supabase adapter calls too: one implementation, and a cached plan.
      const [row] = await userQuery<{ turn: Parameters<typeof turnFromJson>[0] }>(
        "select public.prepare_turn($1::uuid, $2::integer, $3::text, $4::uuid, $5::boolean) as turn",
        [conversationId, Math.max(0, Math.trunc(opts.historyLimit)), opts.idempotencyKey, opts.parent?.parentId ?? null, opts.parent?.branch ?? false],
      );
      return turnFromJson(row?.turn ?? null);
    },

    async beginReply(input) {
      if (!isUuid(input.conversation_id)) throw notFound("Conversation");
      try {
        const row = await one(
          `select public.begin_reply($1::uuid, $2::uuid, $3::text, $4::text, $5::uuid, $6::text, $7::jsonb, $8::integer,
                  $9::uuid, $10::uuid, $11::integer, $12::boolean,
                  $13::uuid, $14::text, $15::integer, $16::bigint, $17::timestamptz, $18::text, $19::jsonb, $20::integer) as r`,
          [
            input.conversation_id,
            input.user_message_id,
            input.content,
            input.idempotency_key,
            input.reply_id,
            input.model,
            JSON.stringify(input.metadata),
            Math.trunc(input.stale_ms),
            input.parent_id ?? null,
            input.answer_to ?? null,
            input.input_tokens ?? null,
            input.branch ?? false,
            ...Object.values(reservationArgs(input.reservation)),
            input.expect ? JSON.stringify(expectArg(input.expect)) : null,
            input.max_streaming ?? null,
          ],
        );
        return beginFromJson(json(row!.r)!);
      } catch (e) {
        throw mapWriteError(e);
      }
    },

    async flushReply(id, text, reasoning) {
      const row = await one("select public.flush_reply($1::uuid, $2::text, $3::text) as r", [id, text, reasoning]);
      return flushFromJson(json(row?.r ?? null));
    },

    async finishReply(input) {
      const row = await one(
        `select ${MESSAGE_COLUMNS} from public.finish_reply($1::uuid, $2::text, $3::text, $4::integer, $5::integer, $6::text,
                $7::integer, $8::integer, $9::jsonb) where id is not null`,
        [
          input.id,
          input.text,
          input.reasoning,
          input.token_count,
          input.input_tokens,
          input.finish_reason,
          input.latency_ms,
          input.ttft_ms,
          JSON.stringify(input.metadata),
        ],
      );
      return row ? toMessage(row) : null;
    },

    async getReply(id, staleMs) {
      if (!isUuid(id)) return null;
      const row = await one("select public.get_reply($1::uuid, $2::integer) as r", [id, Math.trunc(staleMs)]);
      const r = json(row?.r ?? null);
      return r ? replyFromJson(r) : null;
    },

    async requestCancel(id, staleMs) {
      if (!isUuid(id)) return null;
      const row = await one("select public.request_cancel($1::uuid, $2::integer) as r", [id, Math.trunc(staleMs)]);
      return cancelFromJson(json(row?.r ?? null));
    },

    async settleStaleReplies(conversationId, staleMs) {
      if (!isUuid(conversationId)) return 0;
      const row = await one("select public.settle_stale_replies($1::uuid, $2::integer) as n", [conversationId, Math.trunc(staleMs)]);
      return Number(row?.n ?? 0);
    },

    async usage(query: UsageQuery): Promise<UsageRow[]> {
      // The same SQL function the Supabase adapter calls through PostgREST: one implementation.
      const rows = await userQuery("select * from public.usage_report($1::timestamptz, $2::timestamptz, $3)", [query.from, query.to, query.group_by]);
      return rows.map(usageRowFrom);
    },

    async settleTokens(st) {
      if (!isUuid(st.reservation_id)) return false;
      const row = await one("select public.settle_tokens($1, $2, $3, $4, $5, $6) as ok", [
        st.reservation_id,
        st.secret,
        st.input_tokens,
        st.output_tokens,
        st.latency_ms,
        st.model ?? null,
      ]);
      return row?.ok === true;
    },

    async reserveTitle(r) {
      const a = reservationArgs(r);
      const row = await one("select public.reserve_title($1::uuid, $2::text, $3::integer, $4::bigint, $5::timestamptz, $6::text) as r", [
        a.p_reservation_id, a.p_reserve_model, a.p_reserve_tokens, a.p_budget, a.p_since, a.p_secret_hash,
      ]);
      return json(row?.r)?.status === "reserved";
    },

    async createApiKey(input) {
      const row = await one("select public.create_api_key($1, $2, $3, $4) as k", [input.name, input.prefix, input.key_hash, input.expires_at]).catch(
        (e: unknown) => {
          if (sqlState(e) === "23503") throw unauthorized();
          throw e;
        },
      );
      return apiKeyFromJson(row!.k as Row);
    },

    async listApiKeys() {
      const rows = await userQuery(`select ${API_KEY_COLUMNS} from public.api_keys where revoked_at is null order by created_at desc, id desc`);
      return rows.map(toApiKey);
    },

    async revokeApiKey(id) {
      if (!isUuid(id)) return false;
      const row = await one("select public.revoke_api_key($1) as ok", [id]);
      return row?.ok === true;
    },
  };
  return store;
}

/** list_conversations' query (database/schema/), `keyset` added to its where clause, the limit as $1. */
const listPage = (keyset: string) =>
  `select coalesce(json_agg(c order by c.updated_at desc, c.id desc), '[]') as page
     from (select t.id, t.title, t.system_prompt, t.model, t.created_at, t.updated_at
             from public.conversations t
            where t.user_id = (select auth.uid()) ${keyset}
            order by t.updated_at desc, t.id desc
            limit greatest(1, least($1::integer, 101))) c`;
const LIST_FIRST = listPage("");
const LIST_AFTER = listPage("and (t.updated_at, t.id) < ($2::timestamptz, $3::uuid)");

/** jsonb comes back parsed from pg and PGlite; be tolerant of text. */
const json = (v: unknown): Row | null => (v === null || v === undefined ? null : typeof v === "string" ? (JSON.parse(v) as Row) : (v as Row));

/** What begin_reply's failures mean to the API. */
function mapWriteError(e: unknown): unknown {
  switch (sqlState(e)) {
    case "P0002": // raised by the function: not the caller's conversation
    case "23503": // deleted between the check and the insert
      return notFound("Conversation");
    case "23505": {
      const constraint = (e as { constraint?: unknown }).constraint;
      return constraint === "messages_idempotency_key"
        ? conflict("This Idempotency-Key was already used in this conversation")
        : conflict("A message with this id already exists");
    }
    case "42501": // RLS rejected the row
      return notFound("Conversation");
    default:
      return e;
  }
}

function pageLimit(limit: number): number {
  if (!Number.isFinite(limit)) throw new AppError("invalid_request_error", "Invalid limit");
  return Math.max(1, Math.trunc(limit));
}
