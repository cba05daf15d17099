// The API: an HTTP API with one Lambda function per buffered route of the routes table, and each
// streaming route as its own function behind a Function URL in RESPONSE_STREAM mode (API Gateway
// cannot stream). The handler reads its path parameters from rawPath there.
import { Api, Function, use, type ApiAccessLogProps, type ApiRouteProps, type StackContext } from "sst/constructs";
import { REQUEST_HEADERS } from "../packages/functions/src/request-headers";
import { routes, routesServedBy } from "../packages/functions/src/routes";
import { ConfigStack } from "./ConfigStack";
import { routeFunction, tokenExchangeFunction } from "./route-functions";
import { setRouteSettings } from "./route-settings";

const pascal = (name: string) => name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());

// Browsers may send exactly the request headers the API reads; scripts may read the response headers
// our errors carry (the request id, and how long to wait after a 429).
const ALLOW_HEADERS = [...REQUEST_HEADERS];
const EXPOSE_HEADERS = ["x-request-id", "retry-after", "x-conversation-id", "x-message-id"];

// The base URL a wire format's clients are given (ANTHROPIC_BASE_URL, OPENAI_BASE_URL): the Function URL
// that serves the format's routes, and the prefix its SDK appends its paths to. CloudFormation output
// names are alphanumeric, hence AnthropicBaseUrl and OpenaiBaseUrl.
const BASE_URLS: Record<string, { output: string; prefix: string }> = {
  "anthropic-messages": { output: "AnthropicBaseUrl", prefix: "anthropic" },
  "openai-chat-completions": { output: "OpenaiBaseUrl", prefix: "openai/v1" },
};

export function ApiStack({ stack, app }: StackContext) {
  const { secrets, parameters, corsOrigins, tokenMode, operations } = use(ConfigStack);
  // API keys on Supabase: the data functions invoke this to turn a key into a short token (no URL).
  const exchange = new Function(stack, "TokenExchange", tokenExchangeFunction({ secrets, parameters, tokenMode, operations }));
  const bindables = { secrets, parameters, tokenMode, operations, exchange };
  // `sst dev` replaces each function with SST's Live Lambda bridge, which returns a buffered result; in
  // front of it a RESPONSE_STREAM URL would hand clients the raw {statusCode, headers, body} JSON. In dev
  // the URL is BUFFERED, so the whole SSE body arrives at once when the reply ends (docs/deploy.md, "sst dev").
  const streamingUrls = app.mode !== "dev";

  const apiRoutes: Record<string, ApiRouteProps<never>> = {};
  for (const route of routes.filter((r) => !r.streaming)) {
    apiRoutes[`${route.method} ${route.path}`] = { function: routeFunction(route, bindables) };
  }
  const api = new Api(stack, "Api", {
    defaults: { throttle: { rate: operations.API_THROTTLE_RATE, burst: operations.API_THROTTLE_BURST } },
    cors: { allowOrigins: corsOrigins, allowMethods: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"], allowHeaders: ALLOW_HEADERS, exposeHeaders: EXPOSE_HEADERS, maxAge: "10 minutes" },
    routes: apiRoutes,
    // SST's default access-log group keeps its logs forever (and outlives the stack): kept as long as the
    // functions' logs instead.
    accessLog: { retention: operations.logRetention as ApiAccessLogProps["retention"] },
  });

  // The credential routes get their own, tighter limits.
  setRouteSettings(
    api,
    Object.fromEntries(
      routes
        .filter((r) => !r.streaming && r.path.includes("/auth/") && r.method === "POST")
        .map((r) => [`${r.method} ${r.path}`, { ThrottlingRateLimit: operations.AUTH_THROTTLE_RATE, ThrottlingBurstLimit: operations.AUTH_THROTTLE_BURST }]),
    ),
  );

  const outputs: Record<string, string> = { ApiUrl: api.url };
  // A route served on another's Function URL (`servedBy`) has no function of its own.
  for (const route of routes.filter((r) => r.streaming && !r.servedBy)) {
    const fn = new Function(stack, pascal(route.name), {
      ...routeFunction(route, bindables),
      // 0 reserves nothing (operations.ts).
      ...(operations.STREAM_RESERVED_CONCURRENCY > 0 ? { reservedConcurrentExecutions: operations.STREAM_RESERVED_CONCURRENCY } : {}),
      url: {
        streaming: streamingUrls,
        // Public like the API; the handler checks the bearer token itself.
        authorizer: "none",
        cors: {
          allowOrigins: corsOrigins,
          allowMethods: [...new Set(routesServedBy(route.name).map((r) => r.method))],
          allowHeaders: ALLOW_HEADERS,
          exposeHeaders: EXPOSE_HEADERS,
          maxAge: "10 minutes",
        },
      },
    });
    // Clients POST to <url><route path>, e.g. …lambda-url.<region>.on.aws/api/v1/conversations/{id}/messages/stream
    outputs[`${pascal(route.name)}Url`] = fn.url!;
    // useChat's `api`: the send's whole endpoint (a Function URL ends with "/"). Its resume is another
    // function's URL (ChatResumeUrl), which the transport's prepareReconnectToStreamRequest names (docs/api.md).
    if (route.name === "chat-send") outputs.ChatUrl = `${fn.url!}${route.path.slice(1)}`;
    const base = BASE_URLS[route.name];
    if (base) outputs[base.output] = `${fn.url!}${base.prefix}`;
  }
  stack.addOutputs(outputs);
  return { api };
}
