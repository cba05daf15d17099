// A streaming handler goes on after its response has ended (a reply's final write lands after the
// client has its last token). Whoever closes the dependencies (npm start's shutdown, the test runtime)
// waits for `invocations()` first; it must not settle while such a handler still runs.
import type { Writable } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { LocalRoute } from "../src/server";
import { start, type Running } from "./helpers";

let release!: () => void;
let returned = false;

const afterEnd = awslambda.streamifyResponse(async (_event: unknown, stream: Writable) => {
  stream.end("done");
  await new Promise<void>((resolve) => (release = resolve));
  returned = true;
});

const routes: LocalRoute[] = [
  { name: "after-end", method: "GET", path: "/after-end", streaming: true, load: async () => ({ handler: afterEnd }) },
];

let app: Running;
beforeAll(async () => {
  app = await start({ routes });
});
afterAll(() => app.close());

it("settles invocations() only once a handler that outlives its response has returned", async () => {
  const res = await fetch(`${app.url}/after-end`);
  expect(await res.text()).toBe("done");

  let settled = false;
  const waiting = app.server.invocations().then(() => (settled = true));
  // The client has the whole response; the handler is still running, so nothing has settled. A
  // handshake instead of a sleep: one round trip through the same server runs after the check above.
  await fetch(`${app.url}/missing`);
  expect(settled).toBe(false);

  release();
  await waiting;
  expect(returned).toBe(true);
  expect(app.errors).toEqual([]);
});

it("settles at once when nothing runs", async () => {
  await expect(app.server.invocations()).resolves.toBeUndefined();
});
