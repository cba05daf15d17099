// Every error status the API promises, in the structured shape, with nothing internal leaking.
import { SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app";
import { call, registerUser, stream } from "../support/http";

const SECRET = "error-suite-secret-of-at-least-32-characters";
let app: TestApp;
beforeAll(async () => {
  app = await startApp({ JWT_SECRET: SECRET });
});
afterAll(() => app.close());

function expectError(r: { status: number; body: any; headers: Headers }, status: number, type: string) {
  expect(r.status).toBe(status);
  expect(r.body.error).toMatchObject({ type, request_id: r.headers.get("x-request-id") });
  expect(typeof r.body.error.message).toBe("string");
  expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts:\d+|node_modules|stack/);
}

describe("400 / 413 / 415 / 422", () => {
  it("400 for malformed JSON", async () => {
    const { token } = await registerUser(app.api);
    expectError(await call(app.api, "POST", "/conversations", { token, body: '{"title": "x"' }), 400, "invalid_request_error");
    expectError(await call(app.api, "POST", "/auth/register", { body: "not json" }), 400, "invalid_request_error");
  });

  it("415 for a body that is not JSON by content type", async () => {
    const r = await call(app.api, "POST", "/auth/login", { body: "email=a", headers: { "content-type": "text/plain" } });
    expectError(r, 415, "invalid_request_error");
  });

  it("413 for a body over 64 KiB, and the conversation is untouched", async () => {
    const { token } = await registerUser(app.api);
    const conv = (await call(app.api, "POST", "/conversations", { token, body: { title: "keep" } })).body;
    const big = { title: "x".repeat(64 * 1024) };
    expectError(await call(app.api, "PATCH", `/conversations/${conv.id}`, { token, body: big }), 413, "request_too_large");
    const s = await stream(app.api, conv.id, token, { content: "y".repeat(70 * 1024) });
    expect(s.status).toBe(413);
    expect((await call(app.api, "GET", `/conversations/${conv.id}`, { token })).body).toMatchObject({ title: "keep", messages: [] });
  });

  it("422 names each failing field", async () => {
    const r = await call(app.api, "POST", "/auth/register", { body: { email: "nope", password: "short" } });
    expectError(r, 422, "validation_error");
    const paths = r.body.error.fields.map((f: { path: string }) => f.path).sort();
    expect(paths).toEqual(["body.email", "body.password"]);

    const tooLong = await call(app.api, "POST", "/auth/register", { body: { email: "x@example.com", password: "é".repeat(37) } });
    expect(tooLong.body.error.fields[0].path).toBe("body.password");

    const { token } = await registerUser(app.api);
    const conv = (await call(app.api, "POST", "/conversations", { token })).body;
    const s = await stream(app.api, conv.id, token, { content: "", temperature: 7 });
    expect(s.status).toBe(422);
    const body = (await s.json()) as any;
    expect(body.error.fields.map((f: { path: string }) => f.path).sort()).toEqual(["body.content", "body.temperature"]);
    expectError(await call(app.api, "GET", "/conversations?limit=0", { token }), 422, "validation_error");
    expectError(await call(app.api, "PATCH", `/conversations/${conv.id}`, { token, body: {} }), 422, "validation_error");
    const model = await call(app.api, "POST", "/conversations", { token, body: { model: "gpt-9000" } });
    expectError(model, 422, "validation_error");
    expect(model.body.error.fields[0].path).toBe("body.model");
  });

  it("422 for an Idempotency-Key that is not 1–255 visible ASCII characters, and nothing is stored", async () => {
    const { token } = await registerUser(app.api);
    const conv = (await call(app.api, "POST", "/conversations", { token })).body;
    const s = await stream(app.api, conv.id, token, { content: "hi" }, { headers: { "idempotency-key": "x".repeat(256) } });
    expect(s.status).toBe(422);
    const body = (await s.json()) as any;
    expect(body.error.fields.map((f: { path: string }) => f.path)).toEqual(["header.idempotency-key"]);
    expect((await call(app.api, "GET", `/conversations/${conv.id}/messages`, { token })).body.data).toEqual([]);
  });

  it("400 for a cursor that was not made by the API", async () => {
    const { token } = await registerUser(app.api);
    expectError(await call(app.api, "GET", "/conversations?cursor=garbage", { token }), 400, "invalid_request_error");
  });
});

describe("401", () => {
  const forge = async (claims: Record<string, unknown>, opts: { alg?: string; secret?: string; exp?: string | number } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: opts.alg ?? "HS256" })
      .setIssuer((claims.iss as string) ?? "conversation-api")
      .setAudience((claims.aud as string) ?? "conversation-api")
      .setSubject((claims.sub as string) ?? "00000000-0000-4000-8000-000000000000")
      .setExpirationTime(opts.exp ?? "5m")
      .sign(new TextEncoder().encode(opts.secret ?? SECRET));

  it("refuses missing, malformed, forged, expired and misaddressed tokens", async () => {
    const { user } = await registerUser(app.api);
    const sub = user.id;
    const tokens: Record<string, string | undefined> = {
      missing: undefined,
      garbage: "not-a-jwt",
      wrongSecret: await forge({ sub }, { secret: "another-secret-another-secret-12345" }),
      wrongAlg: await forge({ sub }, { alg: "HS512" }),
      none: new UnsecuredJWT({ sub, iss: "conversation-api", aud: "conversation-api" }).setExpirationTime("5m").encode(),
      expired: await forge({ sub }, { exp: Math.floor(Date.now() / 1000) - 60 }),
      wrongIssuer: await forge({ sub, iss: "someone-else" }),
      wrongAudience: await forge({ sub, aud: "someone-else" }),
    };
    for (const [name, token] of Object.entries(tokens)) {
      const r = await call(app.api, "GET", "/auth/me", token ? { token } : {});
      expect(r.status, name).toBe(401);
      expectError(r, 401, "authentication_error");
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    // The same signing setup with the right secret is accepted: the refusals above are about each defect.
    expect((await call(app.api, "GET", "/auth/me", { token: await forge({ sub }) })).status).toBe(200);
  });

  it("says the same for an unknown email and a wrong password", async () => {
    const { email } = await registerUser(app.api);
    const unknown = await call(app.api, "POST", "/auth/login", { body: { email: `nobody-${email}`, password: "whatever-pass" } });
    const wrong = await call(app.api, "POST", "/auth/login", { body: { email, password: "wrong-password" } });
    expectError(unknown, 401, "authentication_error");
    expectError(wrong, 401, "authentication_error");
    expect(unknown.body.error.message).toBe(wrong.body.error.message);
  });
});

describe("404 / 409", () => {
  it("404 for unknown routes, unknown ids and malformed ids", async () => {
    const { token } = await registerUser(app.api);
    expectError(await call(app.api, "GET", "/nowhere", { token }), 404, "not_found_error");
    expectError(await call(app.api, "GET", "/conversations/7b0e8f9c-8a63-4b53-9d3a-2b8d1f2e0c11", { token }), 404, "not_found_error");
    expectError(await call(app.api, "GET", "/conversations/not-a-uuid", { token }), 404, "not_found_error");
  });

  it("409 when the email is taken, in any letter case, and the first account still works", async () => {
    const { email, password } = await registerUser(app.api);
    const again = await call(app.api, "POST", "/auth/register", { body: { email: email.toUpperCase(), password: "other-password" } });
    expectError(again, 409, "conflict_error");
    expect((await call(app.api, "POST", "/auth/login", { body: { email, password } })).status).toBe(200);
  });
});
