// The path a user walks, over real HTTP through the local runtime and the same Lambda handlers that deploy.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app";
import { call, readSse, registerUser, stream } from "../support/http";

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app.close());

describe("register → converse → stream → stored", () => {
  it("walks the whole product", async () => {
    const email = `Walker-${Date.now()}@Example.com`;
    const reg = await call(app.api, "POST", "/auth/register", {
      body: { email, password: "s3cret-password", display_name: "Walker" },
    });
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({ token_type: "bearer", expires_in: 900, user: { email: email.toLowerCase(), display_name: "Walker" } });
    expect(reg.headers.get("x-request-id")).toBeTruthy();

    const login = await call(app.api, "POST", "/auth/login", { body: { email, password: "s3cret-password" } });
    expect(login.status).toBe(200);
    const token = login.body.access_token as string;

    const me = await call(app.api, "GET", "/auth/me", { token });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(reg.body.user.id);

    const created = await call(app.api, "POST", "/conversations", {
      token,
      body: { title: "First chat", system_prompt: "Be brief." },
    });
    expect(created.status).toBe(201);
    const conv = created.body;
    expect(conv).toMatchObject({ title: "First chat", system_prompt: "Be brief.", model: "openai/gpt-oss-20b" });

    const res = await stream(app.api, conv.id, token, { content: "Hello there, model!" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const events = await readSse(res);
    const names = events.map((e) => e.event).filter((n) => n !== "ping");

    // The exact Anthropic Messages sequence: the default model reasons, so the offline model plays a
    // thinking block (index 0) before the text block (index 1).
    const starts = names.flatMap((n, i) => (n === "content_block_start" ? [i] : []));
    const stops = names.flatMap((n, i) => (n === "content_block_stop" ? [i] : []));
    expect(names[0]).toBe("message_start");
    expect(starts).toEqual([1, stops[0]! + 1]);
    expect(events[starts[0]!]!.data).toMatchObject({ index: 0, content_block: { type: "thinking" } });
    expect(events[starts[1]!]!.data).toMatchObject({ index: 1, content_block: { type: "text" } });
    expect(names.slice(2, stops[0]).every((n) => n === "content_block_delta")).toBe(true);
    expect(names.slice(starts[1]! + 1, -3).every((n) => n === "content_block_delta")).toBe(true);
    expect(names.slice(starts[1]! + 1, -3).length).toBeGreaterThan(3);
    expect(names.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    const ids = events.filter((e) => e.event !== "ping").map((e) => Number(e.id));
    // Ids encode the position in the reply (see Last-Event-ID resume), so they strictly increase.
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);

    const start = events[0]!.data;
    expect(start.message).toMatchObject({ role: "assistant", conversation_id: conv.id, model: "offline-echo", content: [] });
    expect(start.message.usage.input_tokens).toBeGreaterThan(0);
    const deltas = events.filter((e) => e.event === "content_block_delta").map((e) => e.data.delta);
    const text = deltas.filter((d) => d.type === "text_delta").map((d) => d.text).join("");
    const thinking = deltas.filter((d) => d.type === "thinking_delta").map((d) => d.thinking).join("");
    expect(thinking).toContain("openai/gpt-oss-20b");
    expect(text).toContain('You said: "Hello there, model!"');
    const delta = events.find((e) => e.event === "message_delta")!.data;
    expect(delta.delta.stop_reason).toBe("end_turn");

    // Stored with its usage once the stream has ended.
    const msgs = await call(app.api, "GET", `/conversations/${conv.id}/messages`, { token });
    expect(msgs.status).toBe(200);
    expect(msgs.body.data).toHaveLength(2);
    const [user, reply] = msgs.body.data;
    expect(user).toMatchObject({ role: "user", content: "Hello there, model!" });
    expect(reply).toMatchObject({
      id: start.message.id,
      role: "assistant",
      content: text,
      reasoning: thinking,
      model: "offline-echo",
      finish_reason: "end_turn",
      token_count: delta.usage.output_tokens,
    });
    expect(reply.input_tokens).toBeGreaterThan(0);
    expect(reply.latency_ms).toBeGreaterThanOrEqual(reply.ttft_ms);
    expect(reply.ttft_ms).toBeGreaterThanOrEqual(0);
    expect(reply.metadata).toMatchObject({ provider: "offline", history_omitted: 0 });

    const full = await call(app.api, "GET", `/conversations/${conv.id}`, { token });
    expect(full.body.messages.map((m: { id: string }) => m.id)).toEqual([user.id, reply.id]);

    // The second turn sees the first in its prompt.
    const second = await readSse(await stream(app.api, conv.id, token, { content: "And again", max_tokens: 3 }));
    const d2 = second.find((e) => e.event === "message_delta")!.data;
    expect(d2.delta.stop_reason).toBe("max_tokens");
    expect(d2.usage.output_tokens).toBe(3);
    expect(second[0]!.data.message.usage.input_tokens).toBeGreaterThan(start.message.usage.input_tokens);

    const patched = await call(app.api, "PATCH", `/conversations/${conv.id}`, { token, body: { title: "Renamed" } });
    expect(patched.status).toBe(200);
    expect(patched.body.title).toBe("Renamed");
    expect(patched.body.system_prompt).toBe("Be brief.");

    const del = await call(app.api, "DELETE", `/conversations/${conv.id}`, { token });
    expect(del.status).toBe(204);
    expect((await call(app.api, "GET", `/conversations/${conv.id}`, { token })).status).toBe(404);
    expect((await call(app.api, "GET", `/conversations/${conv.id}/messages`, { token })).status).toBe(404);
  });

  it("reports health", async () => {
    const h = await call(app.api, "GET", "/health");
    expect(h.status).toBe(200);
    expect(h.body).toEqual({ status: "ok", database: "ok" });
  });
});

describe("pagination", () => {
  it("pages conversations newest activity first, stable under inserts", async () => {
    const { token } = await registerUser(app.api);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await call(app.api, "POST", "/conversations", { token, body: { title: `c${i}` } })).body.id);
    // Rows created within the same millisecond tie on updated_at and are ordered by id, so the expected
    // order is the one full listing gives; it must hold the 7 newest first, by time.
    const ref: string[] = (await call(app.api, "GET", "/conversations?limit=100", { token })).body.data.map((c: { id: string }) => c.id);
    expect([...ref].sort()).toEqual([...ids].sort());
    const p1 = await call(app.api, "GET", "/conversations?limit=3", { token });
    expect(p1.body.data.map((c: { id: string }) => c.id)).toEqual(ref.slice(0, 3));
    // A conversation created between page fetches must not shift the following pages.
    await call(app.api, "POST", "/conversations", { token, body: { title: "late" } });
    const p2 = await call(app.api, "GET", `/conversations?limit=3&cursor=${encodeURIComponent(p1.body.next_cursor)}`, { token });
    expect(p2.body.data.map((c: { id: string }) => c.id)).toEqual(ref.slice(3, 6));
    const p3 = await call(app.api, "GET", `/conversations?limit=3&cursor=${encodeURIComponent(p2.body.next_cursor)}`, { token });
    expect(p3.body.data.map((c: { id: string }) => c.id)).toEqual(ref.slice(6));
    expect(p3.body.next_cursor).toBeNull();

    // Activity moves a conversation to the front.
    await readSse(await stream(app.api, ref[6]!, token, { content: "bump" }));
    const top = await call(app.api, "GET", "/conversations?limit=1", { token });
    expect(top.body.data[0].id).toBe(ref[6]);
  });

  it("pages messages oldest first", async () => {
    const { token } = await registerUser(app.api);
    const conv = (await call(app.api, "POST", "/conversations", { token })).body;
    for (let i = 0; i < 3; i++) await readSse(await stream(app.api, conv.id, token, { content: `m${i}` }));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = await call(app.api, "GET", `/conversations/${conv.id}/messages?limit=4${q}`, { token });
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((m: { role: string; content: string }) => `${m.role}:${m.content.slice(0, 2)}`));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen.filter((s) => s.startsWith("user"))).toEqual(["user:m0", "user:m1", "user:m2"]);
    expect(seen).toHaveLength(6);
  });
});

describe("isolation between users", () => {
  it("answers 404, never 403, for another user's conversation", async () => {
    const a = await registerUser(app.api, "a");
    const b = await registerUser(app.api, "b");
    const conv = (await call(app.api, "POST", "/conversations", { token: a.token, body: { title: "private" } })).body;
    for (const [method, path, body] of [
      ["GET", `/conversations/${conv.id}`],
      ["PATCH", `/conversations/${conv.id}`, { title: "mine now" }],
      ["DELETE", `/conversations/${conv.id}`],
      ["GET", `/conversations/${conv.id}/messages`],
    ] as const) {
      const r = await call(app.api, method, path, { token: b.token, body });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body.error.type).toBe("not_found_error");
    }
    const s = await stream(app.api, conv.id, b.token, { content: "hi" });
    expect(s.status).toBe(404);
    expect(s.headers.get("content-type")).toMatch(/application\/json/);
    const list = await call(app.api, "GET", "/conversations", { token: b.token });
    expect(list.body.data).toEqual([]);
    // Still intact for its owner.
    expect((await call(app.api, "GET", `/conversations/${conv.id}`, { token: a.token })).body.title).toBe("private");
  });
});
