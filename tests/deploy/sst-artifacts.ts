// What SST itself ships: the app synthesized in deploy mode (synth.ts), which builds every function
// with SST's own esbuild (0.18) and its own options into a temporary directory, and those artifacts
// run on the Lambda runtime's Node 24 (lambda-node.ts) under AWS's own runtime interface client
// (aws-lambda-ric 4.x, what nodejs24.x runs): it loads each handler, and invokes the stream functions
// through its invocation loop and response stream against a loopback Runtime API, configured as on AWS
// in asymmetric mode: SST-bound parameters only (no secret at all: no GROQ_API_KEY, so the offline model
// answers), the Supabase store pointed at the loopback PostgREST stand-in, the user's own access token
// forwarded to it. synth.test.ts registers these checks over its own synthesis's build.
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueAccessToken, publicJwkOf, type Conversation, type User } from "@conversation-api/core";
import { createSupabaseStore } from "../../packages/store/src/supabase";
import { asTheApi, projectKeys, type ProjectKeys } from "../../packages/store/test/api-tokens";
import { startPostgrestBacking, type PostgrestBacking } from "../../packages/store/test/postgrest-backing";
import { routes } from "../../packages/functions/src/routes";
import { COPIED_BESIDE } from "../../stacks/bundling";
import { handlerOf } from "../../stacks/route-functions";
import { LAMBDA_NODE_MAJOR, lambdaNode, type LambdaNode } from "./lambda-node";
import { buildRunner, runRunner, type Invocation } from "./lambda-runner";
import { RIC_VERSION } from "./ric-package";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const STREAM = routes.find((r) => r.name === "messages-stream")!;
const RESUME = routes.find((r) => r.name === "messages-resume")!;
const handlerFile = (name: string) => `packages/functions/src/handlers/${name}.mjs`;
/** The routes with a function of their own (a route served on another's Function URL is in that one's). */
const deployed = routes.filter((r) => !r.servedBy);

/**
 * Registers these checks in the calling test file, over the directory where that file's deploy-mode
 * synthesis had SST build its functions (a synthesis builds every function: one shared with the
 * template checks instead of one each). The directory is removed when the file ends.
 */
