// Proves in plain SQL, below the store, that the database itself enforces per-user isolation: even
// a buggy query run as the `authenticated` role cannot read or write another user's rows.
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { migrate, readSchema, type SqlClient, type SqlTx } from "../src/index";

const TABLES = ["users", "conversations", "messages", "api_keys"] as const;

export function describeDatabaseChecks(name: string, getSql: () => SqlClient): void {
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
        await sql.query("insert into api_keys (user_id, prefix, key_hash) values ($1, 'ck_', $2)", [id, randomUUID()]);
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
           has_table_privilege('authenticated', 'public.users', 'insert') as auth_insert_user,
           has_function_privilege('anon', 'public.append_user_message(uuid, uuid, text, text)', 'execute') as anon_rpc,
           has_function_privilege('authenticated', 'public.append_user_message(uuid, uuid, text, text)', 'execute') as auth_rpc
         from unnest($1::text[]) t`,
        [[...TABLES]],
      );
      expect(row).toEqual({
        anon_any: false,
        auth_update_email: false,
        auth_update_name: true,
        auth_insert_user: false,
        anon_rpc: false,
        auth_rpc: true,
      });
    });

    it("shows a user none of another user's rows, even when asked for them", async () => {
      const seen = await as(A, async (tx) => ({
        uid: (await tx.query<{ uid: string }>("select auth.uid() as uid"))[0]!.uid,
        users: await tx.query("select * from users where id = $1", [B]),
        conversations: await tx.query("select * from conversations where user_id = $1", [B]),
        messages: await tx.query("select * from messages where user_id = $1", [B]),
        api_keys: await tx.query("select * from api_keys where user_id = $1", [B]),
        everything: await tx.query<{ user_id: string }>("select user_id from messages"),
      }));
      expect(seen).toMatchObject({ uid: A, users: [], conversations: [], messages: [], api_keys: [] });
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
        as(A, (tx) => tx.query("select * from append_user_message($1, $2, 'x', null)", [convB, randomUUID()])),
      );
      expect(viaFunction.code).toBe("P0002");
    });

    it("silently leaves other users' rows untouched on update and delete", async () => {
      const changed = await as(A, async (tx) => [
        ...(await tx.query("update conversations set title = 'pwned' where id = $1 returning id", [convB])),
        ...(await tx.query("delete from messages where user_id = $1 returning id", [B])),
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

    it("re-applies the schema to an existing database without error or data loss", async () => {
      await sql.exec(readSchema());
      expect(await migrate(sql)).toEqual({ applied: false });
      const [row] = await sql.query<{ n: number }>("select count(*) as n from conversations where id = any($1)", [[convA, convB]]);
      expect(row!.n).toBe(2);
    });

    // Issue 14: search is full-text through GIN indexes, not a scan with LIKE. With sequential scans
    // priced out, the planner must still be able to answer search_conversations' predicates from them.
    it("answers the search predicates from the full-text indexes", async () => {
      const plans = await sql.transaction(async (tx) => {
        await tx.query("set local enable_seqscan = off");
        const plan = async (q: string) => (await tx.query<Record<string, string>>(`explain ${q}`)).map((r) => Object.values(r)[0]).join("\n");
        return [
          await plan("select conversation_id from public.messages where to_tsvector('simple'::regconfig, content) @@ websearch_to_tsquery('simple'::regconfig, 'kiwi')"),
          await plan("select id from public.conversations where to_tsvector('simple'::regconfig, coalesce(title, '')) @@ websearch_to_tsquery('simple'::regconfig, 'kiwi')"),
        ];
      });
      expect(plans[0]).toContain("messages_content_search_idx");
      expect(plans[1]).toContain("conversations_title_search_idx");
      // The function's own text uses exactly those indexed expressions.
      const [fn] = await sql.query<{ src: string }>("select prosrc as src from pg_proc where proname = 'search_conversations'");
      expect(fn!.src).toContain("to_tsvector('simple'::regconfig, m.content) @@ websearch_to_tsquery('simple'::regconfig, p_query)");
      expect(fn!.src).toContain("to_tsvector('simple'::regconfig, coalesce(t.title, '')) @@ websearch_to_tsquery('simple'::regconfig, p_query)");
      expect(fn!.src.toLowerCase()).not.toContain("like");
    });
  });
}
