// Clear errors, never a 500, for bad input (issue 12 §6), over real HTTP on the local runtime.
import { afterAll, beforeAll, expect, it } from "vitest";
import { call, registerUser, stream } from "../support/http";
import { startApp, type TestApp } from "../support/app";

let app: TestApp;
let token: string;
beforeAll(async () => {
  app = await startApp();
  ({ token } = await registerUser(app.api));
}, 60_000);
afterAll(() => app.close());

const NUL = "a\u0000b";
const fieldsOf = (r: { body: any }) => (r.body.error.fields as { path: string }[]).map((f) => f.path);

it("answers NUL in any text field with a 422 naming the field, before anything is stored or sent", async () => {
  const create = await call(app.api, "POST", "/conversations", { token, body: { title: NUL, system_prompt: NUL } });
  expect(create.status).toBe(422);
  expect(fieldsOf(create).sort()).toEqual(["body.system_prompt", "body.title"]);

  const conv = (await call(app.api, "POST", "/conversations", { token, body: {} })).body.id as string;
  const patch = await call(app.api, "PATCH", `/conversations/${conv}`, { token, body: { system_prompt: NUL } });
  expect(patch.status).toBe(422);
  expect(fieldsOf(patch)).toEqual(["body.system_prompt"]);

  const send = await stream(app.api, conv, token, { content: NUL });
  expect(send.status).toBe(422);
  expect(fieldsOf({ body: await send.json() })).toEqual(["body.content"]);
  expect((await call(app.api, "GET", `/conversations/${conv}/messages`, { token })).body.data).toEqual([]);

  const reg = await call(app.api, "POST", "/auth/register", { body: { email: `nul-${process.pid}@example.com`, password: "a fine passphrase 1", display_name: NUL } });
  expect(reg.status).toBe(422);
  expect(fieldsOf(reg)).toEqual(["body.display_name"]);
});

it("answers a malformed percent-escape in the path with 404, on buffered routes and the stream", async () => {
  for (const [method, path] of [
    ["GET", "/conversations/%E0%A4%A"],
    ["GET", "/conversations/%zz/messages"],
    ["POST", "/conversations/%E0%A4%A/messages/stream"],
  ] as const) {
    const r = await fetch(app.api + path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: method === "POST" ? JSON.stringify({ content: "hi" }) : undefined,
    });
    expect(r.status, path).toBe(404);
    expect(((await r.json()) as any).error.type).toBe("not_found_error");
  }
});

it("answers /usage dates outside the years 1 to 9999 with 422", async () => {
  for (const q of ["from=0000-01-01&to=2024-01-01", "to=0001-01-02", "from=0001-01-01T00:30:00%2B01:00&to=2024-01-01", "from=2024-01-01&to=9999-12-31T23:00:00-02:00"]) {
    const r = await call(app.api, "GET", `/usage?${q}`, { token });
    expect(r.status, q).toBe(422);
  }
  expect((await call(app.api, "GET", "/usage?from=0001-01-01&to=9999-12-31T23:59:59Z", { token })).status).toBe(200);
});

it("refuses a login password over 72 bytes with 401, even when its first 72 bytes are the password", async () => {
  const password = "p".repeat(60) + " passphrase";
  expect(Buffer.byteLength(password)).toBe(71);
  const email = `long-${process.pid}@example.com`;
  expect((await call(app.api, "POST", "/auth/register", { body: { email, password: password + "!" } })).status).toBe(201);
  expect((await call(app.api, "POST", "/auth/login", { body: { email, password: password + "!" } })).status).toBe(200);
  const r = await call(app.api, "POST", "/auth/login", { body: { email, password: password + "!and more" } });
  expect(r.status).toBe(401);
  expect(r.body.error.type).toBe("authentication_error");
});

it("answers a request without credentials with 401 before reading its body", async () => {
  for (const opts of [
    { body: "{not json" },
    { body: "title=x", headers: { "content-type": "text/plain" } },
    { body: JSON.stringify({ title: "x".repeat(100 * 1024) }) },
  ]) {
    const r = await call(app.api, "POST", "/conversations", opts);
    expect(r.status).toBe(401);
    expect(r.body.error.type).toBe("authentication_error");
  }
  const s = await fetch(`${app.api}/conversations/${crypto.randomUUID()}/messages/stream`, { method: "POST", body: "{not json" });
  expect(s.status).toBe(401);
});
