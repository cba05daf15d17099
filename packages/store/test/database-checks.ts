// Proves in plain SQL, below the store, that the database itself enforces per-user isolation: even
// a buggy query run as the `authenticated` role cannot read or write another user's rows.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { migrate, readMigrations, type SqlClient, type SqlTx } from "../src/index";

/** The tool names of a reply's stored calls, as the search index and search_conversations write them. */
const TOOL_NAMES = "to_tsvector('simple'::regconfig, regexp_replace(tool_text, '\\x1e[^\\x1f]*\\x1f([^\\x1f]*)\\x1f[^\\x1e]*', ' \\1 ', 'g'))";

const TABLES = ["users", "conversations", "messages", "api_keys"] as const;

// Every function `authenticated` may execute is callable by any user through PostgREST's /rest/v1/rpc,
// so this is the whole list: each must be something the API calls, safe in any user's hands.
const USER_CALLABLE = [
  "begin_reply",
  "branch_path",
  "conversation_leaf",
  "create_api_key",
  "create_conversation",
  "delete_conversation",
  "export_conversation",
  "finish_reply",
  "flush_reply",
  "get_conversation",
  "get_reply",
  "get_user",
  "list_api_keys",
  "list_branch",
  "list_conversations",
  "open_conversation",
  "prepare_turn",
  "request_cancel",
  "reserve_call",
  "reserve_title",
  "revoke_api_key",
  "search_conversations",
  "set_default_title",
  "settle_stale_replies",
  "settle_tokens",
  "switch_branch",
  "update_conversation",
  "usage_report",
] as const;

/**
 * `fresh` opens an empty database (not migrated) for the checks that need one; the caller closes
 * nothing: the checks close what it returns.
 */
