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

it("serves the playground page and its own assets, nothing from elsewhere", async () => {
  const res = await fetch(`${url}/`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  const html = await res.text();
  expect(html).toContain('href="/docs"');
  // Every script, stylesheet and image is served by this package: no CDN.
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  expect(refs.filter((r) => /^(https?:)?\/\//.test(r))).toEqual([]);
  for (const ref of refs.filter((r) => /\.(js|css|svg)$/.test(r))) expect((await fetch(url + ref)).status, ref).toBe(200);

  // One script with its libraries (here DOMPurify) bundled in.
  const js = await (await fetch(`${url}/playground.js`)).text();
  expect(js).toContain("/messages/stream");
  expect(js).toContain("DOMPurify");
});

it("serves a favicon at /favicon.ico", async () => {
  const res = await fetch(`${url}/favicon.ico`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("image/svg+xml");
  expect(await res.text()).toMatch(/^<svg /);
});

it("leaves every other path to the API", async () => {
  expect((await fetch(`${url}/api/v1/health`)).status).toBe(404);
  expect((await fetch(`${url}/`, { method: "POST" })).status).toBe(404);
});
