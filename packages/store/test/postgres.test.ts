// The same contract against a real PostgreSQL server started just for this file. Skipped when
// PostgreSQL is not installed, unless REQUIRE_POSTGRES=1.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BeginReply, BeginResult } from "@conversation-api/core";
import { createPgClient, createSqlStore, migrate, openStore, readMigrations, type SqlStore } from "../src/index";
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

  // PGlite's client runs one statement at a time, so there the per-user lock is never waited on. Here the
  // sends go through a pool of 10 connections while another session holds that lock: they provably
  // queue on it (pg_stat_activity shows them waiting), and when it is released each one decides in turn.
  describe("the per-user lock, contended", () => {
    let sends: SqlStore;
    let locker: pg.Client;
    beforeAll(async () => {
      const sql = await createPgClient(server.url, { max: 10 });
      sends = Object.assign(createSqlStore(sql), { sql });
      locker = new pg.Client({ connectionString: server.url });
      await locker.connect();
    });
    afterAll(async () => {
      await locker?.end();
      await sends?.close();
    });

    /** Runs `n` begin_reply calls while the user's lock is held elsewhere, releasing it once 10 wait on it. */
    async function contended(n: number, input: () => Omit<BeginReply, "conversation_id">) {
      const user = await store.createUser({ email: `${randomUUID()}@example.com`, password_hash: "h", display_name: null });
      const as = sends.forUser(user.id);
      const conversations = await Promise.all(Array.from({ length: n }, () => as.createConversation({ title: "t", system_prompt: null, model: "m" })));
      const key = `usage_ledger:${user.id}`;
      await locker.query("select pg_advisory_lock(hashtextextended($1, 0))", [key]);
      let results: Promise<BeginResult[]>;
      try {
        results = Promise.all(conversations.map((c) => as.beginReply({ ...input(), conversation_id: c.id })));
        for (let tries = 0; ; tries++) {
          const { rows } = await locker.query<{ n: number }>(
            "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and wait_event = 'advisory' and pid <> pg_backend_pid()",
          );
          if (rows[0]!.n >= 10) break;
          if (tries > 3000) throw new Error(`only ${rows[0]!.n} sends ever waited on the lock`);
          await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        await locker.query("select pg_advisory_unlock(hashtextextended($1, 0))", [key]);
      }
      return { user, results: await results };
    }

    it("admits concurrent sends only while their worst cases fit the budget", async () => {
      const { user, results } = await contended(30, () => {
        const secret = randomBytes(32).toString("hex");
        return {
          user_message_id: randomUUID(), content: "Hi", idempotency_key: null, reply_id: randomUUID(), model: "m", metadata: {}, stale_ms: 60_000,
          reservation: { reservation_id: randomUUID(), model: "m", tokens: 70, budget: 300, since: new Date(Date.now() - 60_000).toISOString(), secret_hash: createHash("sha256").update(secret).digest("hex") },
        };
      });
      // 4 × 70 = 280 fits 300; a fifth would not.
      expect(results.filter((r) => r.status === "created")).toHaveLength(4);
      expect(results.filter((r) => r.status === "over_budget")).toHaveLength(26);
      const [row] = await store.sql.query<{ n: number }>("select coalesce(sum(tokens), 0)::int as n from usage_ledger where user_id = $1", [user.id]);
      expect(row!.n).toBe(280);
    }, 60_000);

    it("lets at most max_streaming replies of one user stream, however many sends arrive together", async () => {
      const { user, results } = await contended(30, () => ({
        user_message_id: randomUUID(), content: "Hi", idempotency_key: null, reply_id: randomUUID(), model: "m", metadata: {}, stale_ms: 60_000,
        max_streaming: 3,
      }));
      expect(results.filter((r) => r.status === "created")).toHaveLength(3);
      expect(results.filter((r) => r.status === "too_many")).toHaveLength(27);
      const [row] = await store.sql.query<{ n: number }>(
        "select count(*)::int as n from messages where user_id = $1 and role = 'assistant' and finish_reason is null",
        [user.id],
      );
      expect(row!.n).toBe(3);
    }, 60_000);
  });

  it("applies each migration once when several processes start against a fresh database together", async () => {
    await store.sql.exec("create database concurrent_start");
    const clients = await Promise.all([1, 2, 3].map(() => createPgClient(server.url.replace(/\/postgres$/, "/concurrent_start"))));
    try {
      const results = await Promise.all(clients.map((c) => migrate(c)));
      const names = readMigrations().map((m) => m.name);
      expect(results.flatMap((r) => r.applied).sort()).toEqual(names);
      const rows = await clients[0]!.query<{ name: string }>("select name from public.database_migrations order by name");
      expect(rows.map((r) => r.name)).toEqual(names);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }, 60_000);
});
