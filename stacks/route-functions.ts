// One Lambda function per entry of the routes table: its handler file, its size, its bindings.
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Config, Function as SstFunction, FunctionProps } from "sst/constructs";
import type { RouteDef } from "../packages/functions/src/route-types";
import { isDocsRoute } from "../packages/functions/src/openapi/docs-routes";
import { ASSETS } from "../packages/functions/src/openapi/swagger-ui";
import type { SecretName } from "../packages/functions/src/config";
import { REPLY_MAX_DURATION_SECONDS } from "../packages/functions/src/reply-window";
import { TOKEN_EXCHANGE } from "../packages/functions/src/token-exchange";
import { hashesPasswords, secretsFor, type TokenMode } from "./secret-policy";
import { COPIED_BESIDE } from "./bundling";
import type { Operations } from "./operations";

/** The file convention of route-types.ts: src/handlers/<name>.ts exporting `handler`. */
export const handlerOf = (route: RouteDef) => `packages/functions/src/handlers/${route.name}.handler`;

export interface Bindables {
  secrets: Record<SecretName, Config.Secret>;
  /** Runtime settings (model list, budgets, token lifetime, Supabase URL…) every data handler reads. */
  parameters: Config.Parameter[];
  tokenMode: TokenMode;
  operations: Operations;
  /** The internal token-exchange function (tokenExchangeFunction), invoked by the data functions. */
  exchange?: SstFunction;
}

/**
 * Functions that may call the token exchange: the routes an API key can use (`auth` and not
 * `sessionOnly`). Health, the docs, the auth routes and key management never see an API key.
 */
export const invokesTokenExchange = (route: Pick<RouteDef, "auth" | "sessionOnly">) => route.auth && !route.sessionOnly;

function sizing(route: RouteDef): Pick<FunctionProps, "memorySize" | "timeout"> {
  // The stream holds the invocation for the whole reply (reply-window.ts: 5 minutes). 1 GB buys a larger CPU share, which shortens cold starts and the per-token
  // SSE work on the hot path.
  if (route.streaming) return { memorySize: "1024 MB", timeout: REPLY_MAX_DURATION_SECONDS };
  // bcrypt (register/login) is CPU-bound: ~0.6 vCPU at 1 GB keeps it well under 100 ms.
  if (hashesPasswords(route)) return { memorySize: "1024 MB", timeout: "10 seconds" };
  // Static files and a prebuilt document.
  if (isDocsRoute(route)) return { memorySize: "256 MB", timeout: "10 seconds" };
  // A JSON route is one or two PostgREST round trips. API Gateway gives up after 30 s anyway; 10 s
  // fails faster than that on a stalled database.
  return { memorySize: "512 MB", timeout: "10 seconds" };
}

/**
 * The Swagger UI files the docs-asset handler reads at run time from swagger-ui-dist (not bundled),
 * copied to where Node resolves the package from the bundle: <function root>/node_modules.
 */
const swaggerUiFiles = () =>
  ["package.json", ...Object.keys(ASSETS)].map((file) => ({ from: `node_modules/swagger-ui-dist/${file}` }));

export function routeFunction(route: RouteDef, bindables: Bindables): FunctionProps {
  return {
    handler: handlerOf(route),
    description: `${route.method} ${route.path}`,
    ...sizing(route),
    bind: [...secretsFor(route, bindables.tokenMode).map((name) => bindables.secrets[name]), ...(isDocsRoute(route) ? [] : bindables.parameters)],
    ...(route.name === "docs-asset" ? { copyFiles: swaggerUiFiles() } : {}),
    ...(route.holds?.includes("model-key") ? { copyFiles: COPIED_BESIDE.stream.map((from) => ({ from })) } : {}),
    ...(bindables.exchange && invokesTokenExchange(route)
      ? {
          environment: { [TOKEN_EXCHANGE.env]: bindables.exchange.functionName },
          // That one function only, and only to invoke it.
          permissions: [new PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: [bindables.exchange.functionArn] })],
        }
      : {}),
    logRetention: bindables.operations.logRetention as FunctionProps["logRetention"],
    tracing: bindables.operations.TRACING,
  };
}

/**
 * The internal token-exchange function (packages/functions/src/token-exchange.ts): no URL, no API route,
 * invocable only by the functions granted `lambda:InvokeFunction` on it. It holds what its `holds` says
 * (the signing key and the secret key) plus the runtime parameters.
 */
export function tokenExchangeFunction(bindables: Omit<Bindables, "exchange">): FunctionProps {
  return {
    handler: TOKEN_EXCHANGE.handler,
    description: `internal ${TOKEN_EXCHANGE.name}: API key to a short access token (no URL)`,
    // One PostgREST round trip and one ES256 signature.
    memorySize: "512 MB",
    timeout: 10,
    bind: [...secretsFor({ auth: false, holds: TOKEN_EXCHANGE.holds }, bindables.tokenMode).map((name) => bindables.secrets[name]), ...bindables.parameters],
    logRetention: bindables.operations.logRetention as FunctionProps["logRetention"],
    tracing: bindables.operations.TRACING,
  };
}
