import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPgliteClient, createSqlStore, openStore, type SqlStore } from "../src/index";
import { describeStoreContract } from "./contract";
import { describeDatabaseChecks } from "./database-checks";
import { describeQueryAs } from "./query-as";
import { sqlHooks } from "./hooks";

describe("PGlite (in memory)", () => {
  let store: SqlStore;
  beforeAll(async () => {
    store = await openStore({ inMemory: true });
  }, 120_000);
  afterAll(() => store?.close());

  describeStoreContract("PGlite", () => ({ store, hooks: sqlHooks(store.sql) }));
  describeQueryAs("PGlite", () => store.sql);
  describeDatabaseChecks("PGlite", () => store.sql, () => createPgliteClient());
});

describe("PGlite in a worker thread", () => {
  let store: SqlStore;
  beforeAll(async () => {
    store = await openStore({ inMemory: true, pgliteThread: true });
  }, 120_000);
  afterAll(() => store?.close());

  describeQueryAs("PGlite in a worker thread", () => store.sql);
  describeDatabaseChecks("PGlite in a worker thread", () => store.sql, () => createPgliteClient({ thread: true }));
});

// The list query exists twice: list_conversations() in schema.sql (drivers that plan every statement)
// and the same query sent directly (drivers that keep plans). Both must give the same pages.
describe("list_conversations() and the direct list query", () => {
  let store: SqlStore;
  beforeAll(async () => {
    store = await openStore({ inMemory: true });
  }, 120_000);
  afterAll(() => store?.close());

  it("give the same pages and cursors", async () => {
    const viaFunction = createSqlStore({ ...store.sql, reusesPlans: false });
    const user = await store.createUser({ email: "lister@example.com", password_hash: "h", display_name: null });
    const other = await store.createUser({ email: "other@example.com", password_hash: "h", display_name: null });
    for (let i = 0; i < 7; i++) await store.forUser(user.id).createConversation({ title: `c${i}`, system_prompt: i % 2 ? "p" : null, model: "m" });
    await store.forUser(other.id).createConversation({ title: "not yours", system_prompt: null, model: "m" });
    // Same instant for several rows: the id breaks the tie, in both.
    await store.sql.query("update conversations set updated_at = '2024-05-01 12:00:00.123456+00' where user_id = $1 and title in ('c1', 'c2', 'c3')", [user.id]);
    let cursor: string | undefined;
    let pages = 0;
    do {
      const a = await store.forUser(user.id).listConversations({ limit: 3, cursor });
      const b = await viaFunction.forUser(user.id).listConversations({ limit: 3, cursor });
      expect(b).toEqual(a);
      expect(a.data.every((c) => c.title !== "not yours")).toBe(true);
      cursor = a.next_cursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
  });
});
