// Search, titles (offline: first words) and export through real HTTP against the local runtime with
// PGlite and the offline model.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app";
import { call, readSse, registerUser, stream } from "../support/http";

let app: TestApp;
let api: string;
beforeAll(async () => {
  app = await startApp();
  api = app.api;
});
afterAll(() => app.close());

async function conversation(token: string, body: Record<string, unknown> = {}): Promise<string> {
  const r = await call(api, "POST", "/conversations", { token, body });
  expect(r.status).toBe(201);
  return r.body.id;
}

async function send(token: string, id: string, content: string) {
  const res = await stream(api, id, token, { content });
  expect(res.status).toBe(200);
  const events = await readSse(res);
  expect(events.at(-1)!.event).toBe("message_stop");
}

const ids = (r: { body: { data: { id: string }[] } }) => r.body.data.map((c) => c.id);

describe("GET /conversations?q=", () => {
  it("finds conversations by message text or title, pages them, and never shows another user's", async () => {
    const { token } = await registerUser(api, "search");
    const a = await conversation(token, { title: "Weekend plans" });
    await send(token, a, "Which museums in Lisbon open on Mondays?");
    const b = await conversation(token);
    await send(token, b, "lisbon tram routes");
    const c = await conversation(token, { title: "Lisbon food" });
    const d = await conversation(token, { title: "Unrelated" });
    await send(token, d, "Porto in autumn");

    const all = await call(api, "GET", "/conversations?q=Lisbon", { token });
    expect(all.status).toBe(200);
    // Most recent activity first, as the plain list.
    expect(ids(all)).toEqual([c, b, a]);
    expect(all.body.next_cursor).toBeNull();
    // The offline model echoes the question, so replies match too; a phrase narrows it.
    expect(ids(await call(api, "GET", `/conversations?q=${encodeURIComponent('"tram routes"')}`, { token }))).toEqual([b]);
    expect(ids(await call(api, "GET", `/conversations?q=${encodeURIComponent("lisbon -food")}`, { token }))).toEqual([b, a]);

    const first = await call(api, "GET", "/conversations?q=lisbon&limit=2", { token });
    expect(ids(first)).toEqual([c, b]);
    const second = await call(api, "GET", `/conversations?q=lisbon&limit=2&cursor=${first.body.next_cursor}`, { token });
    expect(ids(second)).toEqual([a]);
    expect(second.body.next_cursor).toBeNull();

    const stranger = await registerUser(api, "stranger");
    expect(ids(await call(api, "GET", "/conversations?q=lisbon", { token: stranger.token }))).toEqual([]);
  });

  it("treats an empty or blank q as no filter, and refuses a q over 200 characters", async () => {
    const { token } = await registerUser(api, "blank");
    const a = await conversation(token, { title: "One" });
    const b = await conversation(token, { title: "Two" });
    for (const q of ["", "%20%20", "%09"]) expect(ids(await call(api, "GET", `/conversations?q=${q}`, { token }))).toEqual([b, a]);
    // Punctuation has no words to look for: nothing matches (rather than everything).
    expect(ids(await call(api, "GET", "/conversations?q=%21%21", { token }))).toEqual([]);
    const long = await call(api, "GET", `/conversations?q=${"a".repeat(201)}`, { token });
    expect(long.status).toBe(422);
    expect(long.body.error).toMatchObject({ type: "validation_error", fields: [{ path: "query.q" }] });
  });
});

describe("titles", () => {
  it("an untitled conversation gets the first words of its first message once the reply ended; a set title stays", async () => {
    const { token } = await registerUser(api, "titles");
    const id = await conversation(token);
    expect((await call(api, "GET", `/conversations/${id}`, { token })).body.title).toBeNull();
    await send(token, id, "Could you explain how photosynthesis turns light into chemical energy in plants, step by step?");
    const title = (await call(api, "GET", `/conversations/${id}`, { token })).body.title as string;
    expect(title).toBe("Could you explain how photosynthesis turns light into…");
    expect([...title].length).toBeLessThanOrEqual(60);
    // Later replies do not rename it, and a title the user sets is kept.
    await call(api, "PATCH", `/conversations/${id}`, { token, body: { title: "Biology" } });
    await send(token, id, "And at night?");
    expect((await call(api, "GET", `/conversations/${id}`, { token })).body.title).toBe("Biology");
    const named = await conversation(token, { title: "Named" });
    await send(token, named, "Something else entirely");
    expect((await call(api, "GET", `/conversations/${named}`, { token })).body.title).toBe("Named");
  });
});

describe("GET /conversations/{id}/export", () => {
  it("JSON: the conversation with every message and its fields", async () => {
    const { token } = await registerUser(api, "export");
    const id = await conversation(token, { title: "Export test", system_prompt: "Be brief." });
    await send(token, id, "Hello there");
    const got = (await call(api, "GET", `/conversations/${id}`, { token })).body;
    // GET lists the current branch with each message's alternatives (sibling_*, issue 14); the export
    // holds the stored messages themselves (parent_id says where each sits in the tree).
    const stored = {
      ...got,
      messages: got.messages.map(({ sibling_ids: _i, sibling_count: _c, sibling_index: _x, ...m }: Record<string, unknown>) => m),
    };
    expect(stored.messages.map((m: { parent_id: string | null }) => m.parent_id)).toEqual([null, stored.messages[0].id]);
    for (const path of [`/conversations/${id}/export`, `/conversations/${id}/export?format=json`]) {
      const r = await call(api, "GET", path, { token });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toMatch(/^application\/json/);
      expect(r.body).toEqual(stored);
    }
  });

  it("Markdown: title, system prompt and each turn under a role heading, as a download", async () => {
    const { token } = await registerUser(api, "export-md");
    const id = await conversation(token, { title: "Trip / Lisbon: 2024", system_prompt: "Be brief." });
    await send(token, id, "Hello there");
    const res = await fetch(`${api}/conversations/${id}/export?format=markdown`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/markdown; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="trip-lisbon-2024-${id.slice(0, 8)}.md"`);
    const md = await res.text();
    const reply = (await call(api, "GET", `/conversations/${id}/messages`, { token })).body.data[1];
    expect(md.startsWith("# Trip / Lisbon: 2024\n")).toBe(true);
    expect(md).toContain("## System prompt\n\nBe brief.\n");
    // The offline model "reasons" for a reasoning model: that goes in a collapsed block before the answer.
    expect(reply.reasoning).not.toBe("");
    expect(md).toContain(
      `## User\n\nHello there\n\n## Assistant (${reply.model})\n\n<details>\n<summary>Reasoning</summary>\n\n${reply.reasoning}\n\n</details>\n\n${reply.content}\n`,
    );
    expect(md.indexOf("## User")).toBeLessThan(md.indexOf("## Assistant"));
  });

  it("404 for another user's conversation, an unknown id, and 422 for an unknown format", async () => {
    const { token } = await registerUser(api, "export-owner");
    const id = await conversation(token);
    const other = await registerUser(api, "export-other");
    for (const format of ["json", "markdown"]) {
      const r = await call(api, "GET", `/conversations/${id}/export?format=${format}`, { token: other.token });
      expect(r.status).toBe(404);
      expect(r.body.error.type).toBe("not_found_error");
    }
    expect((await call(api, "GET", `/conversations/00000000-0000-4000-8000-000000000000/export`, { token })).status).toBe(404);
    expect((await call(api, "GET", `/conversations/${id}/export?format=pdf`, { token })).status).toBe(422);
    expect((await call(api, "GET", `/conversations/${id}/export`)).status).toBe(401);
  });
});
