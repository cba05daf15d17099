// The SST app, synthesized offline to CloudFormation (see synth.ts), checked against the routes table:
// every route deployed with its own handler, the stream on a RESPONSE_STREAM Function URL, secrets
// bound only where needed and never in plain text, the runtime and sizes.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { routes } from "../../packages/functions/src/routes";
import { SECRET_NAMES } from "../../packages/functions/src/config";
import { secretsFor } from "../../stacks/secret-policy";
import { handlerOf } from "../../stacks/route-functions";
import { synthesize } from "./synth";

// Sentinel secret values in the deploy's environment: none may end up in a template.
const SENTINELS = Object.fromEntries(SECRET_NAMES.map((n) => [n, `sentinel-${n.toLowerCase()}-value-0123456789abcdef`]));
const CORS_ORIGIN = "https://app.example.com";

type Resource = { Type: string; Properties: Record<string, any> };
let resources: Record<string, Resource>;
let outputs: Record<string, unknown>;
let templatesJson: string;
let root: string;

/** Our functions (SST adds a custom-resource handler of its own to each stack). */
const appFunctions = () => Object.entries(resources).filter(([, r]) => r.Type === "AWS::Lambda::Function" && String(r.Properties.Handler).startsWith("packages/functions/"));
const functionByHandler = (handler: string) => {
  const found = appFunctions().filter(([, r]) => r.Properties.Handler === handler);
  expect(found, handler).toHaveLength(1);
  return found[0]!;
};
const envOf = (r: Resource): Record<string, string> => r.Properties.Environment?.Variables ?? {};

beforeAll(async () => {
  Object.assign(process.env, SENTINELS, { CORS_ORIGINS: CORS_ORIGIN, DEFAULT_MODEL: "openai/gpt-oss-20b" });
  const synthesized = await synthesize();
  root = synthesized.root;
  const json = [...synthesized.templates.values()].map((t: Template) => t.toJSON());
  resources = Object.assign({}, ...json.map((t) => t.Resources));
  outputs = Object.assign({}, ...json.map((t) => t.Outputs ?? {}));
  templatesJson = JSON.stringify(json);
}, 120_000);

