// Branches over real HTTP: the local runtime, PGlite, and the real groq-sdk against the loopback Groq
// server, which records the prompt each reply was asked with. Regenerate makes a sibling, the branch
// route switches the listed path, a send with parent_id edits, and a prompt only ever holds its path.
// One reply streams at a time per conversation: a second send is 409 with the streaming reply's id.
import { afterAll, beforeAll, expect, it } from "vitest";
import { reply } from "../fixtures/groq-server";
import { call, readSse, registerUser, sseEvents, stream, type SseEvent } from "../support/http";
import { messages, newConversation, replies, startGroqApp, textOf, type GroqApp } from "../groq/harness";

let h: GroqApp;
let api: string;
let token: string;
beforeAll(async () => {
  h = await startGroqApp();
  api = h.app.api;
  ({ token } = await registerUser(api, "branches"));
});
afterAll(() => h.close());

const usage = { prompt_tokens: 10, completion_tokens: 2 };

async function send(conv: string, content: string, answer: string, extra: Record<string, unknown> = {}): Promise<SseEvent[]> {
  h.groq.enqueue(reply([answer], usage));
  const res = await stream(api, conv, token, { content, ...extra });
  expect(res.status).toBe(200);
  return readSse(res);
}

async function regenerate(conv: string, messageId: string, answer: string): Promise<Response> {
  h.groq.enqueue(reply([answer], usage));
  return fetch(`${api}/conversations/${conv}/messages/${messageId}/regenerate`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: "{}",
  });
}

const lastPrompt = () => h.groq.requests.at(-1)!.body.messages.map((m: { role: string; content: string }) => `${m.role}:${m.content}`);
const branch = (list: any[]) => list.map((m) => `${m.role}:${m.content}:${m.sibling_index + 1}/${m.sibling_count}`);

