import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalRoute } from "../src/server";
import { createRouter } from "../src/router";
import { REQUEST_HEADERS } from "../../functions/src/request-headers";
import { rawRequest, start, type Running } from "./helpers";

const buffered = (name: string, method: string, path: string, exportName: string): LocalRoute => ({
  name,
  method,
  path,
  streaming: false,
  load: async () => ({ handler: (await import("./fixtures/buffered-handlers"))[exportName as "echo"] }),
});

let loads = 0;
const routes: LocalRoute[] = [
  buffered("conversations-get", "GET", "/api/v1/conversations/{id}", "echo"),
  buffered("conversations-delete", "DELETE", "/api/v1/conversations/{id}", "noContent"),
  buffered("throws", "GET", "/api/v1/throws", "throws"),
  {
    name: "counted",
    method: "GET",
    path: "/api/v1/counted",
    streaming: false,
    load: async () => {
      loads++;
      return { handler: async () => ({ statusCode: 200, body: "ok" }) };
    },
  },
  {
    name: "miswired",
    method: "GET",
    path: "/api/v1/miswired",
    streaming: false,
    load: async () => ({ handler: (await import("./fixtures/raw-stream-handlers")).noPrelude }),
  },
];

let app: Running;
beforeAll(async () => {
  app = await start({
    routes,
    maxBodyBytes: 1024,
    extraRoutes: (req, res) => {
      if (req.method !== "GET" || req.url !== "/openapi.json") return false;
      res.writeHead(200, { "content-type": "application/json" }).end('{"openapi":"3.1.0"}');
      return true;
    },
  });
});
afterAll(() => app.close());

describe("routing and runtime errors", () => {
  it("answers 404 in the API's error format for an unknown path", async () => {
    const res = await fetch(`${app.url}/api/v1/nope`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { type: string; message: string; request_id: string } };
    expect(body.error.type).toBe("not_found_error");
    expect(body.error.message).toBe("Route not found");
    expect(body.error.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("does not match a trailing slash or an empty parameter", async () => {
    expect((await fetch(`${app.url}/api/v1/conversations/`)).status).toBe(404);
    expect((await fetch(`${app.url}/api/v1/conversations/1/`)).status).toBe(404);
  });

  it("answers 405 with an Allow header for a known path and another method", async () => {
    const res = await fetch(`${app.url}/api/v1/conversations/1`, { method: "PUT" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, DELETE, OPTIONS");
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
  });

  it("answers CORS preflights for any origin with the request headers the API reads, and adds CORS headers to responses", async () => {
    const pre = await fetch(`${app.url}/api/v1/conversations/1`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "PATCH", "access-control-request-headers": "authorization,content-type" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(pre.headers.get("access-control-allow-methods")).toContain("PATCH");
    // The deployed list (packages/functions/src/request-headers.ts), not an echo of what was asked.
    expect(pre.headers.get("access-control-allow-headers")).toBe(REQUEST_HEADERS.join(","));
    expect(pre.headers.get("access-control-allow-headers")).toContain("x-api-key");
    expect(pre.headers.get("access-control-allow-credentials")).toBe("true");

    const res = await fetch(`${app.url}/api/v1/conversations/1`, { headers: { origin: "http://localhost:5173" } });
    expect(res.status).toBe(201);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
  });

  it("answers 500 with API Gateway's error body when a buffered handler throws", async () => {
    const before = app.errors.length;
    const res = await fetch(`${app.url}/api/v1/throws`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ message: "Internal Server Error" });
    expect(app.errors.slice(before)).toEqual(["throws: handler failed"]);
  });

  it("refuses a streamified handler on a route not marked streaming", async () => {
    const before = app.errors.length;
    const res = await fetch(`${app.url}/api/v1/miswired`);
    expect(res.status).toBe(500);
    expect(app.errors.slice(before)[0]).toMatch(/streamifyResponse but the route is not marked streaming/);
  });

  it("loads a route's module once and reuses the handler", async () => {
    await Promise.all([fetch(`${app.url}/api/v1/counted`), fetch(`${app.url}/api/v1/counted`)]);
    await fetch(`${app.url}/api/v1/counted`);
    expect(loads).toBe(1);
  });

  it("refuses a body over the payload cap with 413", async () => {
    const declared = await rawRequest(`${app.url}/api/v1/conversations/1`, {
      headers: { "content-length": 2048 },
      body: "x".repeat(2048),
    });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body.toString())).toEqual({ message: "Request Entity Too Large" });
    const chunked = await rawRequest(`${app.url}/api/v1/conversations/1`, {
      headers: { "transfer-encoding": "chunked" },
      body: "y".repeat(2048),
    });
    expect(chunked.status).toBe(413);
  });

  it("serves extra routes directly", async () => {
    const res = await fetch(`${app.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ openapi: "3.1.0" });
  });
});

describe("router", () => {
  const match = createRouter([
    { method: "GET", path: "/c/{id}" },
    { method: "GET", path: "/c/search" },
    { method: "GET", path: "/files/{path+}" },
  ]);

  it("prefers literal segments over parameters regardless of declaration order", () => {
    expect(match("GET", "/c/search")).toMatchObject({ type: "match", route: { path: "/c/search" }, params: undefined });
    expect(match("GET", "/c/a%2Fb")).toMatchObject({ type: "match", params: { id: "a/b" } });
  });

  it("matches a greedy parameter and rejects malformed escapes", () => {
    expect(match("GET", "/files/a/b%20c")).toMatchObject({ type: "match", params: { path: "a/b c" } });
    expect(match("GET", "/c/%E0%A4%A")).toEqual({ type: "not_found" });
  });
});