describe("synthesized stacks", () => {
  it("give every buffered route of the table an HTTP API route backed by its own handler", () => {
    const apiRoutes = Object.values(resources).filter((r) => r.Type === "AWS::ApiGatewayV2::Route");
    const buffered = routes.filter((r) => !r.streaming);
    expect(apiRoutes.map((r) => r.Properties.RouteKey).sort()).toEqual(buffered.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of buffered) {
      const apiRoute = apiRoutes.find((r) => r.Properties.RouteKey === `${route.method} ${route.path}`)!;
      const integrationId = apiRoute.Properties.Target["Fn::Join"][1][1].Ref as string;
      const fnId = resources[integrationId]!.Properties.IntegrationUri["Fn::GetAtt"][0] as string;
      expect(resources[fnId]!.Properties.Handler).toBe(handlerOf(route));
      expect(existsSync(join(root, handlerOf(route).replace(/\.handler$/, ".ts")))).toBe(true);
    }
    // One function per route, no more.
    expect(appFunctions().map(([, r]) => r.Properties.Handler).sort()).toEqual(routes.map(handlerOf).sort());
  });

  it("serve each streaming route from its own function's Function URL in RESPONSE_STREAM mode", () => {
    const streaming = routes.filter((r) => r.streaming);
    expect(streaming.length).toBeGreaterThan(0);
    const urls = Object.values(resources).filter((r) => r.Type === "AWS::Lambda::Url");
    expect(urls).toHaveLength(streaming.length);
    for (const route of streaming) {
      const [id, fn] = functionByHandler(handlerOf(route));
      const url = urls.find((u) => u.Properties.TargetFunctionArn["Fn::GetAtt"][0] === id)!;
      expect(url.Properties).toMatchObject({ InvokeMode: "RESPONSE_STREAM", AuthType: "NONE" });
      expect(url.Properties.Cors).toMatchObject({ AllowOrigins: [CORS_ORIGIN], AllowMethods: [route.method] });
      // Its own timeout and memory: a reply outlives any JSON request.
      expect(fn.Properties).toMatchObject({ Timeout: 300, MemorySize: 1024 });
    }
    expect(outputs).toHaveProperty("ApiUrl");
    expect(outputs).toHaveProperty("MessagesStreamUrl");
    expect(JSON.stringify(outputs.MessagesStreamUrl)).toContain("FunctionUrl");
  });

  it("bind each secret only to the functions that need it, fetched from SSM, never in plain text", () => {
    for (const route of routes) {
      const [, fn] = functionByHandler(handlerOf(route));
      const env = envOf(fn);
      const bound = Object.keys(env).filter((k) => k.startsWith("SST_Secret_value_")).map((k) => k.slice("SST_Secret_value_".length));
      expect(bound.sort(), route.name).toEqual([...secretsFor(route)].sort());
      for (const name of bound) expect(env[`SST_Secret_value_${name}`]).toBe("__FETCH_FROM_SSM__");
      for (const name of SECRET_NAMES) expect(env, route.name).not.toHaveProperty(name);
    }
    // The policy in words: only register/login hold the service key, only the stream the Groq key,
    // and the docs nothing.
    const holders = (secret: string) => routes.filter((r) => secretsFor(r).includes(secret as never)).map((r) => r.name).sort();
    expect(holders("SUPABASE_SERVICE_ROLE_KEY")).toEqual(["auth-login", "auth-register"]);
    expect(holders("GROQ_API_KEY")).toEqual(["messages-stream"]);
    for (const value of Object.values(SENTINELS)) expect(templatesJson).not.toContain(value);
  });

  it("bind the runtime settings as parameters and configure CORS from one", () => {
    const [, stream] = functionByHandler(handlerOf(routes.find((r) => r.streaming)!));
    expect(envOf(stream)).toMatchObject({ SST_Parameter_value_DEFAULT_MODEL: "openai/gpt-oss-20b", SST_APP: "conversation-api", SST_STAGE: "test" });
    const api = Object.values(resources).find((r) => r.Type === "AWS::ApiGatewayV2::Api")!;
    expect(api.Properties.CorsConfiguration.AllowOrigins).toEqual([CORS_ORIGIN]);
    const corsParameter = Object.values(resources).find((r) => r.Type === "AWS::SSM::Parameter" && String(r.Properties.Name).endsWith("/Parameter/CORS_ORIGINS/value"));
    expect(corsParameter?.Properties.Value).toBe(CORS_ORIGIN);
  });

  it("run every function on nodejs22.x, arm64, with a chosen size", () => {
    for (const [, fn] of appFunctions()) {
      expect(fn.Properties).toMatchObject({ Runtime: "nodejs22.x", Architectures: ["arm64"] });
      expect(fn.Properties.Timeout).toBeLessThanOrEqual(300);
      expect([256, 512, 1024]).toContain(fn.Properties.MemorySize);
    }
  });

  it("bundle the docs assets beside the docs-asset function and write the API document", () => {
    const artifacts = join(root, ".sst", "artifacts");
    const docs = readdirSync(artifacts).filter((d) => existsSync(join(artifacts, d, "packages/functions/src/handlers/docs-asset.mjs")));
    expect(docs).toHaveLength(1);
    for (const file of ["package.json", "swagger-ui.css", "swagger-ui-bundle.js"]) {
      expect(existsSync(join(artifacts, docs[0]!, "node_modules/swagger-ui-dist", file)), file).toBe(true);
    }
    expect(readFileSync(join(root, ".sst", "openapi.json"), "utf8")).toBe(readFileSync(join(root, "openapi.json"), "utf8"));
  });
});
