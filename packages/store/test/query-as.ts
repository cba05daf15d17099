// queryAs (one statement with transaction-local settings, in one round trip) must mean exactly what
// the transaction it replaces means, on both drivers: the settings hold for the statement and for
// nothing after it, a failure undoes all of it, and every value arrives as it was sent.
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import type { SqlClient } from "../src/index";

export function describeQueryAs(name: string, getSql: () => SqlClient): void {
  describe(`queryAs: ${name}`, () => {
    let sql: SqlClient;
    const user = randomUUID();
    const as = (sub: string) => [
      ["role", "authenticated"],
      ["request.jwt.claims", JSON.stringify({ sub, role: "authenticated" })],
    ] as const;
    const session = async () => (await sql.query<{ u: string; c: string }>("select current_user as u, coalesce(current_setting('request.jwt.claims', true), '') as c"))[0]!;
    let before: { u: string; c: string };

    beforeAll(async () => {
      sql = getSql();
      await sql.query("insert into users (id, email, password_hash) values ($1, $2, 'h')", [user, `${user}@example.com`]);
      before = await session();
    });

    it("runs the statement with the settings, and nothing after it keeps them", async () => {
      for (let i = 0; i < 3; i++) {
        expect(await sql.queryAs(as(user), "select current_user as u, auth.uid() as id")).toEqual([{ u: "authenticated", id: user }]);
        expect(await session()).toEqual(before);
      }
      expect(before.u).not.toBe("authenticated");
    });

    it("applies row level security as the user", async () => {
      const other = randomUUID();
      await sql.query("insert into users (id, email, password_hash) values ($1, $2, 'h')", [other, `${other}@example.com`]);
      await sql.query("insert into conversations (user_id, model) values ($1, 'm'), ($2, 'm')", [user, other]);
      const rows = await sql.queryAs<{ user_id: string }>(as(user), "select user_id from conversations where user_id = any($1::uuid[])", [[user, other]]);
      expect(rows).toEqual([{ user_id: user }]);
      const e = await sql.queryAs(as(user), "insert into conversations (user_id, model) values ($1, 'm')", [other]).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: "42501" });
      expect(await session()).toEqual(before);
    });

    it("undoes a statement that wrote and then failed, settings included", async () => {
      const count = async () => (await sql.query<{ n: number }>("select count(*)::int as n from conversations where user_id = $1", [user]))[0]!.n;
      const n = await count();
      const failing = sql.queryAs(
        [["request.jwt.claims", "{}"]],
        "with w as (insert into conversations (user_id, model) values ($1, 'm') returning id) select 1 / (count(*) - 1) as x from w",
        [user],
      );
      await expect(failing).rejects.toMatchObject({ code: "22012" });
      expect(await count()).toBe(n);
      expect(await session()).toEqual(before);
    });

    it("passes every value through unchanged, whatever it contains", async () => {
      const tricky = ["it's", "back\\slash \\' and ''", "$1 $2 -- not a comment", "/* nor this */", "emoji 🦊 and ümlaut", "line\nbreak", "E'x'", "$$dollar$$"];
      for (const v of tricky) {
        const [row] = await sql.queryAs(as(user), "select $1::text as v, $2::integer as n, $3::boolean as b, $4::jsonb as j, $5::text as z", [v, 42, true, JSON.stringify({ v }), null]);
        expect(row).toEqual({ v, n: 42, b: true, j: { v }, z: null });
      }
      // Quoted text in the statement is not a parameter, even where it looks like one.
      expect(await sql.queryAs(as(user), "select '$1 -- ''$2''' as s, 1 as \"u$1\", $1::text as v -- $2\n", ["x"])).toEqual([
        { s: "$1 -- '$2'", "u$1": 1, v: "x" },
      ]);
      expect(await sql.queryAs(as(user), "select E'a\\'$1' as s, $1::text as v", ["y"])).toEqual([{ s: "a'$1", v: "y" }]);
    });

    it("keeps concurrent callers apart", async () => {
      const subs = Array.from({ length: 40 }, () => randomUUID());
      const seen = await Promise.all(subs.map((sub, i) => sql.queryAs<{ id: string }>(as(sub), i % 3 ? "select auth.uid() as id" : "select auth.uid() as id, 1 / 0 as boom").catch(() => null)));
      expect(seen).toEqual(subs.map((sub, i) => (i % 3 ? [{ id: sub }] : null)));
      expect(await session()).toEqual(before);
    });

    it("refuses a NUL byte as PostgreSQL does", async () => {
      await expect(sql.queryAs(as(user), "select $1::text as v", ["a\0b"])).rejects.toMatchObject({ code: "22021" });
      expect(await session()).toEqual(before);
    });
  });
}
