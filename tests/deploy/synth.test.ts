// The SST app, synthesized offline to CloudFormation (see synth.ts) as `sst deploy` does, checked
// against the routes table: every route deployed with its own handler, the stream on a RESPONSE_STREAM
// Function URL that refuses other methods, which function holds which secret (and that health and the
// data functions hold none), the runtime, log format and retention, tracing, throttling, CORS, the
// deploy's defaults, and the order a first deploy creates resources in.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { CONFIG_KEYS, generateSigningKey, parseConfig, publicJwkOf } from "@conversation-api/core";
import { REQUEST_HEADERS } from "../../packages/functions/src/request-headers";
import { routes, routesServedBy } from "../../packages/functions/src/routes";
import { SECRET_NAMES } from "../../packages/functions/src/config";
import { secretsFor } from "../../stacks/secret-policy";
import { handlerOf, invokesTokenExchange } from "../../stacks/route-functions";
import { TOKEN_EXCHANGE } from "../../packages/functions/src/token-exchange";
import { RUNTIME_PARAMETERS } from "../../stacks/ConfigStack";
import { checkNamedByKey } from "./named-by-key";
import { describeSstArtifacts } from "./sst-artifacts";
import { loadSynthesis, type Resource, type Synthesis } from "./synth-checks";

// Sentinel secret values in the deploy's environment: none may end up in a template.
const SENTINELS = Object.fromEntries([...SECRET_NAMES, "SUPABASE_SERVICE_ROLE_KEY"].map((n) => [n, `sentinel-${n.toLowerCase()}-value-0123456789abcdef`]));
const CORS_ORIGIN = "https://app.example.com";
let s: Synthesis;
let publicKeys: string;
let warned: unknown[][];

/** This file's one deploy-mode synthesis; SST builds every function in it (seconds of CPU each). */
let synthesized: Promise<Synthesis> | undefined;
const synthesizeOnce = () => (synthesized ??= synthesizeForDeploy());

async function synthesizeForDeploy(): Promise<Synthesis> {
  publicKeys = JSON.stringify({ keys: [publicJwkOf(await generateSigningKey())] });
  Object.assign(process.env, SENTINELS, {
    CORS_ORIGINS: CORS_ORIGIN,
    DEFAULT_MODEL: "openai/gpt-oss-20b",
    SUPABASE_URL: "https://abc.supabase.co",
    SUPABASE_PUBLISHABLE_KEY: "sb_publishable_abc",
    JWT_PUBLIC_KEYS: publicKeys,
  });
  const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  try {
    return await loadSynthesis("deploy");
  } finally {
    warned = warn.mock.calls;
    warn.mockRestore();
  }
}

beforeAll(async () => {
  s = await synthesizeOnce();
}, 600_000);

// The functions this synthesis built are what sst-artifacts.ts runs on the Lambda runtime's Node.
describeSstArtifacts(async () => (await synthesizeOnce()).artifacts!);

