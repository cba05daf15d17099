// The same app synthesized as `sst dev` deploys it (mode "dev"): SST replaces every function with its
// Live Lambda bridge, which cannot stream, so the stream's Function URL must be BUFFERED there (a
// RESPONSE_STREAM URL would hand clients the bridge's raw {statusCode, headers, body} JSON). The secret
// policy is the same as in a deploy. Operational settings come from the deploy environment.
import { beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey, publicJwkOf } from "@conversation-api/core";
import { routes, routesServedBy } from "../../packages/functions/src/routes";
import { secretsFor } from "../../stacks/secret-policy";
import { loadSynthesis, type Synthesis } from "./synth-checks";

let s: Synthesis;

beforeAll(async () => {
  Object.assign(process.env, {
    SUPABASE_URL: "https://abc.supabase.co",
    SUPABASE_PUBLISHABLE_KEY: "sb_publishable_abc",
    JWT_PUBLIC_KEYS: JSON.stringify({ keys: [publicJwkOf(await generateSigningKey())] }),
    LOG_RETENTION_DAYS: "14",
    TRACING: "active",
    STREAM_RESERVED_CONCURRENCY: "3",
    API_THROTTLE_RATE: "5",
    API_THROTTLE_BURST: "10",
  });
  s = await loadSynthesis("dev");
}, 600_000);

describe("synthesized stacks (sst dev)", () => {
  it("run each function as SST's Live Lambda bridge", () => {
    expect(s.appFunctions()).toHaveLength(routes.filter((r) => !r.servedBy).length);
    for (const [, fn] of s.appFunctions()) expect(fn.Properties.Handler).toBe("live-lambda.handler");
  });

  it("serve the stream from a BUFFERED Function URL, the same CORS", () => {
    // The send, the durable resume stream and regenerate, each on its own Function URL; useChat's send
    // and resume, and the Anthropic and OpenAI formats, each on one Function URL for all its routes.
    const own = routes.filter((r) => r.streaming && !r.servedBy);
    expect(own.map((r) => r.name)).toEqual(["messages-stream", "messages-resume", "messages-regenerate", "chat-send", "anthropic-messages", "openai-chat-completions"]);
    expect(s.ofType("AWS::Lambda::Url")).toHaveLength(6);
    for (const route of own) {
      const [id] = s.functionOf(route);
      const url = s.ofType("AWS::Lambda::Url").find((u) => u.Properties.TargetFunctionArn["Fn::GetAtt"][0] === id)!;
      const methods = [...new Set(routesServedBy(route.name).map((r) => r.method))];
      expect(url.Properties).toMatchObject({ InvokeMode: "BUFFERED", AuthType: "NONE", Cors: { AllowMethods: methods } });
    }
    for (const output of ["AnthropicBaseUrl", "OpenaiBaseUrl", "ChatUrl"]) expect(JSON.stringify(s.outputs[output])).toContain("FunctionUrl");
  });

  it("bind the same secrets as a deploy", () => {
    for (const route of routes) expect(s.boundSecrets(s.functionOf(route)[1]).sort(), route.name).toEqual(secretsFor(route).sort());
  });

  it("apply the configured log retention, tracing, reserved concurrency and throttling", () => {
    for (const [id, fn] of s.appFunctions()) {
      expect(s.retentionOf(id), id).toBe(14);
      expect(fn.Properties.TracingConfig).toEqual({ Mode: "Active" });
    }
    expect(s.accessLogGroup()?.Properties.RetentionInDays).toBe(14);
    const [, stream] = s.functionOf(routes.find((r) => r.streaming)!);
    expect(stream.Properties.ReservedConcurrentExecutions).toBe(3);
    expect(s.ofType("AWS::ApiGatewayV2::Stage")[0]!.Properties.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 });
  });
});
