// Sessions and API keys over real HTTP on the local runtime.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword, parseConfig } from "@conversation-api/core";
import { call, readSse, registerUser, stream } from "../support/http";
import { startApp, type TestApp } from "../support/app";

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
}, 60_000);
afterAll(() => app.close());

const login = (email: string, password: string) => call(app.api, "POST", "/auth/login", { body: { email, password } });
const refresh = (refresh_token: string) => call(app.api, "POST", "/auth/refresh", { body: { refresh_token } });

describe("password hashes", () => {
  it("are bcrypt at PASSWORD_HASH_COST (the tests' runtimes use 4), 10 unless set, and a password changed at that cost still signs in", async () => {
    const { email, password, token } = await registerUser(app.api);
    const stored = async () => (await (await app.deps()).store.findLogin(email))!.password_hash;
    expect(await stored()).toMatch(/^\$2[aby]\$04\$/);
    const next = "another fine passphrase";
    expect((await call(app.api, "POST", "/auth/password", { token, body: { current_password: password, new_password: next } })).status).toBe(200);
    expect(await stored()).toMatch(/^\$2[aby]\$04\$/);
    expect((await login(email, next)).status).toBe(200);
    expect(parseConfig({}).PASSWORD_HASH_COST).toBe(10);
    expect(await hashPassword("correct horse battery")).toMatch(/^\$2[aby]\$10\$/);
    for (const cost of ["3", "16"]) expect(() => parseConfig({ PASSWORD_HASH_COST: cost })).toThrow(/PASSWORD_HASH_COST/);
  });
});

describe("sessions", () => {
  it("gives a 15-minute access token and an opaque refresh token", async () => {
    const { email, password } = await registerUser(app.api);
    const r = await login(email, password);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: "bearer", expires_in: 900, refresh_expires_in: 30 * 86_400 });
    // 256 random bits in base64url after the prefix.
    expect(r.body.refresh_token).toMatch(/^crt_[A-Za-z0-9_-]{43}$/);
  });

  it("rotates on refresh; a stolen, already-rotated token kills the whole family", async () => {
    const { email, password } = await registerUser(app.api);
    const first = (await login(email, password)).body.refresh_token as string;
    const second = await refresh(first);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first);
    expect((await call(app.api, "GET", "/auth/me", { token: second.body.access_token })).status).toBe(200);

    // The thief replays the first token: refused, and the legitimate successor dies with it.
    const replay = await refresh(first);
    expect(replay.status).toBe(401);
    expect(replay.body.error.type).toBe("authentication_error");
    expect((await refresh(second.body.refresh_token)).status).toBe(401);

    // Another sign-in of the same user is another family and keeps working.
    const other = (await login(email, password)).body.refresh_token as string;
    expect((await refresh(other)).status).toBe(200);
  });

  it("signs out a family with logout", async () => {
    const { email, password } = await registerUser(app.api);
    const t = (await login(email, password)).body.refresh_token as string;
    expect((await call(app.api, "POST", "/auth/logout", { body: { refresh_token: t } })).status).toBe(204);
    expect((await refresh(t)).status).toBe(401);
    expect((await call(app.api, "POST", "/auth/logout", { body: { refresh_token: "crt_unknown" } })).status).toBe(204);
  });

  it("changes the password, revoking every session, and refuses a common new password with the reason", async () => {
    const { email, password, token } = await registerUser(app.api);
    const a = (await login(email, password)).body.refresh_token as string;
    const b = (await login(email, password)).body.refresh_token as string;
    const weak = await call(app.api, "POST", "/auth/password", { token, body: { current_password: password, new_password: "password123" } });
    expect(weak.status).toBe(422);
    expect(weak.body.error.fields).toEqual([{ path: "body.new_password", message: expect.stringMatching(/common/) }]);
    const wrong = await call(app.api, "POST", "/auth/password", { token, body: { current_password: "not it at all", new_password: "a fresh passphrase 42" } });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.fields[0].path).toBe("body.current_password");

    const changed = await call(app.api, "POST", "/auth/password", { token, body: { current_password: password, new_password: "a fresh passphrase 42" } });
    expect(changed.status).toBe(200);
    expect((await refresh(a)).status).toBe(401);
    expect((await refresh(b)).status).toBe(401);
    expect((await refresh(changed.body.refresh_token)).status).toBe(200);
    expect((await login(email, password)).status).toBe(401);
    expect((await login(email, "a fresh passphrase 42")).status).toBe(200);
  });

  it("logs out everywhere: every sign-in of the caller, no one else's; access tokens run out on their own, API keys stay", async () => {
    const { email, password, token } = await registerUser(app.api);
    const [a, b] = [(await login(email, password)).body, (await login(email, password)).body];
    const other = await registerUser(app.api);
    const theirs = (await login(other.email, other.password)).body.refresh_token as string;
    const key = (await call(app.api, "POST", "/api-keys", { token, body: { name: "stays" } })).body.key as string;

    expect((await call(app.api, "POST", "/auth/logout-all")).status).toBe(401);
    const out = await call(app.api, "POST", "/auth/logout-all", { token: a.access_token });
    // The registration's sign-in and the two logins.
    expect(out).toMatchObject({ status: 200, body: { revoked_sessions: 3 } });
    for (const t of [a.refresh_token, b.refresh_token]) {
      const r = await refresh(t);
      expect(r.status).toBe(401);
      expect(r.body.error.type).toBe("authentication_error");
    }
    // Another user's sign-in keeps working.
    expect((await refresh(theirs)).status).toBe(200);
    // Access tokens are not looked up: one already issued works until it expires.
    expect((await call(app.api, "GET", "/auth/me", { token: b.access_token })).status).toBe(200);
    // API keys are not sessions.
    expect((await call(app.api, "GET", "/conversations", { token: key })).status).toBe(200);
    // Nothing left to revoke; the password still signs in, and that new session is live.
    expect((await call(app.api, "POST", "/auth/logout-all", { token: a.access_token })).body).toEqual({ revoked_sessions: 0 });
    expect((await refresh((await login(email, password)).body.refresh_token)).status).toBe(200);
  });

  it("refuses one of the most common passwords at registration, saying why", async () => {
    const r = await call(app.api, "POST", "/auth/register", { body: { email: `weak-${process.pid}@example.com`, password: "qwertyuiop" } });
    expect(r.status).toBe(422);
    expect(r.body.error.fields).toEqual([{ path: "body.password", message: expect.stringMatching(/most common passwords/) }]);
  });
});

