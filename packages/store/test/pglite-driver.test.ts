// The PGlite driver speaks the extended protocol itself (named prepared statements, BEGIN batched
// with a transaction's first statement): transaction semantics must be PGlite's and PostgreSQL's,
// with PGlite on this thread and in a worker thread alike.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyPgliteImage } from "../../../tests/support/pglite-image";
import { createPgliteClient, type SqlClient } from "../src/sql";

describe.each([
  ["this thread", false],
  ["a worker thread", true],
])("PGlite driver, database on %s", (_, thread) => {
  let c: SqlClient;
  const count = async (where = "true") => (await c.query<{ n: number }>(`select count(*)::int as n from t where ${where}`))[0]!.n;

  beforeAll(async () => {
    c = await createPgliteClient({ thread, image: await emptyPgliteImage() });
    await c.exec("create table t (id int primary key, j jsonb, a uuid[])");
  });
  afterAll(() => c.close());

  it("keeps PostgreSQL's buffer pool small in memory, where the files are in memory already", async () => {
    const shared_buffers = (await c.query<{ shared_buffers: string }>("show shared_buffers"))[0]?.shared_buffers;
    // The worker thread is for a database on disk, which keeps PostgreSQL's default.
    expect(shared_buffers).toBe(thread ? "128MB" : "16MB");
  });

  it("rolls back a transaction whose statement fails, and later statements run outside it", async () => {
    await expect(
      c.transaction(async (tx) => {
        await tx.query("insert into t (id) values (1)");
        await tx.query("insert into t (id) values (1)");
      }),
    ).rejects.toMatchObject({ code: "23505" });
    expect(await c.query<{ t: boolean }>("select pg_current_xact_id_if_assigned() is null as t")).toEqual([{ t: true }]);
    expect(await count()).toBe(0);
  });

  it("refuses to commit a transaction in which a failed statement was caught", async () => {
    await expect(
      c.transaction(async (tx) => {
        await tx.query("insert into t (id) values (3)");
        await tx.query("selec").catch(() => {});
        await tx.query("insert into t (id) values (4)").catch(() => {});
      }),
    ).rejects.toThrow();
    expect(await count()).toBe(0);
  });

  it("a statement that does not parse still leaves the next one inside the transaction", async () => {
    await expect(c.transaction((tx) => tx.query("selec 1"))).rejects.toMatchObject({ code: "42601" });
    await expect(
      c.transaction(async (tx) => {
        await tx.query("selec 1").catch(() => {});
        await tx.query("insert into t (id) values (5)");
        throw new Error("undo");
      }),
    ).rejects.toThrow("undo");
    expect(await count()).toBe(0);
  });

  it("serializes parameters by their declared type, as PGlite's query does", async () => {
    await c.query("insert into t values ($1, $2, $3)", [2, { b: [1, 2] }, ["7c3d1b2e-0000-4000-8000-000000000000"]]);
    expect(await c.query("select j, a from t where id = $1", [2])).toEqual([{ j: { b: [1, 2] }, a: ["7c3d1b2e-0000-4000-8000-000000000000"] }]);
    await c.query("delete from t");
  });

  it("keeps set_config(…, true) local to the transaction", async () => {
    await c.transaction((tx) => tx.query("select set_config('request.jwt.claims', $1, true)", ["x"]));
    expect(await c.query("select current_setting('request.jwt.claims', true) as v")).toEqual([{ v: "" }]);
  });

  it("runs each queryAs under its own settings, however callers with different ones interleave", async () => {
    const as = (who: string) => c.queryAs<{ v: string }>([["request.jwt.claims", who], ["app.who", `${who}!`]], "select current_setting('request.jwt.claims') || current_setting('app.who') as v");
    const whos = ["a", "b", "a", "a=b", "b", "a", "ab"];
    expect(await Promise.all(whos.map(as))).toEqual(whos.map((w) => [{ v: `${w}${w}!` }]));
    expect(await c.query("select current_setting('request.jwt.claims', true) as v")).toEqual([{ v: "" }]);
  });

  it("runs one transaction at a time: others wait for its COMMIT", async () => {
    const seen: number[] = [];
    await Promise.all([
      c.transaction(async (tx) => {
        await tx.query("insert into t (id) values (10)");
        await new Promise((r) => setTimeout(r, 20));
        await tx.query("delete from t where id = 10");
      }),
      count("id = 10").then((n) => seen.push(n)),
    ]);
    expect(seen).toEqual([0]);
  });
});