export function describeDatabaseChecks(name: string, getSql: () => SqlClient, fresh?: () => Promise<SqlClient>): void {
  describe(`database checks: ${name}`, () => {
    let sql: SqlClient;
    const A = randomUUID();
    const B = randomUUID();
    const convA = randomUUID();
    const convB = randomUUID();

    /** Runs `fn` the way the store does: as `authenticated`, with `sub` as the JWT subject. */
    const as = <T>(sub: string, fn: (tx: SqlTx) => Promise<T>) =>
      sql.transaction(async (tx) => {
        await tx.query("set local role authenticated");
        await tx.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify({ sub, role: "authenticated" })]);
        return fn(tx);
      });

    const failure = async (p: Promise<unknown>) => {
      const e = (await p.then(
        () => {
          throw new Error("expected the statement to fail");
        },
        (err: unknown) => err,
      )) as { code?: string; message: string };
      return e;
    };

    beforeAll(async () => {
      sql = getSql();
      // Seeded as the connection's own (superuser) role, like register.
      for (const [id, conv] of [
        [A, convA],
        [B, convB],
      ] as const) {
        await sql.query("insert into users (id, email, password_hash) values ($1, $2, 'h')", [id, `${id}@example.com`]);
        await sql.query("insert into conversations (id, user_id, model) values ($1, $2, 'm')", [conv, id]);
        await sql.query("insert into messages (conversation_id, user_id, role, content) values ($1, $2, 'user', 'secret')", [conv, id]);
        await sql.query("insert into api_keys (user_id, prefix, key_hash) values ($1, 'ck_', $2)", [id, createHash("sha256").update(randomUUID()).digest("hex")]);
      }
    });

    it("forces row level security on every table", async () => {
      const rows = await sql.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
        `select relname, relrowsecurity, relforcerowsecurity from pg_class
          where relnamespace = 'public'::regnamespace and relname = any($1) order by relname`,
        [[...TABLES]],
      );
      expect(rows).toEqual(
        [...TABLES].sort().map((relname) => ({ relname, relrowsecurity: true, relforcerowsecurity: true })),
      );
    });

    it("grants anon nothing and authenticated only what the policies cover", async () => {
      const [row] = await sql.query<Record<string, boolean>>(
        `select
           bool_or(has_table_privilege('anon', 'public.' || t, 'select,insert,update,delete')) as anon_any,
           has_column_privilege('authenticated', 'public.users', 'email', 'update') as auth_update_email,
           has_column_privilege('authenticated', 'public.users', 'display_name', 'update') as auth_update_name,
           has_table_privilege('authenticated', 'public.users', 'insert') as auth_insert_user
         from unnest($1::text[]) t`,
        [[...TABLES]],
      );
      expect(row).toEqual({
        anon_any: false,
        auth_update_email: false,
        auth_update_name: true,
        auth_insert_user: false,
      });
    });

    it("shows a user none of another user's rows, even when asked for them", async () => {
      const seen = await as(A, async (tx) => ({
        uid: (await tx.query<{ uid: string }>("select auth.uid() as uid"))[0]!.uid,
        users: await tx.query("select id, email from users where id = $1", [B]),
        conversations: await tx.query("select * from conversations where user_id = $1", [B]),
        messages: await tx.query("select * from messages where user_id = $1", [B]),
        api_keys: await tx.query("select id, prefix from api_keys where user_id = $1", [B]),
        everything: await tx.query<{ user_id: string }>("select user_id from messages"),
        // RLS alone scopes the list function (it repeats no user filter of its own).
        listed: (await tx.query<{ r: { id: string }[] }>("select list_conversations(null, null, 100) as r"))[0]!.r.map((c) => c.id),
      }));
      expect(seen).toMatchObject({ uid: A, users: [], conversations: [], messages: [], api_keys: [], listed: [convA] });
      expect(seen.everything.map((m) => m.user_id)).toEqual([A]);
    });

    it("rejects inserting rows owned by someone else", async () => {
      const e = await failure(
        as(A, (tx) => tx.query("insert into conversations (user_id, model) values ($1, 'm')", [B])),
      );
      expect(e.code).toBe("42501");
      expect(e.message).toMatch(/row-level security/);

      const e2 = await failure(
        as(A, (tx) => tx.query("insert into api_keys (user_id, prefix, key_hash) values ($1, 'x', 'y')", [B])),
      );
      expect(e2.code).toBe("42501");
    });

    it("rejects attaching a message to another user's conversation", async () => {
      // Own user_id passes RLS, but (conversation, user) must match the conversation's owner.
      const e = await failure(
        as(A, (tx) =>
          tx.query("insert into messages (conversation_id, user_id, role, content) values ($1, $2, 'user', 'x')", [convB, A]),
        ),
      );
      expect(e.code).toBe("23503");
      const viaFunction = await failure(
        as(A, (tx) => tx.query("select begin_reply($1, $2, 'x', null, $3, 'm', '{}'::jsonb, 60000)", [convB, randomUUID(), randomUUID()])),
      );
      expect(viaFunction.code).toBe("P0002");
    });

    it("silently leaves other users' rows untouched on update and delete", async () => {
      const changed = await as(A, async (tx) => [
        ...(await tx.query("update conversations set title = 'pwned' where id = $1 returning id", [convB])),
        ...(await tx.query("delete from conversations where user_id = $1 returning id", [B])),
        ...(await tx.query("update users set display_name = 'pwned' where id = $1 returning id", [B])),
      ]);
      expect(changed).toEqual([]);
      const [row] = await sql.query<{ title: string | null; n: number }>(
        "select title, (select count(*) from messages where user_id = $2) as n from conversations where id = $1",
        [convB, B],
      );
      expect(row).toEqual({ title: null, n: 1 });
    });

    it("keeps users from changing their own email", async () => {
      const e = await failure(as(A, (tx) => tx.query("update users set email = 'x@example.com' where id = $1", [A])));
      expect(e.code).toBe("42501");
    });

    it("honours the legacy request.jwt.claim.sub setting and no claims at all", async () => {
      const legacy = await sql.transaction(async (tx) => {
        await tx.query("set local role authenticated");
        await tx.query("select set_config('request.jwt.claim.sub', $1, true)", [A]);
        return tx.query<{ id: string }>("select id from conversations");
      });
      expect(legacy.map((r) => r.id)).toEqual([convA]);
      const anonymous = await sql.transaction(async (tx) => {
        await tx.query("set local role authenticated");
        return tx.query("select id from conversations");
      });
      expect(anonymous).toEqual([]);
    });

    const SERVER_ONLY = [
      "authenticate_api_key('x')",
      "create_session($1, 'h', now())",
      "rotate_refresh_token('h', 'h2', now())",
      "revoke_session('h')",
      "revoke_user_sessions($1)",
      "change_password($1, 'h')",
      "login_retry_after('a', 'ip', 60, 5, 50)",
      "record_login('a', 'ip', false)",
      "register_attempt('ip', 60, 30)",
      "create_user('x@example.com', 'h', null)",
      "find_login('x@example.com')",
      "find_login_by_id($1)",
    ];

    it("keeps secrets unreadable as authenticated: password, key and token hashes", async () => {
      for (const q of [
        "select password_hash from users",
        "select * from users",
        "select key_hash from api_keys",
        "select * from api_keys",
        "select * from refresh_tokens",
        "select * from auth_attempts",
        "select secret_hash from usage_ledger",
      ]) {
        const e = await failure(as(A, (tx) => tx.query(q)));
        expect(e.code, q).toBe("42501");
      }
      const own = await as(A, (tx) => tx.query("select id, email, display_name, created_at from users"));
      expect(own).toHaveLength(1);
      const keys = await as(A, (tx) => tx.query("select id, prefix, revoked_at from api_keys"));
      expect(keys).toHaveLength(1);
    });

    it("lets no user write the ledger, or rewrite or delete a stored message", async () => {
      for (const q of [
        `insert into usage_ledger (user_id, reservation_id, entry, tokens) values ('${A}', gen_random_uuid(), 'settle', -1000)`,
        "update usage_ledger set tokens = 0",
        "delete from usage_ledger",
        "update messages set token_count = 0, input_tokens = 0",
        "delete from messages",
        "update api_keys set revoked_at = null",
        `insert into api_keys (user_id, prefix, key_hash) values ('${A}', 'cak_', 'forged')`,
        `insert into messages (conversation_id, user_id, role, content, created_at) values ('${convA}', '${A}', 'assistant', 'x', '2000-01-01')`,
        "update conversations set created_at = '2000-01-01'",
      ]) {
        const e = await failure(as(A, (tx) => tx.query(q)));
        expect(e.code, q).toBe("42501");
      }
    });

    it("refuses figures the API would refuse, and NUL in text", async () => {
      const insertReply = (cols: string) =>
        as(A, (tx) => tx.query(`insert into messages (conversation_id, user_id, role, content, ${cols.split("=")[0]}) values ($1, $2, 'assistant', 'x', ${cols.split("=")[1]})`, [convA, A]));
      for (const c of ["token_count=-5", "input_tokens=-1", "latency_ms=-1", "ttft_ms=-1"]) {
        expect((await failure(insertReply(c))).code, c).toBe("23514");
      }
      const long = await failure(
        as(A, (tx) => tx.query("insert into messages (conversation_id, user_id, role, content) values ($1, $2, 'user', repeat('x', 32001))", [convA, A])),
      );
      expect(long.code).toBe("23514");
      for (const q of [
        "update conversations set title = repeat('t', 201)",
        "update conversations set system_prompt = repeat('t', 32001)",
        "update users set display_name = repeat('n', 101)",
      ]) {
        expect((await failure(as(A, (tx) => tx.query(q)))).code, q).toBe("23514");
      }
      const nul = await failure(as(A, (tx) => tx.query("update conversations set title = 'a' || chr(0)")));
      expect(nul.code).toBe("54000");
      const nulJson = await failure(
        as(A, (tx) =>
          tx.query("insert into messages (conversation_id, user_id, role, content, metadata) values ($1, $2, 'user', 'x', $3::jsonb)", [
            convA,
            A,
            '{"a":"\\u0000"}',
          ]),
        ),
      );
      expect(nulJson.code).toBe("22P05");
    });

    it("lets the durable reply functions write a reply only forward, once, and only the caller's", async () => {
      // They are SECURITY DEFINER (users hold no UPDATE on messages): this is what a user calling them
      // through PostgREST can and cannot do.
      const fn = (name: string) =>
        sql.query<{ prosecdef: boolean; proconfig: string[] | null }>("select prosecdef, proconfig from pg_proc where proname = $1", [name]);
      for (const name of ["begin_reply", "flush_reply", "finish_reply", "settle_stale_replies", "request_cancel"]) {
        const [p] = await fn(name);
        expect(p, name).toMatchObject({ prosecdef: true, proconfig: [expect.stringMatching(/^search_path=public, ?pg_temp$/)] });
      }
      const reply = randomUUID();
      const begin = (sub: string, conv: string, id: string, content = "Hi") =>
        as(sub, (tx) =>
          tx.query<{ r: { status: string } }>("select begin_reply($1, $2, $3, null, $4, 'm', '{}'::jsonb, 60000) as r", [conv, randomUUID(), content, id]),
        );
      expect((await begin(A, convA, reply))[0]!.r.status).toBe("created");
      // Another user's conversation: not found; an over-long or empty message: refused.
      expect((await failure(begin(B, convA, randomUUID()))).code).toBe("P0002");
      expect((await failure(begin(A, convA, randomUUID(), "x".repeat(32001)))).code).toBe("22023");
      // Another user cannot flush, finish, cancel or read it.
      const flushB = await as(B, (tx) => tx.query<{ r: unknown }>("select flush_reply($1, 'pwned', '') as r", [reply]));
      expect(flushB[0]!.r).toBeNull();
      const finishB = await as(B, (tx) => tx.query<{ id: string | null }>("select (finish_reply($1, 'x', '', 0, 0, 'end_turn', 1, 1, '{}')).id", [reply]));
      expect(finishB[0]!.id).toBeNull();
      expect((await as(B, (tx) => tx.query<{ r: unknown }>("select request_cancel($1, 60000) as r", [reply])))[0]!.r).toBeNull();
      // Figures the API would refuse are refused.
      for (const args of ["-1, 0, 'end_turn', 1, 1", "0, -1, 'end_turn', 1, 1", "0, 0, 'end_turn', -1, 1", "0, 0, 'end_turn', null, 1", "0, 0, 'done', 1, 1"]) {
        const e = await failure(as(A, (tx) => tx.query(`select finish_reply($1, '', '', ${args}, '{}')`, [reply])));
        expect(e.code, args).toBe("22023");
      }
      await as(A, (tx) => tx.query("select flush_reply($1, 'Hello', '')", [reply]));
      await as(A, (tx) => tx.query("select finish_reply($1, '!', '', 50, 40, 'end_turn', 10, 2, '{}')", [reply]));
      // Once finished, its figures and text are never rewritten, nor can it be moved back to streaming.
      await as(A, (tx) => tx.query("select finish_reply($1, 'more', '', 0, 0, 'end_turn', 1, 1, '{}')", [reply]));
      await as(A, (tx) => tx.query("select flush_reply($1, 'more', '')", [reply]));
      await as(A, (tx) => tx.query("select settle_stale_replies($1, 0)", [convA]));
      const [row] = await sql.query<{ content: string; token_count: number; input_tokens: number; finish_reason: string }>(
        "select content, token_count, input_tokens, finish_reason from messages where id = $1",
        [reply],
      );
      expect(row).toEqual({ content: "Hello!", token_count: 50, input_tokens: 40, finish_reason: "end_turn" });
      // Still no direct UPDATE on messages for users.
      expect((await failure(as(A, (tx) => tx.query("update messages set heartbeat_at = now(), content = 'x'")))).code).toBe("42501");
      expect((await failure(as(A, (tx) => tx.query("select settle_stale_replies(null, -1)")))).code).toBe("22023");
    });

    it("keeps the message tree acyclic and the current branch the caller's own", async () => {
      const fn = (name: string) =>
        sql.query<{ prosecdef: boolean; proconfig: string[] | null }>("select prosecdef, proconfig from pg_proc where proname = $1", [name]);
      // It moves current_leaf_id, which users may not update directly (begin_reply too, checked above).
      const [p] = await fn("switch_branch");
      expect(p).toMatchObject({ prosecdef: true, proconfig: [expect.stringMatching(/^search_path=public, ?pg_temp$/)] });
      // One definition each, so a call by name is never ambiguous.
      for (const name of ["begin_reply", "prepare_turn"])
        expect(await sql.query("select 1 from pg_proc where proname = $1 and pronamespace = 'public'::regnamespace", [name]), name).toHaveLength(1);
      const [leafA] = await as(A, (tx) => tx.query<{ id: string }>("select id from messages where conversation_id = $1 order by seq desc limit 1", [convA]));
      expect((await failure(as(A, (tx) => tx.query("update conversations set current_leaf_id = $1 where id = $2", [leafA!.id, convA])))).code).toBe("42501");
      // A message its own parent, or two messages each other's, in one statement: refused.
      const [x, y] = [randomUUID(), randomUUID()];
      const insert = (rows: string, params: string[]) =>
        as(A, (tx) => tx.query(`insert into messages (id, conversation_id, user_id, role, content, parent_id) values ${rows}`, params));
      expect((await failure(insert("($1, $2, $3, 'user', 'a', $1)", [x, convA, A]))).code).toBe("23503");
      expect((await failure(insert("($1, $3, $4, 'user', 'a', $2), ($2, $3, $4, 'user', 'b', $1)", [x, y, convA, A]))).code).toBe("23503");
      // A parent in another user's conversation is refused too; one stored before the child is fine.
      const [leafB] = await sql.query<{ id: string }>("select id from messages where conversation_id = $1 limit 1", [convB]);
      expect((await failure(as(A, (tx) => tx.query("insert into messages (conversation_id, user_id, role, content, parent_id) values ($1, $2, 'user', 'c', $3)", [convA, A, leafB!.id])))).code).toBe("23503");
      await as(A, (tx) => tx.query("insert into messages (id, conversation_id, user_id, role, content, parent_id) values ($1, $2, $3, 'user', 'd', $4)", [x, convA, A, leafA!.id]));
      // switch_branch: only the caller's own message in the caller's own conversation.
      const sw = (sub: string, conv: string, msg: string) => as(sub, (tx) => tx.query<{ r: string | null }>("select switch_branch($1, $2) as r", [conv, msg]));
      expect((await sw(B, convA, x))[0]!.r).toBeNull();
      expect((await sw(A, convA, leafB!.id))[0]!.r).toBeNull();
      expect((await sw(A, convA, x))[0]!.r).toBe(x);
      expect((await failure(sql.query("select switch_branch($1, $2)", [convA, x]))).code).toBe("42501");
    });

    it("fixes the search_path of every function that runs with its owner's rights", async () => {
      const unfixed = await sql.query(
        `select p.proname from pg_proc p
          where p.pronamespace = 'public'::regnamespace and p.prosecdef
            and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')`,
      );
      expect(unfixed).toEqual([]);
    });

    it("runs server-only functions for the server alone", async () => {
      for (const call of SERVER_ONLY) {
        const e = await failure(as(A, (tx) => tx.query(`select ${call}`, call.includes("$1") ? [A] : [])));
        expect(e.code, call).toBe("42501");
      }
    });

    it("lets authenticated execute exactly the user-callable functions, and anon none", async () => {
      // Every function in the schema, extensions' own excepted; each allowlisted name is one function,
      // so an overload cannot add a callable signature unnoticed.
      const fns = await sql.query<{ name: string; authenticated: boolean; anon: boolean }>(
        `select p.proname::text as name, has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
                has_function_privilege('anon', p.oid, 'execute') as anon
           from pg_proc p
          where p.pronamespace = 'public'::regnamespace
            and not exists (select 1 from pg_depend d
                             where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
          order by p.proname collate "C"`,
      );
      expect(fns.filter((f) => f.authenticated).map((f) => f.name)).toEqual([...USER_CALLABLE]);
      expect(fns.filter((f) => f.anon).map((f) => f.name)).toEqual([]);
    });

    it("drops, when the baseline migration is applied, the functions no user may call any more", async () => {
      // A database that still holds them, callable by users as they were.
      const gone = [
        "append_user_message(uuid, uuid, text, text)",
        "append_assistant_message(uuid, uuid, text, text, integer, integer, text, integer, integer, jsonb)",
        "append_assistant_message(uuid, uuid, text, text, integer, integer, text, integer, integer, jsonb, text)",
        "tokens_used_since(timestamptz)",
      ];
      for (const f of gone) {
        await sql.exec(`create function public.${f} returns integer language sql as 'select 1';
                        grant execute on function public.${f} to authenticated;`);
      }
      // The baseline and then every later migration, as a database is brought forward: the baseline
      // alone would put back the signatures later migrations replaced, beside theirs.
      for (const m of readMigrations()) await sql.exec(m.sql);
      const left = await sql.query("select proname from pg_proc where pronamespace = 'public'::regnamespace and proname = any($1)", [
        ["append_user_message", "append_assistant_message", "tokens_used_since"],
      ]);
      expect(left).toEqual([]);
    });

    it("gives anon nothing in the schema: no table, sequence or function", async () => {
      const [row] = await sql.query<Record<string, string[]>>(
        `select
           array(select c.relname::text from pg_class c
                  where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'v', 'p')
                    and has_table_privilege('anon', c.oid, 'select,insert,update,delete,truncate,references,trigger')) as tables,
           array(select c.relname::text from pg_class c
                  where c.relnamespace = 'public'::regnamespace and c.relkind = 'S'
                    and (has_sequence_privilege('anon', c.oid, 'usage,select,update')
                      or has_sequence_privilege('authenticated', c.oid, 'usage,select,update'))) as sequences,
           array(select p.proname::text from pg_proc p
                  where p.pronamespace = 'public'::regnamespace and has_function_privilege('anon', p.oid, 'execute')) as functions`,
      );
      expect(row).toEqual({ tables: [], sequences: [], functions: [] });
    });

    describe("the token ledger", () => {
      const since = () => new Date(Date.now() - 3_600_000).toISOString();
      // The ledger's total as budgets count it, read with the owner's rights (no user may call a sum).
      const used = async (sub: string) =>
        Number((await sql.query<{ n: string | number }>("select coalesce(sum(tokens), 0) as n from usage_ledger where user_id = $1 and reserved_at >= $2", [sub, since()]))[0]!.n);
      // As the reply loop reserves: in begin_reply, for the reply it creates (a fresh conversation each).
      const reserve = async (sub: string, tokens: number, budget = 0) => {
        const conv = randomUUID();
        await sql.query("insert into conversations (id, user_id, model) values ($1, $2, 'm')", [conv, sub]);
        const id = randomUUID();
        const secret = randomBytes(32).toString("hex");
        const hash = createHash("sha256").update(secret).digest("hex");
        const r = await as(sub, async (tx) =>
          (
            await tx.query<{ r: { status: string } }>(
              `select begin_reply($1, $2, 'Hi', null, $3, 'm', '{}'::jsonb, 60000, null, null, null, false,
                                  $4, 'm', $5, $6, $7, $8) as r`,
              [conv, randomUUID(), randomUUID(), id, tokens, budget, since(), hash],
            )
          )[0]!.r,
        );
        return { id, ok: r.status === "created", secret: r.status === "created" ? secret : null };
      };
      const settle = (sub: string, id: string, secret: string | null, input: number, output: number) =>
        as(sub, async (tx) => (await tx.query<{ ok: boolean }>("select settle_tokens($1, $2, $3, $4, 10) as ok", [id, secret, input, output]))[0]!.ok);

      it("settles only with the reservation's secret, once, and never below zero per reservation", async () => {
        const U = randomUUID();
        await sql.query("insert into users (id, email, password_hash) values ($1, $2, 'h')", [U, `${U}@example.com`]);
        const r = await reserve(U, 1000);
        expect(r.ok).toBe(true);
        expect(r.secret).toMatch(/^[0-9a-f]{64}$/);
        expect(await used(U)).toBe(1000);
        // Without the secret (a user calling PostgREST directly): nothing changes.
        expect(await settle(U, r.id, "guess", 0, 0)).toBe(false);
        expect(await settle(U, r.id, null, 0, 0)).toBe(false);
        expect(await settle(A, r.id, r.secret, 0, 0)).toBe(false);
        expect(await used(U)).toBe(1000);
        expect(await settle(U, r.id, r.secret, 30, 12)).toBe(true);
        expect(await used(U)).toBe(42);
        // A second settle, even with the secret, cannot lower it further.
        expect(await settle(U, r.id, r.secret, 0, 0)).toBe(false);
        expect(await used(U)).toBe(42);
        // Reserving and settling one's own fake reservation nets zero, never less.
        const fake = await reserve(U, 1_000_000);
        expect(await settle(U, fake.id, fake.secret, 0, 0)).toBe(true);
        expect(await used(U)).toBe(42);
        expect((await failure(reserve(U, -100))).code).toBe("22023");
      });

      it("refuses a reservation in begin_reply without a SHA-256 secret hash, storing nothing", async () => {
        const U = randomUUID();
        const conv = randomUUID();
        await sql.query("insert into users (id, email, password_hash) values ($1, $2, 'h')", [U, `${U}@example.com`]);
        await sql.query("insert into conversations (id, user_id, model) values ($1, $2, 'm')", [conv, U]);
        for (const hash of [null, "secret", "A".repeat(64)]) {
          const call = as(U, (tx) =>
            tx.query(
              `select begin_reply($1, $2, 'Hi', null, $3, 'm', '{}'::jsonb, 60000, null, null, null, false,
                                  $4, 'm', 10, 0, now() - interval '1 day', $5)`,
              [conv, randomUUID(), randomUUID(), randomUUID(), hash],
            ),
          );
          expect((await failure(call)).code).toBe("22023");
        }
        expect(await used(U)).toBe(0);
        const [row] = await sql.query<{ n: number }>("select count(*)::int as n from messages where conversation_id = $1", [conv]);
        expect(row!.n).toBe(0);
      });

      it("admits, of 50 reservations sent together, only those whose worst case fits the budget", async () => {
        const U = randomUUID();
        await sql.query("insert into users (id, email, password_hash) values ($1, $2, 'h')", [U, `${U}@example.com`]);
        const results = await Promise.all(Array.from({ length: 50 }, () => reserve(U, 70, 300)));
        const granted = results.filter((r) => r.ok).length;
        // 70, 140, 210, 280 fit 300; 350 would not.
        expect(granted).toBe(4);
        expect(await used(U)).toBe(280);
      });

      it("refuses a reservation once the budget is used, and keeps usage when a conversation goes", async () => {
        const U = randomUUID();
        const conv = randomUUID();
        await sql.query("insert into users (id, email, password_hash) values ($1, $2, 'h')", [U, `${U}@example.com`]);
        await sql.query("insert into conversations (id, user_id, model) values ($1, $2, 'm')", [conv, U]);
        expect((await reserve(U, 60, 100)).ok).toBe(true);
        expect(await reserve(U, 41, 100)).toMatchObject({ ok: false, secret: null });
        expect((await reserve(U, 40, 100)).ok).toBe(true);
        expect(await reserve(U, 1, 100)).toMatchObject({ ok: false, secret: null });
        await as(U, (tx) => tx.query("delete from conversations where id = $1", [conv]));
        expect(await used(U)).toBe(100);
      });
    });

    it.runIf(fresh)("leaves anon nothing even where default privileges grant it everything (as on Supabase)", async () => {
      const db = await fresh!();
      try {
        await db.exec(`
          do $$ begin
            if not exists (select 1 from pg_roles where rolname = 'anon') then create role anon nologin noinherit; end if;
            if not exists (select 1 from pg_roles where rolname = 'authenticated') then create role authenticated nologin noinherit; end if;
          end $$;
          alter default privileges in schema public grant all on tables to anon, authenticated;
          alter default privileges in schema public grant all on sequences to anon, authenticated;
          alter default privileges in schema public grant all on functions to anon, authenticated;`);
        await migrate(db);
        const [row] = await db.query<Record<string, number>>(
          `select
             (select count(*) from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'S')
               and (has_table_privilege('anon', c.oid, 'select,insert,update,delete') or (c.relkind = 'S' and has_sequence_privilege('anon', c.oid, 'usage')))) as anon_relations,
             (select count(*) from pg_proc p where p.pronamespace = 'public'::regnamespace and has_function_privilege('anon', p.oid, 'execute')) as anon_functions,
             (select count(*) from pg_proc p where p.pronamespace = 'public'::regnamespace and p.proname in ('authenticate_api_key', 'rotate_refresh_token', 'record_login', 'create_user', 'find_login', 'find_login_by_id')
               and has_function_privilege('authenticated', p.oid, 'execute')) as server_only_for_users,
             (select count(*) from unnest(array['password_hash']) col where has_column_privilege('authenticated', 'public.users', col, 'select')) as hash_readable,
             (select count(*) from pg_class c where c.relnamespace = 'public'::regnamespace and c.relname in ('usage_ledger', 'refresh_tokens', 'auth_attempts')
               and has_table_privilege('authenticated', c.oid, 'insert,update,delete')) as server_tables_writable`,
        );
        expect(row).toEqual({ anon_relations: 0, anon_functions: 0, server_only_for_users: 0, hash_readable: 0, server_tables_writable: 0 });
      } finally {
        await db.close();
      }
    });

    it("refuses, even through the API's own functions, values the API never writes", async () => {
      for (const q of [
        // A metadata blob used to fill the shared database.
        `insert into messages (conversation_id, user_id, role, content, metadata) values ('${convA}', '${A}', 'assistant', 'x', jsonb_build_object('pad', repeat('x', 70000)))`,
        // A heartbeat in the far future: the conversation would look busy (a reply streaming) forever.
        `insert into messages (conversation_id, user_id, role, content, heartbeat_at) values ('${convA}', '${A}', 'assistant', 'x', 'infinity')`,
        // An API key "hash" of another shape than SHA-256 hex (a chosen weak key, or megabytes of text).
        "select create_api_key('k', 'cak_x', 'not-a-sha256-digest', null)",
      ]) {
        const e = await failure(as(A, (tx) => tx.query(q)));
        expect(e.code, q).toBe("23514");
      }
    });

    it("re-applies the baseline migration to an existing database without error or data loss", async () => {
      for (const m of readMigrations()) await sql.exec(m.sql);
      expect(await migrate(sql)).toEqual({ applied: [] });
      const [row] = await sql.query<{ n: number }>("select count(*) as n from conversations where id = any($1)", [[convA, convB]]);
      expect(row!.n).toBe(2);
    });

    // Search is full-text through GIN indexes, not a scan with LIKE. With sequential scans
    // priced out, the planner must still be able to answer search_conversations' predicates from them.
    it("answers the search predicates from the full-text indexes", async () => {
      const plans = await sql.transaction(async (tx) => {
        await tx.query("set local enable_seqscan = off");
        const plan = async (q: string) => (await tx.query<Record<string, string>>(`explain ${q}`)).map((r) => Object.values(r)[0]).join("\n");
        return [
          await plan("select conversation_id from public.messages where to_tsvector('simple'::regconfig, content) @@ websearch_to_tsquery('simple'::regconfig, 'kiwi')"),
          await plan("select id from public.conversations where to_tsvector('simple'::regconfig, coalesce(title, '')) @@ websearch_to_tsquery('simple'::regconfig, 'kiwi')"),
          await plan(`select conversation_id from public.messages where tool_text <> '' and ${TOOL_NAMES} @@ websearch_to_tsquery('simple'::regconfig, 'kiwi')`),
        ];
      });
      expect(plans[0]).toContain("messages_content_search_idx");
      expect(plans[1]).toContain("conversations_title_search_idx");
      expect(plans[2]).toContain("messages_tool_names_search_idx");
      // The function's own text uses exactly those indexed expressions.
      const [fn] = await sql.query<{ src: string }>("select prosrc as src from pg_proc where proname = 'search_conversations'");
      expect(fn!.src).toContain("to_tsvector('simple'::regconfig, m.content) @@ websearch_to_tsquery('simple'::regconfig, p_query)");
      expect(fn!.src).toContain("to_tsvector('simple'::regconfig, coalesce(t.title, '')) @@ websearch_to_tsquery('simple'::regconfig, p_query)");
      expect(fn!.src).toContain(`${TOOL_NAMES.replace("(tool_text", "(m.tool_text")}\n              @@ websearch_to_tsquery('simple'::regconfig, p_query)`);
      expect(fn!.src.toLowerCase()).not.toContain("like");
    });
  });
}
