// Throttling in PostgreSQL over real HTTP: failed logins per account and per client IP, registrations
// per IP. The client IP is the connection's (requestContext.http.sourceIp), never a header.
import { afterAll, beforeAll, expect, it } from "vitest";
import { call, registerUser } from "../support/http";
import { startApp, type TestApp } from "../support/app";

let app: TestApp;
beforeAll(async () => {
  // Defaults per account (5); a small per-IP and registration limit so the test can reach them.
  app = await startApp({ LOGIN_MAX_FAILURES_PER_IP: "12", REGISTER_MAX_PER_IP: "6" });
}, 60_000);
afterAll(() => app.close());

const login = (email: string, password: string, headers: Record<string, string> = {}) =>
  call(app.api, "POST", "/auth/login", { body: { email, password }, headers });

it("answers the 6th failed login in the window with 429, even with the right password", async () => {
  const { email, password } = await registerUser(app.api);
  for (let i = 0; i < 5; i++) expect((await login(email, "wrong password!")).status).toBe(401);
  // A client-set forwarding header changes nothing: the limit is on the connection's address.
  const right = await login(email, password, { "x-forwarded-for": "203.0.113.9" });
  expect(right.status).toBe(429);
  expect(right.body.error).toMatchObject({ type: "rate_limit_error", retry_after: expect.any(Number) });
  expect(right.body.error.retry_after).toBeGreaterThan(0);
  expect(right.body.error.retry_after).toBeLessThanOrEqual(15 * 60);
  expect(Number(right.headers.get("retry-after"))).toBe(right.body.error.retry_after);
});

it("limits failed logins per client IP across accounts", async () => {
  // The previous test left 5 failures on this IP; 7 more reach its limit of 12.
  const { email, password } = await registerUser(app.api);
  for (let i = 0; i < 7; i++) expect((await login(`nobody-${i}@example.com`, "wrong password!")).status).toBe(401);
  expect((await login(email, password)).status).toBe(429);
});

it("limits registrations per client IP", async () => {
  // Two accounts so far on this IP; four more reach the limit of 6.
  for (let i = 0; i < 4; i++) await registerUser(app.api);
  const r = await call(app.api, "POST", "/auth/register", { body: { email: `late-${process.pid}@example.com`, password: "a fine passphrase 1" } });
  expect(r.status).toBe(429);
  expect(r.body.error.type).toBe("rate_limit_error");
  expect(r.body.error.retry_after).toBeGreaterThan(0);
});
