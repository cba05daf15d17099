// The SQL transport (sqlRpc): the calls PostgREST would make, on a SQL connection. The store contract
// runs over it (pglite.test.ts, postgres.test.ts); this holds what the store relies on underneath:
// who a call runs as, how each kind of result comes back, and that only plain names reach the SQL.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openMemoryStore } from "../../../tests/support/pglite-image";
import { sqlRpc, type Rpc, type SqlStore } from "../src/index";

describe("sqlRpc", () => {
  let store: SqlStore;
  let rpc: Rpc;
  let userId: string;
  beforeAll(async () => {
    store = await openMemoryStore();
    rpc = sqlRpc(store.sql);
    userId = (await store.createUser({ email: `rpc-${randomUUID()}@example.com`, password_hash: "h", display_name: null })).id;
  }, 120_000);
  afterAll(() => store?.close());

  it("runs a user's call as role authenticated with their claims, and a server call as the connection's own role", async () => {
    const as = rpc.user(userId);
    expect(await as("get_user", {})).toMatchObject({ id: userId });
    expect(await rpc.user(randomUUID())("get_user", {})).toBeNull();
    // A server-only function: refused to the user, answered for the server.
    await expect(as("find_login_by_id", { p_user_id: userId })).rejects.toMatchObject({ code: "42501" });
    expect(await rpc.server("find_login_by_id", { p_user_id: userId })).toMatchObject({ id: userId, password_hash: "h" });
  });

  it("answers as PostgREST renders: a set as an array of rows, a row as an object, a scalar as itself; JSON arguments go as JSON", async () => {
    const as = rpc.user(userId);
    const c = await as("create_conversation", { p_model: "m", p_system_prompt: null, p_title: "t" });
    expect(c).toMatchObject({ id: expect.any(String), title: "t", model: "m", updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d$/) });
    expect(await as("update_conversation", { p_id: c.id, p_patch: { system_prompt: "p" } })).toMatchObject({ title: "t", system_prompt: "p" });
    expect(await as("search_conversations", { p_query: "nothing-matches", p_after_updated_at: null, p_after_id: null, p_limit: 5 }, "rows")).toEqual([]);
    expect(await as("search_conversations", { p_query: "t", p_after_updated_at: null, p_after_id: null, p_limit: 5 }, "rows")).toMatchObject([
      { id: c.id, cursor_ts: expect.any(String) },
    ]);
    // finish_reply returns a messages row; for a reply that is not the caller's, a row of nulls, as from PostgREST.
    const nothing = { p_text: "", p_reasoning: "", p_token_count: 0, p_input_tokens: 0, p_finish_reason: "end_turn", p_latency_ms: 1, p_ttft_ms: 1, p_metadata: {} };
    const none = await as("finish_reply", { p_id: randomUUID(), ...nothing }, "row");
    expect(Object.values(none).every((v) => v === null)).toBe(true);
    expect(Object.keys(none)).toEqual(expect.arrayContaining(["id", "conversation_id", "content", "metadata"]));
    expect(await as("delete_conversation", { p_id: c.id })).toBe(true);
    expect(await as("delete_conversation", { p_id: c.id })).toBe(false);
  });

  it("refuses a function or argument name that is not a plain lower-case identifier, sending nothing", async () => {
    const as = rpc.user(userId);
    await expect(as("get_user(); select 1; --", {})).rejects.toThrow(/Not a function or argument name/);
    await expect(as("get_conversation", { "p_id => null) --": randomUUID() })).rejects.toThrow(/Not a function or argument name/);
  });
});
