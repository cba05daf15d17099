// Issue 11's "done when", over real HTTP against the local runtime in Lambda-faithful mode (a client
// disconnect is invisible to the handler, as on a Function URL), real groq-sdk against the loopback
// Groq server. Shared by the PGlite and the PostgreSQL suites; the multi-process ones need PostgreSQL.
import { expect, it } from "vitest";
import type { GroqServer, Scenario, Step } from "../fixtures/groq-server";
import { call, readSse, registerUser, sseEvents, stream, type SseEvent } from "../support/http";
import { messages, newConversation, textOf } from "../groq/harness";

export const FLUSH_MS = 100;
// The default window: it must outlast the longest stall of a producer's event loop (the tokenizer's first
// load is synchronous), and a shared test machine stalls more than most.
export const STALE_MS = 3_000;
export const DURABLE_ENV = { FLUSH_INTERVAL_MS: String(FLUSH_MS), REPLY_STALE_MS: String(STALE_MS) };

export interface Ctx {
  api: string;
  groq: GroqServer;
}

/** A long answer: `n` numbered pieces, `gap` ms apart. */
export function slowReply(n: number, gap: number): { scenario: Scenario & { steps: Step[] }; text: string } {
  const pieces = Array.from({ length: n }, (_, i) => `p${i} `);
  return {
    scenario: { steps: [...pieces.flatMap((text) => [{ delay: gap }, { text }]), { finish: "stop", usage: { prompt_tokens: 5, completion_tokens: n } }, { done: true }] },
    text: pieces.join(""),
  };
}

/**
 * `scenario` held after its first `pieces` text chunks until `release()`: the model says nothing more
 * until the test has seen what it waits for, so no step depends on how fast a loaded machine is.
 */
export function gated(scenario: { steps: Step[] }, pieces: number): { scenario: Scenario; release: () => void } {
  let release!: () => void;
  const open = new Promise<void>((resolve) => (release = resolve));
  let at = 0;
  for (let seen = 0; at < scenario.steps.length && seen < pieces; at++) if ("text" in scenario.steps[at]!) seen++;
  return { scenario: { steps: [...scenario.steps.slice(0, at), { until: open }, ...scenario.steps.slice(at)] }, release };
}

/** Reads events until `stop` says so, then drops the connection. */
export async function readUntil(res: Response, ac: AbortController, stop: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  try {
    for await (const e of sseEvents(res)) {
      events.push(e);
      if (stop(events)) break;
    }
  } finally {
    ac.abort();
  }
  return events;
}

const deltas = (events: SseEvent[]) => events.filter((e) => e.event === "content_block_delta").length;
const lastId = (events: SseEvent[]) => events.filter((e) => e.id).at(-1)!.id!;

export function resumeStream(api: string, conv: string, messageId: string, token: string, lastEventId?: string, viaQuery = false) {
  const q = lastEventId && viaQuery ? `?last_event_id=${encodeURIComponent(lastEventId)}` : "";
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (lastEventId && !viaQuery) headers["last-event-id"] = lastEventId;
  return fetch(`${api}/conversations/${conv}/messages/${messageId}/stream${q}`, { headers });
}

export async function storedReply(api: string, token: string, conv: string, id: string) {
  return (await messages(api, token, conv)).find((m) => m.id === id);
}

/**
 * The reply as stored once its final write landed. A producer's stream ends before that write (the
 * stored reply trails what the client saw by one database round trip: README, "A reply's lifecycle"),
 * so a read right after its message_stop may still find the last flush. A resume follows the row in the
 * database and sends message_stop only once the row is finished: that is the handshake to wait on.
 */