export function describeSstArtifacts(builtArtifacts: () => Promise<string>): void {
  const work = mkdtempSync(join(tmpdir(), "sst-artifacts-test-"));
  let artifacts: string;
  /** Route name → the directory SST built its function into. */
  const functionDirs = new Map<string, string>();
  let node: LambdaNode;
  let backing: PostgrestBacking;
  let keys: ProjectKeys;
  let user: User;
  let conversation: Conversation;

  beforeAll(async () => {
    node = lambdaNode();
    keys = await projectKeys();
    [artifacts] = await Promise.all([builtArtifacts(), buildRunner(join(work, "runner.mjs"))]);
    for (const dir of readdirSync(artifacts)) {
      for (const route of deployed) if (existsSync(join(artifacts, dir, handlerFile(route.name)))) functionDirs.set(route.name, join(artifacts, dir));
    }
    backing = await startPostgrestBacking({ jwks: keys.jwks });
    const { rest } = backing;
    const store = asTheApi(createSupabaseStore({ url: rest.url, apiKey: rest.publishableKey, secretKey: rest.secretKey }), keys.tokens);
    user = await store.createUser({ email: `artifact-${randomUUID()}@example.com`, password_hash: "h", display_name: null });
    conversation = await store.forUser(user.id).createConversation({ title: "artifact", system_prompt: null, model: "openai/gpt-oss-20b" });
  }, 600_000);

  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
    if (artifacts) rmSync(artifacts, { recursive: true, force: true });
    await backing?.stop();
  }, 60_000);

  /** The runner in a fresh process with a clean environment, as a Lambda has. */
  const run = (args: string[], env: Record<string, string> = {}) => runRunner(node, join(work, "runner.mjs"), args, env);

  /** One invocation of a route's function by the runtime; what its Runtime API received. */
  async function invokeRoute(route: (typeof routes)[number], event: unknown): Promise<Invocation & { node: string }> {
    const events = join(work, `${route.name}-events.json`);
    const out = join(work, `${route.name}-out.json`);
    writeFileSync(events, JSON.stringify([event]));
    await run(["invoke", functionDirs.get(route.name)!, handlerOf(route), events, out], lambdaEnv());
    const { node: version, invocations } = JSON.parse(readFileSync(out, "utf8")) as { node: string; invocations: Invocation[] };
    expect(invocations).toHaveLength(1);
    return { ...invocations[0]!, node: version };
  }

  /** Every file under dir, relative to it. */
  const filesUnder = (dir: string): string[] =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath, e.name)));

  describe("the artifacts SST builds", () => {
    it(`run on the Lambda runtime's Node ${LAMBDA_NODE_MAJOR}`, () => {
      expect(node.version).toMatch(new RegExp(`^v${LAMBDA_NODE_MAJOR}\\.`));
    });

    it(`are one ESM entry per route (its lazy imports in chunks beside it) that aws-lambda-ric ${RIC_VERSION} loads as an async handler, the streams as streaming`, async () => {
      expect([...functionDirs.keys()].sort()).toEqual(deployed.map((r) => r.name).sort());
      const files = deployed.map((r) => join(functionDirs.get(r.name)!, handlerFile(r.name)));
      for (const r of deployed) {
        const code = filesUnder(functionDirs.get(r.name)!).filter((f) => f.endsWith(".mjs") && !f.startsWith("node_modules/"));
        for (const f of code) expect(readFileSync(join(functionDirs.get(r.name)!, f), "utf8"), f).not.toMatch(/pglite\.wasm|sourceMappingURL/);
        // node-postgres (only with DATABASE_URL) is in a chunk of its own, not in what every cold start parses.
        const withPg = code.filter((f) => readFileSync(join(functionDirs.get(r.name)!, f), "utf8").includes("SCRAM-SERVER-FIRST-MESSAGE"));
        if (r.name !== "docs" && r.name !== "docs-asset") expect(withPg, r.name).toHaveLength(1);
        expect(withPg, r.name).not.toContain(handlerFile(r.name));
      }
      expect(files.every((f) => existsSync(f))).toBe(true);
      writeFileSync(join(work, "functions.json"), JSON.stringify(deployed.map((r) => ({ root: functionDirs.get(r.name)!, handler: handlerOf(r) }))));
      // The runtime refuses a callback-style handler (Node 24), which would fail the runner here.
      const kinds = JSON.parse(await run(["load", join(work, "functions.json")])) as Record<string, string>;
      for (const r of deployed) expect(kinds[handlerOf(r)], r.name).toBe(r.streaming ? "streaming" : "function");
    });

    it("install nothing at deploy time: only the stream carries the tokenizer, copied from the lockfile's install", () => {
      const tokenizer = "node_modules/gpt-tokenizer";
      for (const route of deployed) {
        const dir = functionDirs.get(route.name)!;
        // SST writes a package.json and runs `npm install` only for a function with packages to install
        // (patches/sst+2.49.8.patch: unpatched, it does so for every function); none has any.
        expect(existsSync(join(dir, "package.json")), route.name).toBe(false);
        expect(existsSync(join(dir, "package-lock.json")), route.name).toBe(false);
        const modules = filesUnder(dir).filter((f) => f.startsWith("node_modules/"));
        if (route.holds?.includes("model-key")) {
          expect(modules.sort()).toEqual([...COPIED_BESIDE.stream].sort());
          const shipped = JSON.parse(readFileSync(join(dir, tokenizer, "package.json"), "utf8")) as { version: string };
          expect(shipped.version).toBe((JSON.parse(readFileSync(join(ROOT, tokenizer, "package.json"), "utf8")) as { version: string }).version);
        } else if (route.name !== "docs-asset") {
          expect(modules, route.name).toEqual([]);
        }
        expect(modules.some((f) => f.startsWith("node_modules/pg/")), route.name).toBe(false);
      }
      const size = (name: string) => filesUnder(functionDirs.get(name)!).reduce((n, f) => n + statSync(join(functionDirs.get(name)!, f)).size, 0);
      // The stream ships the 2.5 MB o200k vocabulary and little else; a JSON route well under a megabyte.
      expect(size(STREAM.name)).toBeLessThan(6 * 1024 * 1024);
      expect(size("conversations-list")).toBeLessThan(1024 * 1024);
    });

    it("stream a reply through the runtime's own response stream, forwarding the user's own token to PostgREST", async () => {
      const { rest } = backing;
      const { token } = await issueAccessToken(user.id, keys.tokens);
      const rawPath = STREAM.path.replace("{id}", conversation.id);
      const sentBefore = rest.requests.length;
      const result = await invokeRoute(STREAM, functionUrlEvent("POST", rawPath, token, JSON.stringify({ content: "Hello from SST's artifact" })));
      expect(result.node).toBe(node.version);
      expect(result).toMatchObject({ kind: "response", responseMode: "streaming", contentType: "application/vnd.awslambda.http-integration-response" });
      expect(result.errorType).toBeUndefined();

      // The metadata prelude, as AWS's HttpResponseStream wrote it: JSON, eight NUL bytes, then the body.
      const bytes = Buffer.from(result.body, "base64");
      const nul = bytes.indexOf(0);
      expect([...bytes.subarray(nul, nul + 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
      const prelude = JSON.parse(bytes.subarray(0, nul).toString("utf8"));
      expect(prelude.statusCode).toBe(200);
      expect(prelude.headers["content-type"]).toMatch(/^text\/event-stream/);

      const events = parseSse(bytes.subarray(nul + 8).toString("utf8"));
      const names = events.map((e) => e.event).filter((n) => n !== "ping");
      expect(names[0]).toBe("message_start");
      expect(names.at(-1)).toBe("message_stop");
      const text = events.filter((e) => e.event === "content_block_delta").map((e) => JSON.parse(e.data).delta.text ?? "").join("");
      expect(text.length).toBeGreaterThan(0);

      // Every PostgREST request carried the publishable key and exactly the user's token.
      const traffic = rest.requests.slice(sentBefore);
      expect(traffic.map((r) => r.path)).toEqual(expect.arrayContaining(["/rest/v1/rpc/begin_reply", "/rest/v1/rpc/finish_reply"]));
      for (const r of traffic) expect(r.headers).toMatchObject({ apikey: rest.publishableKey, authorization: `Bearer ${token}` });
      const stored = await asTheApi(createSupabaseStore({ url: rest.url, apiKey: rest.publishableKey }), keys.tokens).forUser(user.id).listMessages(conversation.id, { limit: 10 });
      // Stored as finished: the invocation made the final write before the runtime asked for the next
      // event, although the response had ended first (the write runs inside the handler's promise:
      // Middy's requestEnd, which the runtime awaits, then the stream's end).
      expect(stored!.data.map((m) => [m.role, m.content, m.finish_reason])).toEqual([
        ["user", "Hello from SST's artifact", null],
        ["assistant", text, "end_turn"],
      ]);
      const ids = events.filter((e) => e.event !== "ping").map((e) => Number(e.id));
      expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);

      // The resume function (its own Function URL, no secret) replays the stored reply from the start
      // through the durable rpc calls, with the same token.
      const replyId = stored!.data[1]!.id;
      const resumePath = RESUME.path.replace("{id}", conversation.id).replace("{message_id}", replyId);
      const resumeBefore = rest.requests.length;
      const resumedInvocation = await invokeRoute(RESUME, functionUrlEvent("GET", resumePath, token, ""));
      expect(resumedInvocation.errorType).toBeUndefined();
      const resumed = Buffer.from(resumedInvocation.body, "base64");
      const rnul = resumed.indexOf(0);
      expect(JSON.parse(resumed.subarray(0, rnul).toString("utf8")).statusCode).toBe(200);
      const replayed = parseSse(resumed.subarray(rnul + 8).toString("utf8"));
      expect(replayed.map((e) => e.event).filter((n) => n !== "ping").at(-1)).toBe("message_stop");
      expect(replayed.filter((e) => e.event === "content_block_delta").map((e) => JSON.parse(e.data).delta.text ?? "").join("")).toBe(text);
      const resumeTraffic = rest.requests.slice(resumeBefore);
      expect(resumeTraffic.map((r) => r.path)).toContain("/rest/v1/rpc/get_reply");
      for (const r of resumeTraffic) expect(r.headers).toMatchObject({ apikey: rest.publishableKey, authorization: `Bearer ${token}` });
    });

    it("serve a wire format's routes from its one function: Anthropic's models and a call that stores nothing (reserve_call through PostgREST)", async () => {
      const { rest } = backing;
      const { token } = await issueAccessToken(user.id, keys.tokens);
      const host = routes.find((r) => r.name === "anthropic-messages")!;
      const answer = async (event: unknown) => {
        const result = await invokeRoute(host, event);
        expect(result.errorType).toBeUndefined();
        const bytes = Buffer.from(result.body, "base64");
        const nul = bytes.indexOf(0);
        return { prelude: JSON.parse(bytes.subarray(0, nul).toString("utf8")), body: JSON.parse(bytes.subarray(nul + 8).toString("utf8")) };
      };
      const models = await answer(functionUrlEvent("GET", "/anthropic/v1/models", token, ""));
      expect(models.prelude.statusCode).toBe(200);
      expect(models.body.data[0]).toMatchObject({ type: "model" });
      const before = rest.requests.length;
      const body = JSON.stringify({ model: models.body.data[0].id, max_tokens: 64, messages: [{ role: "user", content: "Hi" }] });
      const msg = await answer(functionUrlEvent("POST", "/anthropic/v1/messages", token, body));
      expect(msg.prelude.statusCode).toBe(200);
      expect(msg.body).toMatchObject({ type: "message", role: "assistant", stop_reason: "end_turn" });
      const paths = rest.requests.slice(before).map((r) => r.path);
      expect(paths).toEqual(expect.arrayContaining(["/rest/v1/rpc/reserve_call", "/rest/v1/rpc/settle_tokens"]));
      expect(paths).not.toContain("/rest/v1/rpc/begin_reply");
    });

    it("refuse other methods on the stream's Function URL with 405", async () => {
      const { token } = await issueAccessToken(user.id, keys.tokens);
      const bytes = Buffer.from((await invokeRoute(STREAM, functionUrlEvent("GET", STREAM.path.replace("{id}", conversation.id), token, ""))).body, "base64");
      const nul = bytes.indexOf(0);
      expect(JSON.parse(bytes.subarray(0, nul).toString("utf8"))).toMatchObject({ statusCode: 405, headers: { allow: "POST" } });
      expect(JSON.parse(bytes.subarray(nul + 8).toString("utf8"))).toMatchObject({ error: { type: "invalid_request_error" } });
    });
  });

  /** What SST binds to the stream function in asymmetric mode: parameters only (no secret values). */
  function lambdaEnv(): Record<string, string> {
    return {
      AWS_LAMBDA_FUNCTION_NAME: "test-conversation-api-MessagesStream",
      AWS_REGION: "us-east-1",
      SST_APP: "conversation-api",
      SST_STAGE: "test",
      SST_Parameter_value_SUPABASE_URL: backing.rest.url,
      SST_Parameter_value_SUPABASE_PUBLISHABLE_KEY: backing.rest.publishableKey,
      SST_Parameter_value_JWT_PUBLIC_KEYS: JSON.stringify({ keys: [publicJwkOf(keys.ours)] }),
      OFFLINE_TOKEN_DELAY_MS: "0",
    };
  }

  function functionUrlEvent(method: string, rawPath: string, token: string, body: string) {
    const now = Date.now();
    return {
      version: "2.0",
      routeKey: "$default",
      rawPath,
      rawQueryString: "",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", host: "abcdefghij.lambda-url.us-east-1.on.aws", "x-forwarded-proto": "https" },
      requestContext: {
        accountId: "anonymous",
        apiId: "abcdefghij",
        domainName: "abcdefghij.lambda-url.us-east-1.on.aws",
        domainPrefix: "abcdefghij",
        http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "artifact-test" },
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
}
