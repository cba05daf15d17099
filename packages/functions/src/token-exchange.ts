// API keys on a Supabase deployment (docs/security.md, "API keys on Supabase"). A data function forwards the
// caller's access token to PostgREST and holds no key that can mint one; an API key (cak_…) is not a
// JWT. So it asks the internal token-exchange function (handlers/token-exchange.ts, no URL, invocable
// only through IAM by the data functions), which holds the signing key and the secret key, to check the
// key in the database and mint a short token for its user. Asked on every API-key request, never cached:
// a revoked or expired key fails on the very next request.
import type { RouteSecret } from "./route-types";
import { REPLY_MAX_DURATION_SECONDS } from "./reply-window";

/** The exchange function as the stacks deploy it: not a route, but declaring `holds` like one. */
export const TOKEN_EXCHANGE = {
  name: "token-exchange",
  handler: "packages/functions/src/handlers/token-exchange.handler",
  holds: ["signing-key", "secret-key"] as readonly RouteSecret[],
  /** The data functions read the exchange function's name here (stacks/route-functions.ts sets it). */
  env: "TOKEN_EXCHANGE_FUNCTION",
} as const;

/** Long enough for one stream to finish and save its reply (plus a minute of slack), and no longer. */
export const EXCHANGED_TOKEN_SECONDS = REPLY_MAX_DURATION_SECONDS + 60;

export interface ExchangeRequest {
  api_key: string;
}
export type ExchangeResponse = { user_id: string; access_token: string; expires_in: number } | { error: "invalid_api_key" };

/** Carries one request to the exchange function and returns its answer (the Lambda invoke, or in-process in tests). */
export type ExchangeTransport = (request: ExchangeRequest) => Promise<unknown>;

export class TokenExchangeError extends Error {}

const invokers = new Map<string, ExchangeTransport>();

/**
 * `lambda:InvokeFunction` on the exchange function. The AWS SDK ships with the Lambda runtime (external
 * in our bundles, stacks/bundling.ts) and is imported only on the API-key path. The SDK client is reused
 * across requests; the answer never is.
 */
export function lambdaTransport(functionName: string): ExchangeTransport {
  let invoker = invokers.get(functionName);
  if (invoker) return invoker;
  let client: Promise<{ send: (c: unknown) => Promise<{ Payload?: Uint8Array; FunctionError?: string }>; command: (input: object) => unknown }> | undefined;
  invoker = async (request) => {
    client ??= import("@aws-sdk/client-lambda").then(({ LambdaClient, InvokeCommand }) => {
      const lambda = new LambdaClient({});
      return { send: (c) => lambda.send(c as InstanceType<typeof InvokeCommand>), command: (input) => new InvokeCommand(input as never) };
    });
    const c = await client;
    const out = await c.send(c.command({ FunctionName: functionName, Payload: new TextEncoder().encode(JSON.stringify(request)) }));
    // The payload of a failed invoke is the runtime's error record; our errors never contain the key.
    if (out.FunctionError) throw new TokenExchangeError(`token exchange failed (${out.FunctionError})`);
    return JSON.parse(new TextDecoder().decode(out.Payload));
  };
  invokers.set(functionName, invoker);
  return invoker;
}

let injected: ExchangeTransport | undefined;
/** Tests: run the exchange through `transport` (e.g. the real handler in-process) instead of Lambda. */
export function setExchangeTransport(transport: ExchangeTransport | undefined): void {
  injected = transport;
}

/** The transport of this function, or undefined where API keys are checked by the store itself (locally, SQL store). */
export function exchangeTransport(env: Record<string, string | undefined> = process.env): ExchangeTransport | undefined {
  if (injected) return injected;
  const name = env[TOKEN_EXCHANGE.env];
  return name ? lambdaTransport(name) : undefined;
}

/** The key's user and a token for PostgREST, or null for an unknown, revoked or expired key. */
export async function exchangeApiKey(transport: ExchangeTransport, apiKey: string): Promise<{ userId: string; accessToken: string } | null> {
  const answer = (await transport({ api_key: apiKey })) as Partial<Record<string, unknown>> | null;
  if (answer && answer.error === "invalid_api_key") return null;
  if (!answer || typeof answer.user_id !== "string" || typeof answer.access_token !== "string")
    throw new TokenExchangeError("token exchange answered without a user and a token");
  return { userId: answer.user_id, accessToken: answer.access_token };
}