describe("synthesized stacks (sst deploy)", () => {
  it("give every buffered route of the table an HTTP API route backed by its own handler", () => {
    const apiRoutes = s.ofType("AWS::ApiGatewayV2::Route");
    const buffered = routes.filter((r) => !r.streaming);
    expect(apiRoutes.map((r) => r.Properties.RouteKey).sort()).toEqual(buffered.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of buffered) {
      const apiRoute = apiRoutes.find((r) => r.Properties.RouteKey === `${route.method} ${route.path}`)!;
      const integrationId = apiRoute.Properties.Target["Fn::Join"][1][1].Ref as string;
      const fnId = s.resources[integrationId]!.Properties.IntegrationUri["Fn::GetAtt"][0] as string;
      expect(s.resources[fnId]!.Properties.Handler).toBe(handlerOf(route));
      expect(existsSync(join(s.root, handlerOf(route).replace(/\.handler$/, ".ts")))).toBe(true);
    }
    // A route served on another's Function URL (servedBy) is that function's: it has none of its own.
    expect(s.appFunctions().map(([, r]) => r.Properties.Handler).sort()).toEqual(routes.filter((r) => !r.servedBy).map(handlerOf).sort());
  });

  it("serve each streaming route from its own function's Function URL in RESPONSE_STREAM mode", () => {
    const streaming = routes.filter((r) => r.streaming && !r.servedBy);
    const urls = s.ofType("AWS::Lambda::Url");
    expect(urls).toHaveLength(streaming.length);
    for (const route of streaming) {
      const [id, fn] = s.functionOf(route);
      const url = urls.find((u) => u.Properties.TargetFunctionArn["Fn::GetAtt"][0] === id)!;
      expect(url.Properties).toMatchObject({ InvokeMode: "RESPONSE_STREAM", AuthType: "NONE" });
      expect(url.Properties.Cors).toMatchObject({ AllowOrigins: [CORS_ORIGIN], AllowMethods: [...new Set(routesServedBy(route.name).map((r) => r.method))] });
      expect(fn.Properties).toMatchObject({ Timeout: 300, MemorySize: 1024 });
      // Each stream function is capped, and keeps its capacity (STREAM_RESERVED_CONCURRENCY, default 50).
      expect(fn.Properties.ReservedConcurrentExecutions, route.name).toBe(50);
    }
    for (const [id, fn] of s.appFunctions().filter(([, f]) => !streaming.some((r) => f.Properties.Description === `${r.method} ${r.path}`)))
      expect(fn.Properties, id).not.toHaveProperty("ReservedConcurrentExecutions");
    expect(s.outputs).toHaveProperty("ApiUrl");
    expect(JSON.stringify(s.outputs.MessagesStreamUrl)).toContain("FunctionUrl");
    // Durable replies: the resume stream has its own Function URL.
    expect(JSON.stringify(s.outputs.MessagesResumeUrl)).toContain("FunctionUrl");
    // Branches: regenerate streams a reply like a send.
    expect(JSON.stringify(s.outputs.MessagesRegenerateUrl)).toContain("FunctionUrl");
    // Each wire format's routes share one Function URL, which is its clients' base URL with the format's prefix.
    expect(routesServedBy("anthropic-messages").map((r) => r.path)).toEqual(["/anthropic/v1/messages", "/anthropic/v1/messages/count_tokens", "/anthropic/v1/models"]);
    expect(routesServedBy("openai-chat-completions").map((r) => r.path)).toEqual(["/openai/v1/chat/completions", "/openai/v1/models"]);
    // useChat: the send's URL serves the resume its default `{api}/{id}/stream` asks for.
    expect(routesServedBy("chat-send").map((r) => `${r.method} ${r.path}`)).toEqual(["POST /api/v1/chat", "GET /api/v1/chat/{id}/stream"]);
    for (const [output, fn, prefix] of [
      ["AnthropicBaseUrl", "anthropic-messages", "anthropic"],
      ["OpenaiBaseUrl", "openai-chat-completions", "openai/v1"],
      ["ChatUrl", "chat-send", "api/v1/chat"],
    ] as const) {
      const [id] = s.functionOf(routes.find((r) => r.name === fn)!);
      const [urlId] = Object.entries(s.resources).find(([, r]) => r.Type === "AWS::Lambda::Url" && r.Properties.TargetFunctionArn["Fn::GetAtt"][0] === id)!;
      expect(s.outputs[output], output).toEqual({ Value: { "Fn::Join": ["", [{ "Fn::GetAtt": [urlId, "FunctionUrl"] }, prefix]] } });
    }
    // ChatUrl is the chat's one output: no other names its URL.
    expect(Object.keys(s.outputs).filter((o) => o.startsWith("Chat"))).toEqual(["ChatUrl"]);
  });

  it("bind each secret only to the functions whose route asks for it, fetched from SSM, never in plain text", () => {
    for (const route of routes) {
      const [, fn] = s.functionOf(route);
      const env = s.envOf(fn);
      expect(s.boundSecrets(fn).sort(), route.name).toEqual([...secretsFor(route, "asymmetric")].sort());
      for (const name of s.boundSecrets(fn)) expect(env[`SST_Secret_value_${name}`]).toBe("__FETCH_FROM_SSM__");
      for (const name of SECRET_NAMES) expect(env, route.name).not.toHaveProperty(name);
    }
    // The policy in words: only the session routes (register, login, refresh, password change) may mint
    // tokens; only they and the two logouts may bypass RLS; only the stream and regenerate hold the Groq key; health, the data
    // functions (API keys included) and the docs hold no secret at all.
    const holders = (secret: string) => routes.filter((r) => s.boundSecrets(s.functionOf(r)[1]).includes(secret)).map((r) => r.name).sort();
    expect(holders("JWT_PRIVATE_KEY")).toEqual(["auth-login", "auth-password", "auth-refresh", "auth-register"]);
    expect(holders("SUPABASE_SECRET_KEY")).toEqual(["auth-login", "auth-logout", "auth-logout-all", "auth-password", "auth-refresh", "auth-register"]);
    const wire = ["anthropic-count-tokens", "anthropic-messages", "anthropic-models", "openai-chat-completions", "openai-models"];
    // useChat's resume runs in the send's function (one URL), which holds the key.
    expect(holders("GROQ_API_KEY")).toEqual([...wire, "chat-resume", "chat-send", "messages-regenerate", "messages-stream"].sort());
    // Resume streams from the database and cancel only writes a row: neither calls the model.
    for (const name of ["messages-resume", "messages-cancel"]) expect(s.boundSecrets(s.functionOf(routes.find((r) => r.name === name)!)[1]), name).toEqual([]);
    for (const legacy of ["JWT_SECRET", "SUPABASE_JWT_SECRET"]) expect(holders(legacy)).toEqual([]);
    const holding = ["auth-login", "auth-logout", "auth-logout-all", "auth-password", "auth-refresh", "auth-register", "chat-send", "chat-resume", "messages-regenerate", "messages-stream", ...wire];
    for (const name of routes.filter((r) => !holding.includes(r.name)).map((r) => r.name))
      expect(s.boundSecrets(s.functionOf(routes.find((r) => r.name === name)!)[1]), name).toEqual([]);
    // A route the table gains later without declaring `holds` gets nothing.
    expect(secretsFor({ auth: true })).toEqual([]);
    // Only those functions may read the secrets' SSM paths.
    for (const value of Object.values(SENTINELS)) expect(s.json).not.toContain(value);
  });

  it("deploy the token exchange as an internal function: no URL, no route, exactly the signing key and the secret key, invocable only by the data functions", () => {
    const exchanges = Object.entries(s.resources).filter(([, r]) => r.Type === "AWS::Lambda::Function" && r.Properties.Handler === TOKEN_EXCHANGE.handler);
    expect(exchanges).toHaveLength(1);
    const [exchangeId, exchange] = exchanges[0]!;
    expect(existsSync(join(s.root, TOKEN_EXCHANGE.handler.replace(/\.handler$/, ".ts")))).toBe(true);
    // No Function URL, no HTTP API integration, no resource policy letting anyone else invoke it.
    const refersTo = (r: Resource) => JSON.stringify(r.Properties).includes(`"${exchangeId}"`);
    expect(s.ofType("AWS::Lambda::Url").filter(refersTo)).toEqual([]);
    expect(s.ofType("AWS::ApiGatewayV2::Integration").filter(refersTo)).toEqual([]);
    expect(s.ofType("AWS::Lambda::Permission").filter(refersTo)).toEqual([]);
    // Exactly the signing key and the secret key, fetched from SSM; runtime as every function.
    expect(s.boundSecrets(exchange).sort()).toEqual(["JWT_PRIVATE_KEY", "SUPABASE_SECRET_KEY"]);
    for (const name of s.boundSecrets(exchange)) expect(s.envOf(exchange)[`SST_Secret_value_${name}`]).toBe("__FETCH_FROM_SSM__");
    expect(exchange.Properties).toMatchObject({ Runtime: "nodejs24.x", Architectures: ["arm64"], LoggingConfig: { LogFormat: "JSON" } });
    expect(s.retentionOf(exchangeId)).toBe(30);
    // Who may invoke it: the IAM policies naming its ARN, attached to which roles.
    const invokers = s
      .ofType("AWS::IAM::Policy")
      .filter((p) =>
        p.Properties.PolicyDocument.Statement.some(
          (st: any) => JSON.stringify(st.Resource).includes(`"${exchangeId}"`) && [st.Action].flat().some((a: string) => a.startsWith("lambda:")),
        ),
      );
    const roleOf = (fn: Resource) => fn.Properties.Role["Fn::GetAtt"][0] as string;
    const invokingRoles = new Set(invokers.flatMap((p) => p.Properties.Roles.map((r: any) => r.Ref as string)));
    const invoking = routes.filter((r) => invokingRoles.has(roleOf(s.functionOf(r)[1]))).map((r) => r.name).sort();
    expect(invoking).toEqual(routes.filter(invokesTokenExchange).map((r) => r.name).sort());
    for (const name of ["health", "docs", "auth-register", "auth-login", "auth-refresh", "auth-logout", "auth-logout-all", "auth-password", "api-keys-create", "models"]) expect(invoking).not.toContain(name);
    expect(invoking).toEqual(expect.arrayContaining(["conversations-list", "messages-stream", "messages-regenerate", "conversations-branch", "usage", "api-keys-list"]));
    // One role per function: routes served on another's Function URL share its role.
    expect(invokingRoles.size).toBe(routes.filter((r) => invoking.includes(r.name) && !r.servedBy).length);
    // Each grant is exactly lambda:InvokeFunction on that one function.
    for (const p of invokers)
      for (const st of p.Properties.PolicyDocument.Statement.filter((st: any) => JSON.stringify(st.Resource).includes(`"${exchangeId}"`)))
        expect(st).toMatchObject({ Effect: "Allow", Action: "lambda:InvokeFunction", Resource: { "Fn::GetAtt": [exchangeId, "Arn"] } });
    // And they are told its name; no other function is.
    for (const route of routes) {
      const env = s.envOf(s.functionOf(route)[1]);
      if (invokesTokenExchange(route)) expect(env[TOKEN_EXCHANGE.env], route.name).toEqual({ Ref: exchangeId });
      else expect(env, route.name).not.toHaveProperty(TOKEN_EXCHANGE.env);
    }
  });

  it("bind the non-secret settings as parameters: the Supabase URL, publishable key and public token keys", () => {
    const [, health] = s.functionOf(routes.find((r) => r.name === "health")!);
    expect(s.envOf(health)).toMatchObject({
      SST_Parameter_value_SUPABASE_URL: "https://abc.supabase.co",
      SST_Parameter_value_SUPABASE_PUBLISHABLE_KEY: "sb_publishable_abc",
      SST_Parameter_value_JWT_PUBLIC_KEYS: publicKeys,
      SST_Parameter_value_DEFAULT_MODEL: "openai/gpt-oss-20b",
      SST_APP: "conversation-api",
    });
    const api = s.ofType("AWS::ApiGatewayV2::Api")[0]!;
    expect(api.Properties.CorsConfiguration.AllowOrigins).toEqual([CORS_ORIGIN]);
  });

  it("bind the deploy's defaults: a daily token budget of 200000 per user, and every runtime setting the core defines", () => {
    const [, health] = s.functionOf(routes.find((r) => r.name === "health")!);
    const env = s.envOf(health);
    expect(env.SST_Parameter_value_DAILY_TOKEN_BUDGET).toBe("200000");
    // Locally the budget is off; the deploy turns it on unless told DAILY_TOKEN_BUDGET=0.
    expect(parseConfig({}).DAILY_TOKEN_BUDGET).toBe(0);
    const defaults = parseConfig({}) as Record<string, unknown>;
    for (const name of RUNTIME_PARAMETERS.filter((n) => n !== "DAILY_TOKEN_BUDGET"))
      // An empty setting (SERVER_TOOLS off) is not bound: an SSM value cannot be empty, and unset reads as its default.
      if ((CONFIG_KEYS as string[]).includes(name) && String(defaults[name]) !== "") expect(env[`SST_Parameter_value_${name}`], name).toBe(String(defaults[name]));
      else expect(env, name).not.toHaveProperty(`SST_Parameter_value_${name}`);
    // Bound wherever the core's schema defines it (with its default, 4 concurrent replies per instance).
    expect(RUNTIME_PARAMETERS).toContain("MAX_CONCURRENT_REPLIES");
    // A deploy that chose its token mode and kept the budget has nothing to warn about.
    expect(warned).toEqual([]);
  });

  it("allow cross-origin requests to send exactly the headers the API reads, on the HTTP API and on every Function URL", () => {
    expect(REQUEST_HEADERS).toContain("x-api-key");
    const api = s.ofType("AWS::ApiGatewayV2::Api")[0]!;
    const allowed = [api.Properties.CorsConfiguration.AllowHeaders, ...s.ofType("AWS::Lambda::Url").map((u) => u.Properties.Cors.AllowHeaders)];
    expect(allowed).toHaveLength(1 + routes.filter((r) => r.streaming && !r.servedBy).length);
    for (const headers of allowed) expect([...headers].sort()).toEqual([...REQUEST_HEADERS].sort());
    // Scripts may read the request id and Retry-After of our errors, and which conversation and message a bound call stored.
    expect(api.Properties.CorsConfiguration.ExposeHeaders).toEqual(["x-request-id", "retry-after", "x-conversation-id", "x-message-id"]);
  });

  it("run every function on nodejs24.x, arm64, JSON logs kept 30 days, X-Ray off, with a chosen size; the API's access logs kept as long", () => {
    for (const [id, fn] of s.appFunctions()) {
      expect(fn.Properties).toMatchObject({ Runtime: "nodejs24.x", Architectures: ["arm64"], LoggingConfig: { LogFormat: "JSON" } });
      expect(fn.Properties.TracingConfig?.Mode ?? "PassThrough", id).toBe("PassThrough");
      expect([256, 512, 1024]).toContain(fn.Properties.MemorySize);
      expect(s.retentionOf(id)).toBe(30);
    }
    expect(s.accessLogGroup()).toMatchObject({ Type: "AWS::Logs::LogGroup", Properties: { RetentionInDays: 30 } });
    expect(s.ofType("AWS::Logs::LogGroup").map((g) => g.Properties.RetentionInDays)).not.toContain(undefined);
  });

  it("throttle the HTTP API's routes, the credential routes tighter", () => {
    const stage = s.ofType("AWS::ApiGatewayV2::Stage")[0]!;
    expect(stage.Properties.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
    const credentialRoutes = routes.filter((r) => !r.streaming && r.method === "POST" && r.path.includes("/auth/")).map((r) => `POST ${r.path}`);
    expect(credentialRoutes).toEqual(expect.arrayContaining(["POST /api/v1/auth/login", "POST /api/v1/auth/register", "POST /api/v1/auth/refresh"]));
    const perRoute = stage.Properties.RouteSettings as Record<string, unknown>;
    expect(Object.keys(perRoute).sort()).toEqual(credentialRoutes.sort());
    // Every key must name a route the API really has, or API Gateway refuses the stage.
    const routeKeys = s.ofType("AWS::ApiGatewayV2::Route").map((r) => r.Properties.RouteKey);
    for (const key of Object.keys(perRoute)) expect(routeKeys).toContain(key);
    for (const v of Object.values(perRoute)) expect(v).toEqual({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 });
  });

  it("create nothing before what it names by key: the stage after every route its RouteSettings name", () => {
    let checked = 0;
    for (const template of s.templates) {
      const check = checkNamedByKey(template);
      expect(check.problems).toEqual([]);
      checked += check.checked;
    }
    // Not vacuous: every credential route's key was among the names checked.
    const credentialRoutes = routes.filter((r) => !r.streaming && r.method === "POST" && r.path.includes("/auth/"));
    expect(checked).toBeGreaterThanOrEqual(credentialRoutes.length);
  });

  it("copy the docs assets beside the docs-asset function and write the API document", () => {
    const artifacts = s.artifacts!;
    const docs = readdirSync(artifacts).filter((d) => existsSync(join(artifacts, d, "packages/functions/src/handlers/docs-asset.mjs")));
    expect(docs).toHaveLength(1);
    for (const file of ["package.json", "swagger-ui.css", "swagger-ui-bundle.js"]) {
      expect(existsSync(join(artifacts, docs[0]!, "node_modules/swagger-ui-dist", file)), file).toBe(true);
    }
    expect(readFileSync(join(s.root, ".sst", "openapi.json"), "utf8")).toBe(readFileSync(join(s.root, "openapi.json"), "utf8"));
  });
});
