// The same contract against a real PostgreSQL server started just for this file. Skipped when
// PostgreSQL is not installed, unless REQUIRE_POSTGRES=1.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgClient, migrate, openStore, type SqlStore } from "../src/index";
import { describeStoreContract } from "./contract";
import { describeDatabaseChecks } from "./database-checks";
import { describeQueryAs } from "./query-as";
import { sqlHooks } from "./hooks";
import { postgresAvailable, startPostgres, type PostgresServer } from "./pg-server";

describe.skipIf(!postgresAvailable())("PostgreSQL server", () => {
  let server: PostgresServer;
  let store: SqlStore;
  beforeAll(async () => {
    server = await startPostgres();
    store = await openStore({ databaseUrl: server.url });
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  }, 60_000);

  describeStoreContract("PostgreSQL", () => ({ store, hooks: sqlHooks(store.sql) }));
  let freshDbs = 0;
  describeQueryAs("PostgreSQL", () => store.sql);
  describeDatabaseChecks("PostgreSQL", () => store.sql, async () => {
    const name = `fresh_${++freshDbs}`;
    await store.sql.exec(`create database ${name}`);
    return createPgClient(server.url.replace(/\/postgres$/, `/${name}`));
  });

  it("applies the schema once when several processes start against a fresh database together", async () => {
    await store.sql.exec("create database concurrent_start");
    const clients = await Promise.all([1, 2, 3].map(() => createPgClient(server.url.replace(/\/postgres$/, "/concurrent_start"))));
    try {
      const results = await Promise.all(clients.map((c) => migrate(c)));
      expect(results.filter((r) => r.applied)).toHaveLength(1);
      const [row] = await clients[0]!.query<{ n: number }>("select count(*) as n from public.schema_migrations");
      expect(row!.n).toBe(1);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }, 60_000);
});