describe("API keys", () => {
  it("creates a key shown once, lists it without the key, and accepts it on user routes and the stream", async () => {
    const { token } = await registerUser(app.api);
    const created = await call(app.api, "POST", "/api-keys", { token, body: { name: "script" } });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect(key).toMatch(/^cak_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ name: "script", prefix: key.slice(0, 12), expires_at: null });

    const list = await call(app.api, "GET", "/api-keys", { token });
    expect(list.body.data).toEqual([{ id: created.body.id, name: "script", prefix: key.slice(0, 12), created_at: created.body.created_at, last_used_at: null, expires_at: null }]);
    expect(JSON.stringify(list.body)).not.toContain(key);

    const viaHeader = await call(app.api, "POST", "/conversations", { headers: { "x-api-key": key }, body: { title: "by key" } });
    expect(viaHeader.status).toBe(201);
    const streamed = await stream(app.api, viaHeader.body.id, key, { content: "hello from a script" });
    expect(streamed.status).toBe(200);
    expect((await readSse(streamed)).map((e) => e.event)).toContain("message_stop");
    expect((await call(app.api, "GET", "/api-keys", { token })).body.data[0].last_used_at).toEqual(expect.any(String));
  });

  it("stops a revoked key on the very next request", async () => {
    const { token } = await registerUser(app.api);
    const { id, key } = (await call(app.api, "POST", "/api-keys", { token, body: { name: "short-lived" } })).body;
    expect((await call(app.api, "GET", "/conversations", { token: key })).status).toBe(200);
    expect((await call(app.api, "DELETE", `/api-keys/${id}`, { token })).status).toBe(204);
    const after = await call(app.api, "GET", "/conversations", { token: key });
    expect(after.status).toBe(401);
    expect(after.body.error.type).toBe("authentication_error");
    expect((await call(app.api, "GET", "/conversations", { headers: { "x-api-key": key } })).status).toBe(401);
  });

  it("cannot create or delete keys, change the password, or log out everywhere, with a key", async () => {
    const { token, password } = await registerUser(app.api);
    const { id, key } = (await call(app.api, "POST", "/api-keys", { token, body: { name: "limited" } })).body;
    for (const [method, path, body] of [
      ["POST", "/api-keys", { name: "more" }],
      ["DELETE", `/api-keys/${id}`, undefined],
      ["POST", "/auth/password", { current_password: password, new_password: "another fine passphrase" }],
      ["POST", "/auth/logout-all", undefined],
    ] as const) {
      const r = await call(app.api, method, path, { token: key, body });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error.type).toBe("permission_error");
    }
    expect((await call(app.api, "GET", "/api-keys", { token })).body.data).toHaveLength(1);
  });

  it("refuses an unknown key and an expired one", async () => {
    const { token } = await registerUser(app.api);
    expect((await call(app.api, "GET", "/conversations", { token: "cak_" + "x".repeat(43) })).status).toBe(401);
    const past = await call(app.api, "POST", "/api-keys", { token, body: { name: "old", expires_at: "2000-01-01T00:00:00Z" } });
    expect(past.status).toBe(422);
    expect((await call(app.api, "DELETE", "/api-keys/not-a-uuid", { token })).status).toBe(404);
  });
});
