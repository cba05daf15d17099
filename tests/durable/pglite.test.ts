// Durable replies on embedded PGlite: one runtime, Lambda-faithful.
import { afterAll, beforeAll, describe } from "vitest";
import { startGroqServer, type GroqServer } from "../fixtures/groq-server";
import { GROQ_KEY } from "../groq/harness";
import { silentLogger } from "@conversation-api/local";
import { startApp, type TestApp } from "../support/app";
import { DURABLE_ENV, describeDurable } from "./scenarios";

let app: TestApp;
let groq: GroqServer;
beforeAll(async () => {
  groq = await startGroqServer();
  app = await startApp({ GROQ_API_KEY: GROQ_KEY, GROQ_BASE_URL: groq.url, ...DURABLE_ENV }, { hideDisconnects: true, logger: silentLogger });
});
afterAll(async () => {
  await app?.close();
  await groq?.close();
});

describe("durable replies on PGlite", () => {
  describeDurable(() => ({ api: app.api, groq, resumer: () => app.api }));
});