export async function settledReply(api: string, token: string, conv: string, id: string) {
  const events = await readSse(await resumeStream(api, conv, id, token));
  expect(events.at(-1)?.event).toBe("message_stop");
  return storedReply(api, token, conv, id);
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The scenarios that need one runtime on any database. `resumer` serves resumes (another process on PostgreSQL). */
export function describeDurable(ctx: () => Ctx & { resumer: () => string }) {
  it("a client that disconnects after 3 deltas does not stop the reply; resuming with its last id delivers exactly the rest", async () => {
    const { api, groq, resumer } = ctx();
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    const { scenario, text } = slowReply(30, 15);
    groq.enqueue(scenario);
    const ac = new AbortController();
    const first = await readUntil(await stream(api, conv, token, { content: "count" }, { signal: ac.signal }), ac, (e) => deltas(e) === 3);
    const replyId = first[0]!.data.message.id;

    const rest = await readSse(await resumeStream(resumer(), conv, replyId, token, lastId(first)));
    expect(rest.map((e) => e.event).slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    expect(rest.some((e) => e.event === "message_start")).toBe(false);
    expect(textOf(first) + textOf(rest)).toBe(text);
    const stored = await storedReply(api, token, conv, replyId);
    expect(stored).toMatchObject({ content: text, finish_reason: "end_turn" });
    // The same through ?last_event_id=, and the whole reply without an id, once it is finished.
    const viaQuery = await readSse(await resumeStream(resumer(), conv, replyId, token, lastId(first), true));
    expect(textOf(viaQuery)).toBe(textOf(rest));
    const whole = await readSse(await resumeStream(resumer(), conv, replyId, token));
    expect(whole[0]!.event).toBe("message_start");
    expect(textOf(whole)).toBe(text);
  });

  it("while streaming the reply is listed with finish_reason null and its text so far", async () => {
    const { api, groq } = ctx();
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    const { scenario: whole, text } = slowReply(20, 30);
    // The reply stays open after 5 pieces until a flush of them has been read back.
    const { scenario, release } = gated(whole, 5);
    groq.enqueue(scenario);
    const ac = new AbortController();
    const first = await readUntil(await stream(api, conv, token, { content: "count" }, { signal: ac.signal }), ac, (e) => deltas(e) === 5);
    const replyId = first[0]!.data.message.id;
    const mid = await until("a flushed partial", async () => {
      const m = await storedReply(api, token, conv, replyId);
      return m?.content && m.finish_reason === null ? m : undefined;
    });
    release();
    expect(text.startsWith(mid.content)).toBe(true);
    const rest = await readSse(await resumeStream(api, conv, replyId, token, lastId(first)));
    expect(textOf(first) + textOf(rest)).toBe(text);
  });

  it("a cancel from another connection stops the producer: upstream closed, stored as cancelled, every stream ends properly", async () => {
    const { api, groq, resumer } = ctx();
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    // The model holds after 3 pieces until the cancel has closed its request: the reply cannot end first.
    const { scenario, release } = gated(slowReply(400, 20).scenario, 3);
    groq.enqueue(scenario);
    const upstream = groq.nextRequest();
    const res = await stream(api, conv, token, { content: "go on" });
    // Pulled by hand: leaving a for-await loop would close the stream.
    const producer = sseEvents(res);
    const head: SseEvent[] = [];
    while (deltas(head) < 2) head.push((await producer.next()).value as SseEvent);
    const replyId = head[0]!.data.message.id;
    // Another client follows the same reply from the start.
    const follower = readSse(await resumeStream(resumer(), conv, replyId, token));

    const cancel = await call(api, "POST", `/conversations/${conv}/messages/${replyId}/cancel`, { token });
    expect(cancel.status).toBe(202);
    expect((await (await upstream).closed).early).toBe(true);
    release();

    const tail: SseEvent[] = [];
    for (let r = await producer.next(); !r.done; r = await producer.next()) tail.push(r.value);
    const followed = await follower;
    for (const events of [tail, followed]) {
      expect(events.map((e) => e.event).slice(-2)).toEqual(["message_delta", "message_stop"]);
      expect(events.at(-2)!.data.delta.stop_reason).toBe("cancelled");
    }
    const stored = await storedReply(api, token, conv, replyId);
    expect(stored.finish_reason).toBe("cancelled");
    expect(textOf([...head, ...tail])).toBe(stored.content);
    expect(textOf(followed)).toBe(stored.content);

    const again = await call(api, "POST", `/conversations/${conv}/messages/${replyId}/cancel`, { token });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain("cancelled");
  });

  it("cancel and resume are 404 for another user's reply and for a user message", async () => {
    const { api, groq } = ctx();
    const { token } = await registerUser(api);
    const other = await registerUser(api);
    const conv = await newConversation(api, token);
    groq.enqueue(slowReply(2, 1).scenario);
    const events = await readSse(await stream(api, conv, token, { content: "hi" }));
    const replyId = events[0]!.data.message.id;
    const userId = (await messages(api, token, conv)).find((m) => m.role === "user").id;
    expect((await resumeStream(api, conv, replyId, other.token)).status).toBe(404);
    expect((await resumeStream(api, conv, userId, token)).status).toBe(404);
    expect((await call(api, "POST", `/conversations/${conv}/messages/${replyId}/cancel`, { token: other.token })).status).toBe(404);
    expect((await call(api, "POST", `/conversations/${conv}/messages/${userId}/cancel`, { token })).status).toBe(404);
    expect((await resumeStream(api, conv, replyId, token, "not-an-id")).status).toBe(422);
  });

  it("10 concurrent sends with one Idempotency-Key make one upstream request and 10 identical texts", async () => {
    const { api, groq } = ctx();
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    // The reply cannot end before all ten sends were answered (its stream begun): a send that arrives
    // once the reply is stored is a 409 by design, and a loaded machine can delay one that long.
    const { scenario: whole, text } = slowReply(15, 10);
    const { scenario, release } = gated(whole, 2);
    groq.enqueue(scenario);
    const before = groq.requests.length;
    const headers = { "idempotency-key": "ten-at-once" };
    const responses = Promise.all(Array.from({ length: 10 }, () => stream(api, conv, token, { content: "once" }, { headers })));
    void responses.then(release, release);
    const results = await Promise.all(
      (await responses).map(async (res) => {
        expect(res.status).toBe(200);
        return textOf(await readSse(res));
      }),
    );
    expect(groq.requests.length - before).toBe(1);
    expect(results).toEqual(Array.from({ length: 10 }, () => text));
    const stored = await messages(api, token, conv);
    expect(stored.map((m) => m.role)).toEqual(["user", "assistant"]);

    const reused = await stream(api, conv, token, { content: "something else" }, { headers });
    expect(reused.status).toBe(422);
    expect(JSON.stringify(await reused.json())).toContain("idempotency-key");
    const repeat = await stream(api, conv, token, { content: "once" }, { headers });
    expect(repeat.status).toBe(409);
    expect(((await repeat.json()) as any).error.reply_id).toBe(stored[1].id);
  });
}
