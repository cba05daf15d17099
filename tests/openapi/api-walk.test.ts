// The whole API on the real local runtime, every answer checked against the committed document.
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startApp, type TestApp } from "../support/app";
import { ApiContract } from "./api-contract";

const doc = JSON.parse(readFileSync(new URL("../../openapi.json", import.meta.url), "utf8"));

let app: TestApp;
let api: ApiContract;
const email = `walker-${process.pid}@example.com`;
const password = "correct horse battery";
let token = "";
let conversationId = "";

beforeAll(async () => {
  app = await startApp();
  api = new ApiContract(doc, app.url);
});
afterAll(() => app?.close());

// The steps share one account and conversation, so they run in order (vitest's default in a file).
describe("every endpoint answers as documented", () => {
  test("health", async () => {
    const r = await api.call("health");
    expect(r.status).toBe(200);
  });

  test("models, without signing in", async () => {
    const r = await api.call("models");
    expect(r.status).toBe(200);
    expect(r.body.data.filter((m: { default: boolean }) => m.default)).toHaveLength(1);
    // Without GROQ_API_KEY the offline model's list: one model, with its window and cap, under each allowed name.
    expect(r.body).toMatchObject({ source: "offline", fetched_at: null, unavailable: [] });
    expect(r.body.data[0]).toMatchObject({ context_window: 131_072, max_output_tokens: 32_768 });
  });

  test("register, then register again (409)", async () => {
    const r = await api.call("auth-register", { body: { email, password, display_name: "Walker" } });
    expect(r.status).toBe(201);
    token = r.body.access_token;
    expect((await api.call("auth-register", { body: { email, password } })).status).toBe(409);
  });

  test("login, and a wrong password (401)", async () => {
    const r = await api.call("auth-login", { body: { email, password } });
    expect(r.status).toBe(200);
    token = r.body.access_token;
    expect((await api.call("auth-login", { body: { email, password: "wrong password" } })).status).toBe(401);
  });

  test("me, without a token (401) and with a bad one (401)", async () => {
    expect((await api.call("auth-me", { token })).status).toBe(200);
    expect((await api.call("auth-me")).status).toBe(401);
    expect((await api.call("auth-me", { token: "not.a.jwt" })).status).toBe(401);
  });

  test("create, list, get and update a conversation", async () => {
    const created = await api.call("conversations-create", { token, body: { title: "Contract", system_prompt: "Be brief." } });
    expect(created.status).toBe(201);
    conversationId = created.body.id;
    expect((await api.call("conversations-create", { token })).status).toBe(201);
    const list = await api.call("conversations-list", { token, query: { limit: "1" } });
    expect(list.status).toBe(200);
    expect((await api.call("conversations-list", { token, query: { limit: "1", cursor: list.body.next_cursor } })).status).toBe(200);
    expect((await api.call("conversations-get", { token, params: { id: conversationId } })).status).toBe(200);
    const patched = await api.call("conversations-update", { token, params: { id: conversationId }, body: { title: null } });
    expect(patched.status).toBe(200);
  });

  test("stream a reply, and repeat it with the same Idempotency-Key (409)", async () => {
    const key = randomUUID();
    const r = await api.stream("messages-stream", { token, params: { id: conversationId }, body: { content: "Hello there" }, headers: { "idempotency-key": key } });
    expect(r.status).toBe(200);
    expect(r.events.map((e) => e.event).filter((e) => e !== "ping")).toEqual(
      expect.arrayContaining(["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]),
    );
    const again = await api.stream("messages-stream", { token, params: { id: conversationId }, body: { content: "Hello there" }, headers: { "idempotency-key": key } });
    expect(again.status).toBe(409);
    expect(again.body.error.reply_id).toBeTruthy();
  });

  test("the stream's errors before it starts", async () => {
    const params = { id: conversationId };
    expect((await api.stream("messages-stream", { params, body: { content: "x" } })).status).toBe(401);
    expect((await api.stream("messages-stream", { token, params: { id: randomUUID() }, body: { content: "x" } })).status).toBe(404);
    expect((await api.stream("messages-stream", { token, params, body: { content: "" } })).status).toBe(422);
    expect((await api.stream("messages-stream", { token, params, body: "{not json" })).status).toBe(400);
  });

  test("follow a reply from the start and after an event id; cancel an ended reply (409)", async () => {
    const sent = await api.stream("messages-stream", { token, params: { id: conversationId }, body: { content: "Once more" } });
    const params = { id: conversationId, message_id: sent.events[0]!.data.message.id };
    const whole = await api.stream("messages-resume", { token, params });
    expect(whole.status).toBe(200);
    // The replay sends the stored text in one delta; the structure and the text are the live ones.
    const shape = (events: typeof sent.events) => events.map((e) => e.event).filter((e) => e !== "ping" && e !== "content_block_delta");
    const text = (events: typeof sent.events) => events.filter((e) => e.event === "content_block_delta").map((e) => e.data.delta.text).join("");
    expect(shape(whole.events)).toEqual(shape(sent.events));
    expect(text(whole.events)).toBe(text(sent.events));
    const after = await api.stream("messages-resume", { token, params, headers: { "last-event-id": sent.events[1]!.id! } });
    expect(after.status).toBe(200);
    expect((await api.stream("messages-resume", { token, params, query: { last_event_id: "x" } })).status).toBe(422);
    expect((await api.stream("messages-resume", { params })).status).toBe(401);
    expect((await api.stream("messages-resume", { token, params: { ...params, message_id: randomUUID() } })).status).toBe(404);
    expect((await api.call("messages-cancel", { token, params })).status).toBe(409);
    expect((await api.call("messages-cancel", { params })).status).toBe(401);
    expect((await api.call("messages-cancel", { token, params: { ...params, message_id: randomUUID() } })).status).toBe(404);
  });

  test("regenerate a reply (a branch), switch back to the first one", async () => {
    const listed = await api.call("messages-list", { token, params: { id: conversationId } });
    const first = listed.body.data.at(-1);
    const params = { id: conversationId, message_id: first.id };
    const again = await api.stream("messages-regenerate", { token, params, body: {} });
    expect(again.status).toBe(200);
    expect(again.events[0]!.event).toBe("message_start");
    expect((await api.stream("messages-regenerate", { params, body: {} })).status).toBe(401);
    expect((await api.stream("messages-regenerate", { token, params: { ...params, message_id: randomUUID() }, body: {} })).status).toBe(404);
    expect((await api.stream("messages-regenerate", { token, params, body: { max_tokens: 0 } })).status).toBe(422);
    const switched = await api.call("conversations-branch", { token, params: { id: conversationId }, body: { message_id: first.id } });
    expect(switched.status).toBe(200);
    expect(switched.body.leaf_id).toBe(first.id);
    expect((await api.call("conversations-branch", { params: { id: conversationId }, body: { message_id: first.id } })).status).toBe(401);
    expect((await api.call("conversations-branch", { token, params: { id: conversationId }, body: { message_id: randomUUID() } })).status).toBe(404);
    expect((await api.call("conversations-branch", { token, params: { id: conversationId }, body: {} })).status).toBe(422);
  });

  test("useChat's send and resume: the UI message stream, 204 with nothing to resume, and the errors before a stream", async () => {
    const chat = randomUUID();
    const user = { id: "u1", role: "user", parts: [{ type: "text", text: "Hi" }] };
    const sent = await api.stream("chat-send", { token, body: { id: chat, messages: [user], trigger: "submit-message" } });
    expect(sent.status).toBe(200);
    expect(sent.events.map((e) => e.data.type)).toEqual(expect.arrayContaining(["start", "text-start", "text-delta", "text-end", "finish"]));
    expect((await api.stream("chat-resume", { token, params: { id: chat } })).status).toBe(204);
    expect((await api.stream("chat-send", { body: { id: chat, messages: [user], trigger: "submit-message" } })).status).toBe(401);
    expect((await api.stream("chat-send", { token, body: { id: chat, messages: [], trigger: "submit-message" } })).status).toBe(422);
    expect((await api.stream("chat-send", { token, body: "{not json" })).status).toBe(400);
    expect((await api.stream("chat-send", { token, body: { id: randomUUID(), messages: [user], trigger: "regenerate-message" } })).status).toBe(404);
    expect((await api.stream("chat-resume", { params: { id: chat } })).status).toBe(401);
  });

  test("list messages, and usage", async () => {
    const r = await api.call("messages-list", { token, params: { id: conversationId } });
    expect(r.status).toBe(200);
    expect(r.body.data.length).toBeGreaterThanOrEqual(2);
    expect((await api.call("usage", { token })).status).toBe(200);
    expect((await api.call("usage", { token, query: { group_by: "model" } })).status).toBe(200);
  });

  test("search, and export as JSON and Markdown (issue 14)", async () => {
    const found = await api.call("conversations-list", { token, query: { q: "hello", limit: "1" } });
    expect(found.status).toBe(200);
    expect(found.body.data.map((c: { id: string }) => c.id)).toEqual([conversationId]);
    expect((await api.call("conversations-list", { token, query: { q: "x".repeat(201) } })).status).toBe(422);
    const params = { id: conversationId };
    const json = await api.call("conversations-export", { token, params, query: { format: "json" } });
    expect(json.status).toBe(200);
    expect(json.body.messages.length).toBeGreaterThanOrEqual(2);
    const md = await api.text("conversations-export", { token, params, query: { format: "markdown" } });
    expect(md.status).toBe(200);
    expect(md.body).toContain("## User");
    expect((await api.call("conversations-export", { token, params: { id: randomUUID() } })).status).toBe(404);
    expect((await api.call("conversations-export", { token, params, query: { format: "pdf" } })).status).toBe(422);
    expect((await api.call("conversations-export", { params })).status).toBe(401);
  });

  test("error cases: 400, 404, 413, 415, 422", async () => {
    expect((await api.call("conversations-create", { token, body: "{not json" })).status).toBe(400);
    expect((await api.call("conversations-get", { token, params: { id: randomUUID() } })).status).toBe(404);
    expect((await api.call("conversations-get", { token, params: { id: "not-a-uuid" } })).status).toBe(404);
    expect((await api.call("conversations-create", { token, body: { title: "x".repeat(100 * 1024) } })).status).toBe(413);
    expect((await api.call("conversations-create", { token, body: "title=x", headers: { "content-type": "text/plain" } })).status).toBe(415);
    expect((await api.call("auth-register", { body: { email: "not an email", password: "short" } })).status).toBe(422);
    expect((await api.call("conversations-update", { token, params: { id: conversationId }, body: {} })).status).toBe(422);
    expect((await api.call("messages-list", { token, params: { id: conversationId }, query: { limit: "0" } })).status).toBe(422);
    expect((await api.call("usage", { token, query: { from: "2025-02-01", to: "2025-01-01" } })).status).toBe(422);
  });

  test("sessions: refresh, logout, change the password, log out everywhere", async () => {
    const login = await api.call("auth-login", { body: { email, password } });
    const refreshed = await api.call("auth-refresh", { body: { refresh_token: login.body.refresh_token } });
    expect(refreshed.status).toBe(200);
    expect((await api.call("auth-refresh", { body: { refresh_token: login.body.refresh_token } })).status).toBe(401);
    expect((await api.call("auth-logout", { body: { refresh_token: refreshed.body.refresh_token } })).status).toBe(204);
    const changed = await api.call("auth-password", { token, body: { current_password: password, new_password: password + "!" } });
    expect(changed.status).toBe(200);
    token = changed.body.access_token;
    expect((await api.call("auth-password", { token, body: { current_password: "wrong password", new_password: password } })).status).toBe(422);
    expect((await api.call("auth-password", { body: { current_password: password, new_password: password } })).status).toBe(401);
    // The password change left one session, the one it started; the access token outlives it.
    expect((await api.call("auth-logout-all", { token })).body).toEqual({ revoked_sessions: 1 });
    expect((await api.call("auth-refresh", { body: { refresh_token: changed.body.refresh_token } })).status).toBe(401);
    expect((await api.call("auth-logout-all")).status).toBe(401);
  });

  test("API keys: create, list, use, a key cannot manage keys (403), revoke", async () => {
    const created = await api.call("api-keys-create", { token, body: { name: "walk" } });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect((await api.call("api-keys-list", { token })).status).toBe(200);
    expect((await api.call("api-keys-list", { headers: { "x-api-key": key } })).status).toBe(200);
    expect((await api.call("api-keys-create", { token: key, body: { name: "nope" } })).status).toBe(403);
    expect((await api.call("api-keys-delete", { token: key, params: { id: created.body.id } })).status).toBe(403);
    expect((await api.call("auth-logout-all", { token: key })).status).toBe(403);
    expect((await api.call("api-keys-delete", { token, params: { id: created.body.id } })).status).toBe(204);
    expect((await api.call("api-keys-delete", { token, params: { id: created.body.id } })).status).toBe(404);
    expect((await api.call("api-keys-list", { token: key })).status).toBe(401);
  });

  test("the Anthropic and OpenAI formats: models, count_tokens, a call, bad input and no credential in each format's shape", async () => {
    const model = (await api.call("models")).body.data[0].id as string;
    const messages = [{ role: "user", content: "Hi" }];
    expect((await api.call("anthropic-models", { token })).status).toBe(200);
    expect((await api.call("anthropic-models")).body).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    expect((await api.call("anthropic-count-tokens", { token, body: { model, messages } })).body.input_tokens).toBeGreaterThan(0);
    expect((await api.call("anthropic-count-tokens", { token, body: { model } })).status).toBe(400);
    expect((await api.call("anthropic-messages", { token, body: { model, max_tokens: 64, messages } })).body.type).toBe("message");
    expect((await api.call("anthropic-messages", { token, body: { model, messages } })).body.error.message).toContain("max_tokens");
    expect((await api.call("anthropic-messages", { body: { model, max_tokens: 64, messages } })).status).toBe(401);
    expect((await api.call("openai-models", { token })).body.object).toBe("list");
    expect((await api.call("openai-models")).status).toBe(401);
    expect((await api.call("openai-chat-completions", { token, body: { model, messages } })).body.object).toBe("chat.completion");
    expect((await api.call("openai-chat-completions", { token, body: { model, n: 2, messages } })).body.error.param).toBe("n");
    expect((await api.call("openai-chat-completions", { body: { model, messages } })).status).toBe(401);
  });

  test("delete, then the conversation is gone", async () => {
    expect((await api.call("conversations-delete", { token, params: { id: conversationId } })).status).toBe(204);
    expect((await api.call("conversations-get", { token, params: { id: conversationId } })).status).toBe(404);
    expect((await api.call("conversations-delete", { token, params: { id: conversationId } })).status).toBe(404);
  });

  test("the walk covered every operation and every error status it set out to", () => {
    expect([...api.seen.keys()].sort()).toEqual(api.operationIds.sort());
    const statuses = new Set([...api.seen.values()].flatMap((s) => [...s]));
    for (const s of [200, 201, 204, 400, 401, 403, 404, 409, 413, 415, 422]) expect(statuses, `status ${s}`).toContain(s);
  });
});

// The walk is only as strict as its checker: prove it rejects what the document does not allow.
describe("the checker itself", () => {
  const doctored = (edit: (d: any) => void) => {
    const d = structuredClone(doc);
    edit(d);
    return new ApiContract(d, app.url);
  };

  test("fails on a status the document does not list", async () => {
    const strict = doctored((d) => delete d.paths["/api/v1/health"].get.responses["200"]);
    await expect(strict.call("health")).rejects.toThrow(/status not documented/);
  });

  test("fails on a body the schema rejects", async () => {
    const strict = doctored((d) => (d.components.schemas.Health.properties.database = { type: "integer" }));
    await expect(strict.call("health")).rejects.toThrow(/does not match the schema/);
  });

  test("fails on an SSE event whose data the event's schema rejects", async () => {
    const strict = doctored((d) => (d.components.schemas.MessageStopEvent.properties.type = { const: "nope" }));
    const t = (await api.call("auth-register", { body: { email: `w-${randomUUID()}@example.com`, password } })).body.access_token;
    const c = await api.call("conversations-create", { token: t });
    await expect(strict.stream("messages-stream", { token: t, params: { id: c.body.id }, body: { content: "Hi" } })).rejects.toThrow(
      /"message_stop" data does not match/,
    );
  });

  test("fails on a content type the document does not list", async () => {
    const strict = doctored((d) => {
      const ok = d.paths["/api/v1/health"].get.responses["200"];
      ok.content = { "text/plain": ok.content["application/json"] };
    });
    await expect(strict.call("health")).rejects.toThrow(/content type/);
  });
});
