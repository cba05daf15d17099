// The Supabase adapter against a loopback PostgREST stand-in over a real database: the same store
// contract as the SQL store (with the credentials production sends: the user's own ES256 access token,
// the publishable key, the secret key only as `apikey`), then what went over the wire.
import { randomBytes, randomUUID } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "@conversation-api/core";
import { createSupabaseStore } from "../src/supabase";
import { asTheApi, projectKeys, type ProjectKeys } from "./api-tokens";
import { describeStoreContract } from "./contract";
import { sqlHooks } from "./hooks";
import { startPostgrestBacking, type PostgrestBacking } from "./postgrest-backing";
import type { RecordedRequest } from "./postgrest-server";

let backing: PostgrestBacking;
let base: Store;
let store: Store;
let keys: ProjectKeys;

beforeAll(async () => {
  keys = await projectKeys();
  // A database time zone other than UTC: PostgREST then renders timestamps with that offset.
  backing = await startPostgrestBacking({ timeZone: "Asia/Kathmandu", jwks: keys.jwks });
  const { rest } = backing;
  base = createSupabaseStore({ url: rest.url, apiKey: rest.publishableKey, secretKey: rest.secretKey });
  store = asTheApi(base, keys.tokens);
}, 120_000);
afterAll(() => backing?.stop(), 60_000);

describeStoreContract("Supabase (PostgREST stand-in)", () => ({ store, hooks: sqlHooks(backing.admin.sql) }));

const bearer = (r: RecordedRequest) => r.headers.authorization?.replace(/^Bearer /, "");

