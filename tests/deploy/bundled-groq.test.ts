// The stream function as bundled for a deploy (scripts/bundle.ts: stacks/bundling.ts's options, with
// node-fetch injected as the bundle's fetch and Headers) talking to Groq, on the Lambda runtime's
// Node 24: each cold start a fresh process (bench/cold-child.ts, the benchmark's harness) that imports
// the bundle and serves one Function URL invocation, against the loopback Groq-protocol server and the
// throwaway PostgreSQL 15 server. The unbundled source runs with Node's own fetch everywhere else
// (tests/groq), so this is where the Groq client a deployed function uses is proved: a streamed reply,
// a 429's retry-after read through node-fetch's Headers, a dropped connection and an upstream error
// mapped to ours, and that Node's own fetch implementation (undici) is never loaded.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueAccessToken } from "@conversation-api/core";
import { openStore } from "@conversation-api/store";
import { postgresAvailable, startPostgres, type PostgresServer } from "../../packages/store/test/pg-server";
import { bundleHandlers } from "../../scripts/bundle";
import { GROQ_MODELS, reply, startGroqServer, type GroqServer, type Scenario } from "../fixtures/groq-server";
import { sendEvent } from "./function-url-event";
import { lambdaNode, type LambdaNode } from "./lambda-node";

const GROQ_KEY = "gsk_bundled_test_key_0123456789";
const JWT_SECRET = "bundled-groq-test-secret-at-least-32-characters";
const work = mkdtempSync(join(tmpdir(), "bundled-groq-test-"));

interface ColdReply {
  statusCode: number | null;
  completed: boolean;
  body: string;
  undiciLoaded: boolean;
}

describe.skipIf(!postgresAvailable() && process.env.REQUIRE_POSTGRES !== "1")("the stream function's bundle talks to Groq through node-fetch on Node 24", () => {
  let node: LambdaNode;
  let pg: PostgresServer;
  let groq: GroqServer;
  let bundle: string;
  let child: string;
  let userId: string;
  let token: string;

  beforeAll(async () => {
    node = lambdaNode();
    child = join(work, "cold-child.mjs");
    const [bundles, server] = await Promise.all([
      bundleHandlers({ outdir: join(work, "bundles"), only: ["messages-stream"] }),
      startPostgres(),
      build({ entryPoints: [fileURLToPath(new URL("../../bench/cold-child.ts", import.meta.url))], outfile: child, format: "esm", platform: "node", bundle: true, logLevel: "silent" }),
    ]);
    bundle = bundles[0]!.file;
    pg = server;
    groq = await startGroqServer();
    const store = await openStore({ databaseUrl: pg.url });
    try {
      userId = (await store.createUser({ email: `bundled-${Date.now()}@example.com`, password_hash: "x", display_name: null })).id;
    } finally {
      await store.close();
    }
    ({ token } = await issueAccessToken(userId, { secret: JWT_SECRET, issuer: "conversation-api", audience: "conversation-api", expiresInSeconds: 3600 }));
  }, 180_000);

  afterAll(async () => {
    await groq?.close();
    await pg?.stop();
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  /** A send in a new conversation, answered by `scenarios`, served by a fresh process from the bundle. */
  async function coldSend(...scenarios: Scenario[]): Promise<ColdReply> {
    const store = await openStore({ databaseUrl: pg.url, migrate: false });
    let conversationId: string;
    try {
      conversationId = (await store.forUser(userId).createConversation({ title: "bundled", system_prompt: null, model: GROQ_MODELS[0]!.id })).id;
    } finally {
      await store.close();
    }
    groq.enqueue(...scenarios);
    const event = sendEvent(conversationId, token);
    const env = {
      PATH: process.env.PATH ?? "",
      AWS_LAMBDA_FUNCTION_NAME: "messages-stream",
      AWS_REGION: "us-east-1",
      JWT_SECRET,
      GROQ_API_KEY: GROQ_KEY,
      GROQ_BASE_URL: groq.url,
      DATABASE_URL: pg.url,
      BENCH_BUNDLE: bundle,
      BENCH_EVENT: JSON.stringify(event),
      BENCH_FULL_BODY: "1",
    };
    return new Promise((resolve, reject) => {
      const p = spawn(node.path, [child], { env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      p.stdout.on("data", (d) => (out += d));
      // The function's own log lines (a failed reply is logged): kept, shown only if the process fails.
      p.stderr.on("data", (d) => (err += d));
      p.on("close", (code) => {
        try {
          resolve(JSON.parse(out.trim().split("\n").pop()!) as ColdReply);
        } catch {
          reject(new Error(`the cold process failed (exit ${code}): ${err.slice(-1500)} ${out.slice(-500)}`));
        }
      });
    });
  }

  it("streams a reply, sends the key as groq-sdk does, and never loads Node's own fetch (undici)", async () => {
    const before = groq.chatRequests.length;
    const r = await coldSend(reply(["Hel", "lo!"], { prompt_tokens: 5, completion_tokens: 2 }));
    expect(r.statusCode).toBe(200);
    expect(r.completed).toBe(true);
    expect(r.body).toContain('"text":"Hel"');
    expect(r.body).toContain('"text":"lo!"');
    const sent = groq.chatRequests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers.authorization).toBe(`Bearer ${GROQ_KEY}`);
    expect(sent[0]!.body).toMatchObject({ stream: true, model: GROQ_MODELS[0]!.id });
    expect(r.undiciLoaded).toBe(false);
  });

  it("retries a 429 after the retry-after it read from the response's headers, then streams", async () => {
    const before = groq.chatRequests.length;
    const limited: Scenario = { status: 429, headers: { "retry-after": "0.05" }, error: { message: "Rate limit reached", type: "tokens", code: "rate_limit_exceeded" } };
    const r = await coldSend(limited, reply(["fine"], { prompt_tokens: 5, completion_tokens: 1 }));
    expect(groq.chatRequests.length - before).toBe(2);
    expect(r.completed).toBe(true);
    expect(r.body).toContain('"text":"fine"');
  });

  it("ends with an error event, the text before it kept, when Groq's connection drops mid-stream", async () => {
    const r = await coldSend({ steps: [{ text: "Half an ans" }, { delay: 20 }, { drop: true }] });
    expect(r.statusCode).toBe(200);
    expect(r.completed).toBe(false);
    expect(r.body).toContain('"text":"Half an ans"');
    expect(r.body).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
  });

  it("answers an upstream 401 with our api_error, never showing the key", async () => {
    const r = await coldSend({ status: 401, error: { message: `Invalid API Key ${GROQ_KEY}`, type: "invalid_request_error", code: "invalid_api_key" } });
    expect(r.statusCode).toBe(200);
    expect(r.completed).toBe(false);
    expect(r.body).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
    expect(r.body).not.toContain(GROQ_KEY);
  });
});
