// When the database cannot be reached, clients get a generic 500: no connection string, no stack.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app";
import { captureConsoleErrors } from "../support/console";
import { call } from "../support/http";

let app: TestApp;
beforeAll(async () => {
  // Port 1 on loopback refuses connections at once.
  app = await startApp({ DATABASE_URL: "postgres://secret-user:secret-pass@127.0.0.1:1/nowhere" });
});
afterAll(() => app.close());

it("answers 500 with the structured error and nothing internal", async () => {
  const logged = captureConsoleErrors();
  const r = await call(app.api, "POST", "/auth/register", { body: { email: "a@example.com", password: "long-enough-pw" } });
  logged.restore();
  expect(r.status).toBe(500);
  expect(r.body).toEqual({
    error: { type: "api_error", message: "Internal server error", request_id: r.headers.get("x-request-id") },
  });
  expect(JSON.stringify(r.body)).not.toContain("secret");
  // The cause is logged for the operator, without the connection string's password.
  expect(logged.text()).toContain("POST /api/v1/auth/register");
  expect(logged.text()).not.toContain("secret-pass");
});