describe("Supabase adapter on the wire", () => {
  /** The requests `fn` makes. */
  const during = async (fn: () => Promise<unknown>): Promise<RecordedRequest[]> => {
    const from = backing.rest.requests.length;
    await fn();
    return backing.rest.requests.slice(from);
  };

  it("sent the secret key only on the server-privileged paths (accounts, sessions, key checks, throttling), only as apikey, across the whole contract suite", () => {
    const { requests, secretKey, publishableKey } = backing.rest;
    expect(requests.length).toBeGreaterThan(100);
    const privileged = requests.filter((r) => r.headers.apikey === secretKey || bearer(r) === secretKey);
    expect(privileged.length).toBeGreaterThan(0);
    // The server-only functions: accounts, sessions, API-key checks, throttling.
    const serverOnly = ["create_user", "find_login", "find_login_by_id", "create_session", "rotate_refresh_token", "revoke_session", "revoke_user_sessions", "change_password",
      "authenticate_api_key", "login_retry_after", "record_login", "register_attempt"];
    for (const r of privileged) {
      expect(serverOnly.map((f) => `/rest/v1/rpc/${f}`)).toContain(r.path);
      expect(r.method).toBe("POST");
      expect(r.headers.apikey).toBe(secretKey);
      // An sb_secret_ key is not a JWT: never an Authorization header (supabase-js would add one).
      expect(r.headers.authorization).toBeUndefined();
    }
    for (const r of requests.filter((r) => !privileged.includes(r))) {
      expect(r.headers.apikey).toBe(publishableKey);
      // Nothing but function calls, and the health probe below.
      if (r.headers.authorization) expect(r).toMatchObject({ method: "POST", path: expect.stringMatching(/^\/rest\/v1\/rpc\/[a-z_]+$/) });
      // The health probe: the publishable key alone, PostgREST's anonymous role.
      if (!r.headers.authorization) {
        expect(r).toMatchObject({ method: "GET", path: "/rest/v1/conversations" });
        continue;
      }
      // The user's own access token, signed with our key and naming it.
      expect(decodeProtectedHeader(bearer(r)!)).toEqual({ alg: "ES256", kid: keys.ours.kid, typ: "JWT" });
      expect(decodeJwt(bearer(r)!)).toMatchObject({ role: "authenticated", aud: ["conversation-api", "authenticated"] });
    }
  });

  it("registers with one call of create_user, with the secret key alone", async () => {
    const email = `wire-${randomUUID()}@example.com`;
    const [r, ...more] = await during(() => store.createUser({ email, password_hash: "$2a$10$h", display_name: "Ada" }));
    expect(more).toEqual([]);
    expect(r).toMatchObject({ method: "POST", path: "/rest/v1/rpc/create_user", status: 200, body: { p_email: email, p_password_hash: "$2a$10$h", p_display_name: "Ada" } });
    expect(r!.query).toEqual([]);
    expect(r!.headers).toMatchObject({ apikey: backing.rest.secretKey, "content-type": "application/json", "content-profile": "public" });
    expect(r!.headers).not.toHaveProperty("authorization");
  });

  it("finds a login by its email in any case, in one call of find_login", async () => {
    const email = `wire-${randomUUID()}@example.com`;
    const user = await store.createUser({ email, password_hash: "h", display_name: null });
    const [r, ...more] = await during(async () => expect(await store.findLogin(email.toUpperCase())).toEqual({ user, password_hash: "h" }));
    expect(more).toEqual([]);
    expect(r).toMatchObject({ method: "POST", path: "/rest/v1/rpc/find_login", status: 200, body: { p_email: email.toUpperCase() } });
  });

  it("forwards the user's own access token, exactly as presented", async () => {
    const user = await store.createUser({ email: `wire-${randomUUID()}@example.com`, password_hash: "h", display_name: null });
    const token = "eyJ.forwarded.token";
    const [r] = await during(() => base.forUser(user.id, { accessToken: token }).getUser().catch(() => null));
    expect(r!.headers).toMatchObject({ apikey: backing.rest.publishableKey, authorization: `Bearer ${token}` });
    // Not ours to accept: PostgREST (the stand-in) refuses it.
    expect(r!.status).toBe(401);
  });

  it("refuses a signed-in operation with no credential to forward, sending nothing", async () => {
    const sent = await during(async () => expect(() => base.forUser(randomUUID())).toThrow(/no PostgREST credential/));
    expect(sent).toEqual([]);
  });

  it("legacy projects: signs each user's requests with a short-lived HS256 token for that user", async () => {
    const { rest } = backing;
    const legacy = createSupabaseStore({ url: rest.url, apiKey: rest.anonKey, secretKey: rest.serviceRoleKey, legacyJwtSecret: rest.jwtSecret });
    const user = await legacy.createUser({ email: `wire-${randomUUID()}@example.com`, password_hash: "h", display_name: null });
    const [r] = await during(() => legacy.forUser(user.id).getUser());
    expect(r!.headers.apikey).toBe(rest.anonKey);
    const token = bearer(r!)!;
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT" });
    const { payload } = await jwtVerify(token, new TextEncoder().encode(rest.jwtSecret));
    expect(payload).toMatchObject({ sub: user.id, role: "authenticated", aud: "authenticated" });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
    expect(r).toMatchObject({ method: "POST", path: "/rest/v1/rpc/get_user", status: 200, body: {} });
    // A legacy service_role key is a JWT and still travels as the bearer too.
    const [login] = await during(() => legacy.findLogin(user.email));
    expect(login!.headers).toMatchObject({ apikey: rest.serviceRoleKey, authorization: `Bearer ${rest.serviceRoleKey}` });
  });

  it("uses the SQL functions for writes and multi-part reads, with their documented argument names", async () => {
    const user = await store.createUser({ email: `wire-${randomUUID()}@example.com`, password_hash: "h", display_name: null });
    const as = store.forUser(user.id);
    const c = await as.createConversation({ title: "t", system_prompt: null, model: "m" });
    const replyId = randomUUID();
    const [begin] = await during(() =>
      as.beginReply({
        conversation_id: c.id, user_message_id: randomUUID(), content: "hi", idempotency_key: "k1", reply_id: replyId,
        model: "m", metadata: {}, stale_ms: 60_000,
      }),
    );
    expect(begin).toMatchObject({
      method: "POST",
      path: "/rest/v1/rpc/begin_reply",
      status: 200,
      body: { p_conversation_id: c.id, p_reply_id: replyId, p_content: "hi", p_idempotency_key: "k1" },
    });
    const [turn] = await during(() => as.prepareTurn(c.id, { historyLimit: 5, idempotencyKey: null }));
    expect(turn).toMatchObject({ path: "/rest/v1/rpc/prepare_turn", body: { p_conversation_id: c.id, p_history_limit: 5, p_idempotency_key: null } });
    const [finish] = await during(() =>
      as.finishReply({
        id: replyId, text: "yo", reasoning: "hmm", token_count: 1, input_tokens: 2, finish_reason: "end_turn", latency_ms: 3, ttft_ms: 4, metadata: { a: 1 },
      }),
    );
    expect(finish).toMatchObject({ path: "/rest/v1/rpc/finish_reply", status: 200 });
    expect(Object.keys(finish!.body as object).sort()).toEqual(
      ["p_finish_reason", "p_id", "p_input_tokens", "p_latency_ms", "p_metadata", "p_reasoning", "p_text", "p_token_count", "p_tool_text", "p_ttft_ms"],
    );
    const [usage] = await during(() => as.usage({ from: "2024-01-01T00:00:00Z", to: "2024-02-01T00:00:00Z", group_by: "model" }));
    expect(usage).toMatchObject({ path: "/rest/v1/rpc/usage_report", body: { p_from: "2024-01-01T00:00:00Z", p_to: "2024-02-01T00:00:00Z", p_group_by: "model" } });
  });

  it("pages conversations through list_conversations, the cursor's keyset (microseconds kept) as its arguments", async () => {
    const user = await store.createUser({ email: `wire-${randomUUID()}@example.com`, password_hash: "h", display_name: null });
    const as = store.forUser(user.id);
    const a = await as.createConversation({ title: "a", system_prompt: null, model: "m" });
    const b = await as.createConversation({ title: "b", system_prompt: null, model: "m" });
    await backing.admin.sql.query("update conversations set updated_at = $2 where id = $1", [a.id, "2030-01-01T00:00:00.000001Z"]);
    await backing.admin.sql.query("update conversations set updated_at = $2 where id = $1", [b.id, "2030-01-01T00:00:00.000002Z"]);
    const first = await as.listConversations({ limit: 1 });
    expect(first.data.map((c) => c.id)).toEqual([b.id]);
    const [r] = await during(async () => expect((await as.listConversations({ limit: 1, cursor: first.next_cursor! })).data.map((c) => c.id)).toEqual([a.id]));
    expect(r).toMatchObject({
      path: "/rest/v1/rpc/list_conversations",
      body: { p_after_updated_at: "2030-01-01T00:00:00.000002Z", p_after_id: b.id, p_limit: 2 },
    });
  });

  it("renames through update_conversation, sending only the fields given, and deletes through delete_conversation", async () => {
    const user = await store.createUser({ email: `wire-${randomUUID()}@example.com`, password_hash: "h", display_name: null });
    const as = store.forUser(user.id);
    const c = await as.createConversation({ title: "a", system_prompt: "p", model: "m" });
    const [r] = await during(() => as.updateConversation(c.id, { title: "b" }));
    expect(r).toMatchObject({ method: "POST", path: "/rest/v1/rpc/update_conversation", status: 200, body: { p_id: c.id, p_patch: { title: "b" } } });
    expect(await as.getConversation(c.id)).toMatchObject({ title: "b", system_prompt: "p" });
    const [d] = await during(() => as.deleteConversation(c.id));
    expect(d).toMatchObject({ method: "POST", path: "/rest/v1/rpc/delete_conversation", body: { p_id: c.id } });
  });

  it("answers exactly as the SQL transport does over the same database, in another time zone", async () => {
    const user = await store.createUser({ email: `same-${randomUUID()}@example.com`, password_hash: "h", display_name: "Ada" });
    const as = store.forUser(user.id);
    const c = await as.createConversation({ title: "hello there", system_prompt: "p", model: "m" });
    const sent = await as.beginReply({
      conversation_id: c.id, user_message_id: randomUUID(), content: "hi", idempotency_key: "k", reply_id: randomUUID(), model: "m", metadata: { a: 1 }, stale_ms: 60_000,
    });
    if (sent.status !== "created") throw new Error(sent.status);
    await as.finishReply({ id: sent.reply.id, text: "yo", reasoning: "hmm", token_count: 1, input_tokens: 2, finish_reason: "end_turn", latency_ms: 3, ttft_ms: 4, metadata: { b: 2 } });
    await as.createApiKey({ name: "k", prefix: "cak_x", key_hash: randomBytes(32).toString("hex"), expires_at: "2030-01-01T00:00:00.123456Z" });
    const range = { from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z" };
    const read = (s: Store) => {
      const u = s.forUser(user.id);
      return Promise.all([
        u.getUser(), u.listConversations({ limit: 10 }), u.getConversation(c.id), u.listMessages(c.id, { limit: 10 }), u.exportConversation(c.id),
        u.prepareTurn(c.id, { historyLimit: 10, idempotencyKey: "k" }), u.getReply(sent.reply.id, 60_000), u.listApiKeys(),
        u.searchConversations("hello", { limit: 10 }), u.usage({ ...range, group_by: "model" }), s.findLogin(user.email), s.findLoginById(user.id),
      ]);
    };
    const viaRest = await read(store);
    expect(viaRest).toEqual(await read(backing.admin));
    expect(viaRest[0]).toEqual(user);
    expect(viaRest[3]!.data.map((m) => m.content)).toEqual(["hi", "yo"]);
  });

  it("refuses the pre-auth operations without a secret key, sending nothing", async () => {
    const { rest } = backing;
    const limited = createSupabaseStore({ url: rest.url, apiKey: rest.publishableKey });
    const sent = await during(async () => {
      await expect(limited.createUser({ email: "x@example.com", password_hash: "h", display_name: null })).rejects.toThrow(/SUPABASE_SECRET_KEY/);
      await expect(limited.findLogin("x@example.com")).rejects.toThrow(/SUPABASE_SECRET_KEY/);
      await expect(limited.rotateSession("a", "b", new Date().toISOString())).rejects.toThrow(/SUPABASE_SECRET_KEY/);
      // An API key on a data function (which holds no secret key): a clear 401, not a 500 (known limit).
      await expect(limited.authenticateApiKey("0".repeat(64))).rejects.toMatchObject({
        status: 401,
        type: "authentication_error",
        expose: true,
        message: expect.stringMatching(/API keys are not available on this function/),
      });
    });
    expect(sent).toEqual([]);
  });

  it("probes health with the publishable key alone: no token, no secret", async () => {
    const { rest } = backing;
    const healthOnly = createSupabaseStore({ url: rest.url, apiKey: rest.publishableKey });
    const [r] = await during(async () => expect(await healthOnly.health()).toBe(true));
    expect(r).toMatchObject({ path: "/rest/v1/conversations", status: 401 });
    expect(r!.headers.apikey).toBe(rest.publishableKey);
    expect(r!.headers).not.toHaveProperty("authorization");
  });

  it("reports unhealthy when the gateway rejects its API key", async () => {
    const { rest } = backing;
    const wrong = createSupabaseStore({ url: rest.url, apiKey: "sb_publishable_not-this-project" });
    const [r] = await during(async () => expect(await wrong.health()).toBe(false));
    expect(r).toMatchObject({ path: "/rest/v1/conversations", status: 401 });
  });
});