it("regenerate streams a sibling reply from the path only; the list shows the new branch with its counts", async () => {
  const conv = await newConversation(api, token);
  await send(conv, "Hi", "Hello.");
  const first = await send(conv, "Tell a joke", "Joke one.");
  const firstId = first[0]!.data.message.id;

  const res = await regenerate(conv, firstId, "Joke two.");
  expect(res.status).toBe(200);
  const events = await readSse(res);
  expect(events.map((e) => e.event).filter((e) => e !== "ping")).toEqual([
    "message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop",
  ]);
  expect(textOf(events)).toBe("Joke two.");
  // The user message is answered again; the replaced reply is not in the prompt.
  expect(lastPrompt()).toEqual(["user:Hi", "assistant:Hello.", "user:Tell a joke"]);

  const list = await messages(api, token, conv);
  expect(branch(list)).toEqual(["user:Hi:1/1", "assistant:Hello.:1/1", "user:Tell a joke:1/1", "assistant:Joke two.:2/2"]);
  const regenerated = list.at(-1);
  expect(regenerated.id).toBe(events[0]!.data.message.id);
  expect(regenerated.sibling_ids).toEqual([firstId, regenerated.id]);
  expect(regenerated.parent_id).toBe(list[2].id);
  // input_tokens: one figure, the prompt as sent, in message_start and in the stored message.
  expect(regenerated.input_tokens).toBe(events[0]!.data.message.usage.input_tokens);

  // A regenerated reply can itself be followed and is an ordinary reply: resume from the start.
  const resumed = await readSse(await fetch(`${api}/conversations/${conv}/messages/${regenerated.id}/stream`, { headers: { authorization: `Bearer ${token}` } }));
  expect(textOf(resumed)).toBe("Joke two.");

  // Only assistant messages of this conversation can be regenerated.
  const onUser = await fetch(`${api}/conversations/${conv}/messages/${list[2].id}/regenerate`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{}" });
  expect(onUser.status).toBe(404);
});

it("switching branch changes the listed path and what the next send continues", async () => {
  const conv = await newConversation(api, token);
  const a = await send(conv, "Pick a colour", "Red.");
  const aId = a[0]!.data.message.id;
  await readSse(await regenerate(conv, aId, "Blue."));
  expect(branch(await messages(api, token, conv)).at(-1)).toBe("assistant:Blue.:2/2");

  const switched = await call(api, "POST", `/conversations/${conv}/branch`, { token, body: { message_id: aId } });
  expect(switched).toMatchObject({ status: 200, body: { leaf_id: aId } });
  expect(branch(await messages(api, token, conv))).toEqual(["user:Pick a colour:1/1", "assistant:Red.:1/2"]);

  await send(conv, "Why?", "Because.");
  expect(lastPrompt()).toEqual(["user:Pick a colour", "assistant:Red.", "user:Why?"]);
  // Switching by the user message follows its most recent child (Blue) down to the leaf...
  const list = await messages(api, token, conv);
  const back = await call(api, "POST", `/conversations/${conv}/branch`, { token, body: { message_id: list[0].id } });
  expect((await call(api, "GET", `/conversations/${conv}`, { token })).body.messages.map((m: any) => m.content)).toEqual(["Pick a colour", "Blue."]);
  expect(back.body.leaf_id).not.toBe(aId);
  // ...and by Red, down Red's own most recent line.
  const red = await call(api, "POST", `/conversations/${conv}/branch`, { token, body: { message_id: aId } });
  expect(red.body.leaf_id).toBe(list.at(-1).id);
  expect((await messages(api, token, conv)).map((m) => m.content)).toEqual(["Pick a colour", "Red.", "Why?", "Because."]);

  const other = await newConversation(api, token);
  expect((await call(api, "POST", `/conversations/${other}/branch`, { token, body: { message_id: aId } })).status).toBe(404);
  const stranger = await registerUser(api, "stranger");
  expect((await call(api, "POST", `/conversations/${conv}/branch`, { token: stranger.token, body: { message_id: aId } })).status).toBe(404);
});

it("edit and resend: the new user message is a sibling of the edited one, and the prompt holds only its path", async () => {
  const conv = await newConversation(api, token);
  await send(conv, "Hi", "Hello.");
  await send(conv, "What is 2+2?", "Four.");
  const before = await messages(api, token, conv);
  const edited = before[2];

  const events = await send(conv, "What is 3+3?", "Six.", { parent_id: edited.parent_id });
  expect(textOf(events)).toBe("Six.");
  expect(lastPrompt()).toEqual(["user:Hi", "assistant:Hello.", "user:What is 3+3?"]);
  const after = await messages(api, token, conv);
  expect(branch(after)).toEqual(["user:Hi:1/1", "assistant:Hello.:1/1", "user:What is 3+3?:2/2", "assistant:Six.:1/1"]);
  expect(after[2].sibling_ids).toEqual([edited.id, after[2].id]);

  // Editing the first message starts a new root.
  await send(conv, "Hello there", "Hi again.", { parent_id: null });
  expect(lastPrompt()).toEqual(["user:Hello there"]);
  expect(branch(await messages(api, token, conv))).toEqual(["user:Hello there:2/2", "assistant:Hi again.:1/1"]);

  const other = await newConversation(api, token);
  const elsewhere = await stream(api, other, token, { content: "x", parent_id: edited.id });
  expect(elsewhere.status).toBe(422);
  expect(((await elsewhere.json()) as any).error.fields).toEqual([expect.objectContaining({ path: "body.parent_id" })]);
});

// The streaming reply is held open by a scenario that hangs until its connection closes, and stopped
// with the cancel route: no test here depends on how long anything takes.
const held = { steps: [{ text: "Slow " }, { hang: true as const }] };
const cancel = (conv: string, id: string) => call(api, "POST", `/conversations/${conv}/messages/${id}/cancel`, { token });

it("one reply at a time: a second send into a streaming conversation is 409 with reply_id; other conversations stream", async () => {
  const conv = await newConversation(api, token);
  const other = await newConversation(api, token);
  h.groq.enqueue(held);
  const first = await stream(api, conv, token, { content: "First" });
  const events = sseEvents(first);
  const start = (await events.next()).value as SseEvent;
  expect(start.event).toBe("message_start");
  const streamingId = start.data.message.id;

  const second = await stream(api, conv, token, { content: "Second" });
  expect(second.status).toBe(409);
  expect(((await second.json()) as any).error).toMatchObject({ type: "conflict_error", reply_id: streamingId });
  const again = await fetch(`${api}/conversations/${conv}/messages/${streamingId}/regenerate`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{}" });
  expect(again.status).toBe(409);
  expect(((await again.json()) as any).error.reply_id).toBe(streamingId);

  // Meanwhile another conversation streams.
  const parallel = await send(other, "Elsewhere", "Fine.");
  expect(textOf(parallel)).toBe("Fine.");

  // The 409's reply_id can be followed; once the reply ends (here: stopped), the conversation takes a send.
  const follower = fetch(`${api}/conversations/${conv}/messages/${streamingId}/stream`, { headers: { authorization: `Bearer ${token}` } }).then(readSse);
  expect((await cancel(conv, streamingId)).status).toBe(202);
  const followed = await follower;
  expect(followed.find((e) => e.event === "message_delta")!.data.delta.stop_reason).toBe("cancelled");
  for await (const _ of events) void _;
  const third = await send(conv, "Second", "Now.");
  expect(textOf(third)).toBe("Now.");
  expect((await messages(api, token, conv)).map((m) => [m.content, m.finish_reason])).toEqual([
    ["First", null],
    ["Slow ", "cancelled"],
    ["Second", null],
    ["Now.", "end_turn"],
  ]);
});

it("two sends fired together into one conversation: exactly one streams, the other is 409 naming it", async () => {
  const conv = await newConversation(api, token);
  h.groq.enqueue(held);
  const [a, b] = await Promise.all([stream(api, conv, token, { content: "A" }), stream(api, conv, token, { content: "B" })]);
  expect([a.status, b.status].sort()).toEqual([200, 409]);
  const [ok, refused] = a.status === 200 ? [a, b] : [b, a];
  const events = sseEvents(ok);
  const start = (await events.next()).value as SseEvent;
  expect(((await refused.json()) as any).error.reply_id).toBe(start.data.message.id);
  await cancel(conv, start.data.message.id);
  for await (const _ of events) void _;
  expect(await messages(api, token, conv)).toHaveLength(2);
  expect(h.groq.requests.filter((r) => r.body.messages.at(-1).content === "A" || r.body.messages.at(-1).content === "B")).toHaveLength(1);
});
