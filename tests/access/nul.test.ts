// One rule for U+0000 at the edge, over real HTTP on the local runtime: PostgreSQL text cannot hold it,
// so any string holding it in the path, the query or the JSON body (at any depth) is a 422 naming the
// field, on every route, before anything reaches the database.
import { connect } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { call, registerUser, stream } from "../support/http";
import { startApp, type TestApp } from "../support/app";

let app: TestApp;
let token: string;
let conv: string;
beforeAll(async () => {
  app = await startApp();
  ({ token } = await registerUser(app.api));
  conv = (await call(app.api, "POST", "/conversations", { token, body: { title: "kept" } })).body.id;
}, 60_000);
afterAll(() => app.close());

const NUL = "a\u0000b";
function expectNul(r: { status: number; body: any; headers: Headers }, paths: string[]) {
  expect(r.status).toBe(422);
  expect(r.body.error).toMatchObject({ type: "validation_error", request_id: r.headers.get("x-request-id") });
  expect(r.body.error.fields.map((f: { path: string }) => f.path)).toEqual(paths);
  for (const f of r.body.error.fields) expect(f.message).toMatch(/NUL/);
}

it("refuses NUL in a query parameter the route reads, one it does not, and the search route", async () => {
  expectNul(await call(app.api, "GET", "/conversations?q=%00", { token }), ["query.q"]);
  expectNul(await call(app.api, "GET", "/conversations?q=hello%00world&limit=5", { token }), ["query.q"]);
  expectNul(await call(app.api, "GET", "/conversations?unknown=%00", { token }), ["query.unknown"]);
  expectNul(await call(app.api, "GET", `/conversations/${conv}/export?format=json%00`, { token }), ["query.format"]);
  expectNul(await call(app.api, "GET", "/usage?from=2024-01-01%00", { token }), ["query.from"]);
  // The same search without the NUL is an ordinary answer (the rule is what changed the status).
  expect((await call(app.api, "GET", "/conversations?q=hello", { token })).status).toBe(200);
  expect(app.logs.filter((l) => l.level === "error")).toEqual([]);
});

it("refuses NUL in a path parameter, on buffered routes and the stream, naming it", async () => {
  expectNul(await call(app.api, "GET", `/conversations/${conv}%00`, { token }), ["path.id"]);
  expectNul(await call(app.api, "GET", `/conversations/%00/messages`, { token }), ["path.id"]);
  const s = await fetch(`${app.api}/conversations/${conv}%00/messages/stream`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ content: "hi" }),
  });
  expectNul({ status: s.status, headers: s.headers, body: await s.json() }, ["path.id"]);
});

it("refuses NUL in nested body fields, in object keys and in fields the route ignores, and stores nothing", async () => {
  const patch = await call(app.api, "PATCH", `/conversations/${conv}`, {
    token,
    body: { title: "fine", extra: { list: ["ok", { deep: NUL }], [NUL]: 1 } },
  });
  expectNul(patch, ["body.extra.list.1.deep", "body.extra.a\u0000b"]);
  const send = await stream(app.api, conv, token, { content: "hi", metadata: { tags: [NUL] } });
  expectNul({ status: send.status, headers: send.headers, body: await send.json() }, ["body.metadata.tags.0"]);
  expect((await call(app.api, "GET", `/conversations/${conv}`, { token })).body).toMatchObject({ title: "kept", messages: [] });
  // A body nested deeper than the call stack goes is walked, not a crash.
  const deep = "[".repeat(20_000) + JSON.stringify(NUL) + "]".repeat(20_000);
  const r = await call(app.api, "PATCH", `/conversations/${conv}`, { token, body: `{"title":"x","extra":${deep}}` });
  expect(r.status).toBe(422);
  expect(r.body.error.fields[0].path).toBe(`body.extra${".0".repeat(20_000)}`);
});

it("asks for credentials before it looks at the input: 401, not 422", async () => {
  const r = await call(app.api, "GET", "/conversations?q=%00");
  expect(r.status).toBe(401);
});

it("answers a NUL in a header the API reads (Idempotency-Key, Last-Event-ID) with a 400 from the HTTP parser, and keeps serving", async () => {
  for (const name of ["Idempotency-Key", "Last-Event-ID"]) {
    const head = await rawRequest(
      `POST /api/v1/conversations/${conv}/messages/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
        `${name}: a\u0000b\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    );
    expect(head.split("\r\n")[0], name).toBe("HTTP/1.1 400 Bad Request");
  }
  expect((await call(app.api, "GET", `/conversations/${conv}/messages`, { token })).body.data).toEqual([]);
});

/** Writes bytes a fetch client would refuse to send, and returns what the server answered. */
function rawRequest(text: string): Promise<string> {
  const url = new URL(app.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.end(text));
    let out = "";
    socket.setEncoding("latin1");
    socket.on("data", (d) => (out += d));
    socket.on("end", () => resolve(out));
    socket.on("error", reject);
  });
}
