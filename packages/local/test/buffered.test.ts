import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalRoute } from "../src/server";
import { rawRequest, start, type Running } from "./helpers";

const fixture = (name: string, method: string, path: string, exportName: string): LocalRoute => ({
  name,
  method,
  path,
  streaming: false,
  load: async () => ({ handler: (await import("./fixtures/buffered-handlers"))[exportName as "echo"] }),
});

const routes: LocalRoute[] = [
  fixture("items-echo", "GET", "/api/v1/items/{id}/things/{thing}", "echo"),
  fixture("items-create", "POST", "/api/v1/items", "echo"),
  fixture("bare-string", "GET", "/api/v1/bare", "bareString"),
  fixture("binary", "GET", "/api/v1/binary", "binary"),
  fixture("no-content", "DELETE", "/api/v1/items/{id}", "noContent"),
];

interface Echo {
  event: APIGatewayProxyEventV2;
  context: { functionName: string; functionVersion: string; awsRequestId: string; invokedFunctionArn: string; remaining: number };
}

let app: Running;
beforeAll(async () => {
  app = await start({ routes, timeoutMs: 10_000 });
});
afterAll(() => app.close());

describe("buffered routes (API Gateway HTTP API)", () => {
  it("builds the payload 2.0 event: route key, decoded path params, joined query and headers, cookies", async () => {
    const res = await rawRequest(`${app.url}/api/v1/items/hello%20world/things/caf%C3%A9?a=1&a=2&b=x%20y&flag`, {
      headers: { "X-Multi": ["one", "two"], "User-Agent": "vitest-agent", Cookie: "sid=abc; theme=dark" },
    });
    expect(res.status).toBe(201);
    const { event, context } = JSON.parse(res.body.toString()) as Echo;

    expect(event.version).toBe("2.0");
    expect(event.routeKey).toBe("GET /api/v1/items/{id}/things/{thing}");
    expect(event.rawPath).toBe("/api/v1/items/hello%20world/things/caf%C3%A9");
    expect(event.rawQueryString).toBe("a=1&a=2&b=x%20y&flag");
    expect(event.pathParameters).toEqual({ id: "hello world", thing: "café" });
    expect(event.queryStringParameters).toEqual({ a: "1,2", b: "x y", flag: "" });
    expect(event.headers["x-multi"]).toBe("one,two");
    expect(event.headers["user-agent"]).toBe("vitest-agent");
    expect(Object.keys(event.headers).every((k) => k === k.toLowerCase())).toBe(true);
    expect(event.headers.cookie).toBeUndefined();
    expect(event.cookies).toEqual(["sid=abc", "theme=dark"]);
    expect(event.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(event.body).toBeUndefined();
    expect(event.isBase64Encoded).toBe(false);

    const rc = event.requestContext;
    expect(rc.http).toEqual({
      method: "GET",
      path: "/api/v1/items/hello%20world/things/caf%C3%A9",
      protocol: "HTTP/1.1",
      sourceIp: "127.0.0.1",
      userAgent: "vitest-agent",
    });
    expect(rc.routeKey).toBe(event.routeKey);
    expect(rc.stage).toBe("$default");
    expect(rc.domainName).toBe("127.0.0.1");
    expect(rc.accountId).toMatch(/^\d{12}$/);
    expect(rc.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(rc.timeEpoch - Date.now())).toBeLessThan(60_000);
    expect(res.headers["apigw-requestid"]).toBe(rc.requestId);

    expect(context.functionName).toBe("items-echo");
    expect(context.functionVersion).toBe("$LATEST");
    expect(context.invokedFunctionArn).toMatch(/:function:items-echo$/);
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.remaining).toBeGreaterThan(0);
    expect(context.remaining).toBeLessThanOrEqual(10_000);
  });

  it("writes the structured result: status, lower-cased headers, cookies as Set-Cookie", async () => {
    const res = await fetch(`${app.url}/api/v1/items`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "hi" }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-echo")).toBe("yes");
    expect(res.headers.get("x-count")).toBe("2");
    expect(res.headers.getSetCookie()).toEqual(["session=abc; Path=/; HttpOnly", "theme=dark"]);
    const { event } = (await res.json()) as Echo;
    expect(event.requestContext.http.method).toBe("POST");
    expect(event.routeKey).toBe("POST /api/v1/items");
    expect(event.pathParameters).toBeUndefined();
    expect(event.queryStringParameters).toBeUndefined();
    expect(event.cookies).toBeUndefined();
    expect(event.body).toBe('{"title":"hi"}');
    expect(event.isBase64Encoded).toBe(false);
  });

  it("base64-encodes a body whose content type is not text", async () => {
    const res = await fetch(`${app.url}/api/v1/items`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array([0, 1, 2, 255]),
    });
    const { event } = (await res.json()) as Echo;
    expect(event.isBase64Encoded).toBe(true);
    expect(event.body).toBe("AAEC/w==");
  });

  it("sends a bare string result as a 200 application/json body", async () => {
    const res = await fetch(`${app.url}/api/v1/bare`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.text()).toBe('{"plain":true}');
  });

  it("decodes an isBase64Encoded result body", async () => {
    const res = await fetch(`${app.url}/api/v1/binary`);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([0, 1, 2, 253, 254, 255]);
  });

  it("answers 204 without a body", async () => {
    const res = await rawRequest(`${app.url}/api/v1/items/7`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(res.body.length).toBe(0);
    expect(res.headers["content-length"]).toBeUndefined();
  });

  it("keeps connections alive", async () => {
    const res = await rawRequest(`${app.url}/api/v1/bare`);
    expect(res.headers.connection).toBe("keep-alive");
    expect(app.errors).toEqual([]);
  });
});
