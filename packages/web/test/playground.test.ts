import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { servePlayground } from "../src";

let url: string;
const server = createServer((req, res) => {
  if (!servePlayground(req, res)) res.writeHead(404).end();
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

it("serves the playground page, which talks to the stream endpoint", async () => {
  const res = await fetch(`${url}/`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  const html = await res.text();
  expect(html).toContain("/messages/stream");
  expect(html).toContain('href="/docs"');
});

it("leaves every other path to the API", async () => {
  expect((await fetch(`${url}/api/v1/health`)).status).toBe(404);
  expect((await fetch(`${url}/`, { method: "POST" })).status).toBe(404);
});
