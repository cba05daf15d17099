import { createParser, type EventSourceMessage } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalRoute } from "../src/server";
import { ClientDisconnectedError } from "../src/stream-invoke";
import { start, type Running } from "./helpers";
import {
  createSseHandler,
  createThrowingStreamHandler,
  createValidationFailingHandler,
  sseControls,
  type SseControls,
} from "./fixtures/sse-handler";

// Each SSE test sets fresh controls; the (cached) handler picks up the current ones per invocation.
let controls: SseControls = sseControls();
const sseHandler = () => createSseHandler(() => controls);

const stream = (name: string, method: string, path: string, load: () => Promise<unknown>): LocalRoute => ({
  name,
  method,
  path,
  streaming: true,
  load: async () => ({ handler: await load() }),
});
const raw = (exportName: string) => async () => (await import("./fixtures/raw-stream-handlers"))[exportName as "withPrelude"];

const routes: LocalRoute[] = [
  stream("messages-stream", "POST", "/api/v1/conversations/{id}/messages/stream", async () => sseHandler()),
  stream("raw-prelude", "GET", "/raw/prelude", raw("withPrelude")),
  stream("raw-none", "GET", "/raw/none", raw("noPrelude")),
  stream("raw-content-type", "GET", "/raw/csv", raw("contentTypeOnly")),
  stream("raw-fails-mid", "GET", "/raw/fails-mid", raw("failsMidStream")),
  stream("raw-forever", "GET", "/raw/forever", raw("pipesForever")),
  stream("stream-422", "POST", "/stream/invalid", async () => createValidationFailingHandler()),
  stream("stream-throws", "POST", "/stream/throws", async () => createThrowingStreamHandler()),
];

let app: Running;
beforeAll(async () => {
  app = await start({ routes });
});
afterAll(() => app.close());

/** Reads an SSE response, calling `onEvent` for each event as soon as it is parsed. */
async function readSse(res: Response, onEvent: (e: EventSourceMessage) => void): Promise<EventSourceMessage[]> {
  const events: EventSourceMessage[] = [];
  const parser = createParser({
    onEvent(e) {
      events.push(e);
      onEvent(e);
    },
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) parser.feed(decoder.decode(chunk, { stream: true }));
  return events;
}

describe("streaming routes (RESPONSE_STREAM Function URL)", () => {
  it("streams a Middy streamifyResponse handler's SSE events as they are written", async () => {
    controls = sseControls();
    const res = await fetch(`${app.url}/api/v1/conversations/c%201/messages/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    // Status and headers come from the prelude Middy wrote through HttpResponseStream.from.
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("x-fixture")).toBe("sse");
    expect(res.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);

    let pushedWhenFirstSeen = -1;
    const events = await readSse(res, (e) => {
      if (e.id === "1") {
        // The handler cannot push event 2 until we release it, so receiving event 1 here proves the
        // runtime forwarded it without waiting for the rest of the body (a buffering runtime deadlocks).
        pushedWhenFirstSeen = controls.pushed;
        controls.proceed.resolve();
      }
    });
    expect(pushedWhenFirstSeen).toBe(1);
    expect(events.map((e) => e.id)).toEqual(["1", "2", "3"]);
    expect(events.every((e) => e.event === "message")).toBe(true);
    // A Function URL event has no routes: "$default" and no pathParameters; the path is in rawPath.
    expect(JSON.parse(events[0]!.data)).toEqual({
      routeKey: "$default",
      rawPath: "/api/v1/conversations/c%201/messages/stream",
      pathParameters: null,
    });
    expect(JSON.parse(events[2]!.data)).toEqual({ n: 3 });
  });

  it("uses status, headers and cookies from a prelude written with awslambda.HttpResponseStream.from", async () => {
    const res = await fetch(`${app.url}/raw/prelude`);
    expect(res.status).toBe(202);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.get("x-raw")).toBe("1");
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2; Secure"]);
    expect(await res.text()).toBe("hello world");
  });

  it("answers 200 application/octet-stream with the raw bytes when there is no prelude", async () => {
    const res = await fetch(`${app.url}/raw/none`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([1, 2, 3, 4, 5]);
  });

  it("honours setContentType without a prelude", async () => {
    const res = await fetch(`${app.url}/raw/csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv");
    expect(await res.text()).toBe("a,b\n1,2\n");
  });

  it("sends an error response a Middy onError middleware produced through the prelude", async () => {
    const res = await fetch(`${app.url}/stream/invalid`, { method: "POST", body: "{}" });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ error: { type: "validation_error", message: "bad input" } });
  });

  it("answers 502 with Lambda's error body when the handler throws before writing", async () => {
    const before = app.errors.length;
    const res = await fetch(`${app.url}/stream/throws`, { method: "POST", body: "{}" });
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ message: "Internal Server Error" });
    expect(app.errors.slice(before)).toEqual(["stream-throws: streaming handler failed"]);
  });

  it("cuts the connection when the handler throws after the response started", async () => {
    const res = await fetch(`${app.url}/raw/fails-mid`);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it("destroys the Middy handler's body stream when the client disconnects mid-stream", async () => {
    controls = sseControls();
    const abort = new AbortController();
    const res = await fetch(`${app.url}/api/v1/conversations/c1/messages/stream`, { method: "POST", body: "{}", signal: abort.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("id: 1");
    abort.abort();
    // The source is destroyed with the runtime's disconnect error (the handler never got past event 1).
    const err = await controls.sourceDestroyed.promise;
    expect(err).toBeInstanceOf(ClientDisconnectedError);
  });

  it("rejects a raw handler's pipeline and destroys its source when the client disconnects", async () => {
    const { disconnect } = await import("./fixtures/raw-stream-handlers");
    const abort = new AbortController();
    const res = await fetch(`${app.url}/raw/forever`, { signal: abort.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: first\n\n");
    abort.abort();
    await expect(disconnect.pipelineRejected.promise).resolves.toBeInstanceOf(ClientDisconnectedError);
    await disconnect.sourceDestroyed.promise;
  });
});
