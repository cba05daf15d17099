// API keys on a Supabase deployment (packages/functions/src/token-exchange.ts): the data handlers run as
// a data function does there (the PostgREST stand-in, the publishable key, the public token keys, no
// secret key, no signing key) and reach the real exchange handler in-process through the injected
// transport, which holds the secret key and our signing key as the exchange function does. Also: a
// stream refuses an access token that would expire before its reply could finish.
import { randomUUID } from "node:crypto";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { API_KEY_PREFIX, issueAccessToken, sha256Hex, type Store } from "@conversation-api/core";
import { createSupabaseStore } from "../src/supabase";
import { projectKeys, type ProjectKeys } from "./api-tokens";
import { startPostgrestBacking, type PostgrestBacking } from "./postgrest-backing";
import type { RecordedRequest } from "./postgrest-server";

// The data function's configuration, set before its modules build their shared deps.
const DATA_ENV = ["SUPABASE_URL", "SUPABASE_PUBLISHABLE_KEY", "JWT_PUBLIC_KEYS", "DATA_DIR", "OFFLINE_TOKEN_DELAY_MS"] as const;
const saved = Object.fromEntries(DATA_ENV.map((n) => [n, process.env[n]]));

let backing: PostgrestBacking;
let keys: ProjectKeys;
let exchangeStore: Store;
let fns: {
  create: (e: APIGatewayProxyEventV2, c: Context) => Promise<any>;
  list: (e: APIGatewayProxyEventV2, c: Context) => Promise<any>;
  stream: (e: APIGatewayProxyEventV2, c: Context) => Promise<any>;
  setExchangeTransport: typeof import("../../functions/src/token-exchange").setExchangeTransport;
  exchange: typeof import("../../functions/src/handlers/token-exchange").exchange;
  shutdown: () => Promise<void>;
};
let exchanges = 0;

beforeAll(async () => {
  keys = await projectKeys();
  backing = await startPostgrestBacking({ jwks: keys.jwks });
  const { rest } = backing;
  Object.assign(process.env, {
    SUPABASE_URL: rest.url,
    SUPABASE_PUBLISHABLE_KEY: rest.publishableKey,
    JWT_PUBLIC_KEYS: JSON.stringify({ keys: keys.jwks.keys }),
    DATA_DIR: "memory://tokex",
    OFFLINE_TOKEN_DELAY_MS: "0",
  });
  for (const n of ["SUPABASE_SECRET_KEY", "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_JWT_SECRET", "JWT_SECRET", "JWT_PRIVATE_KEY", "GROQ_API_KEY"]) delete process.env[n];
  const [create, list, stream, client, exchangeHandler, deps] = await Promise.all([
    import("../../functions/src/handlers/conversations-create"),
    import("../../functions/src/handlers/conversations-list"),
    import("../../functions/src/handlers/messages-stream"),
    import("../../functions/src/token-exchange"),
    import("../../functions/src/handlers/token-exchange"),
    import("../../functions/src/deps"),
  ]);
  fns = {
    create: create.handler as never,
    list: list.handler as never,
    stream: stream.handler as never,
    setExchangeTransport: client.setExchangeTransport,
    exchange: exchangeHandler.exchange,
    shutdown: deps.shutdown,
  };
  // The exchange function's own deps: the secret key and our signing key, nothing the data function has.
  exchangeStore = createSupabaseStore({ url: rest.url, apiKey: rest.publishableKey, secretKey: rest.secretKey });
  // Over JSON both ways, as a Lambda invoke carries it.
  fns.setExchangeTransport(async (request) => {
    exchanges++;
    return JSON.parse(JSON.stringify(await fns.exchange({ store: exchangeStore, tokens: keys.tokens }, JSON.parse(JSON.stringify(request)))));
  });
}, 120_000);

afterAll(async () => {
  fns?.setExchangeTransport(undefined);
  await fns?.shutdown();
  for (const [n, v] of Object.entries(saved)) if (v === undefined) delete process.env[n];
  else process.env[n] = v;
  await backing?.stop();
}, 60_000);

const context = () => ({ awsRequestId: randomUUID(), functionName: "data" }) as unknown as Context;
function event(method: string, path: string, headers: Record<string, string>, body?: unknown): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: "",
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    requestContext: { requestId: randomUUID(), http: { method, path, sourceIp: "203.0.113.9" } },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}
const json = (res: { body?: string }) => JSON.parse(res.body ?? "null");

/** A user with a session token and an API key, made as the API would (the key row through RLS). */
async function userWithKey() {
  const user = await exchangeStore.createUser({ email: `tokex-${randomUUID()}@example.com`, password_hash: "$2a$10$h", display_name: "Ada" });
  const session = (await issueAccessToken(user.id, keys.tokens)).token;
  const key = `${API_KEY_PREFIX}${randomUUID().replaceAll("-", "")}`;
  const record = await exchangeStore
    .forUser(user.id, { accessToken: session })
    .createApiKey({ name: "ci", prefix: key.slice(0, 12), key_hash: sha256Hex(key), expires_at: null });
  return { user, session, key, keyId: record.id };
}

const during = async <T>(fn: () => Promise<T>): Promise<{ result: T; requests: RecordedRequest[] }> => {
  const from = backing.rest.requests.length;
  const result = await fn();
  return { result, requests: backing.rest.requests.slice(from) };
};
const bearer = (r: RecordedRequest) => r.headers.authorization?.replace(/^Bearer /, "");

describe("API keys on Supabase, through the token exchange", () => {
  it("an API-key request reaches PostgREST with a short token the exchange minted for the key's user", async () => {
    const { user, key } = await userWithKey();
    const before = exchanges;
    const { result: res, requests } = await during(() => fns.create(event("POST", "/api/v1/conversations", { authorization: `Bearer ${key}` }, { title: "via key" }), context()));
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res)).toMatchObject({ title: "via key" });
    expect(exchanges).toBe(before + 1);
    // First the exchange's key check (secret key, only as apikey), then the data call with the minted token.
    const [check, insert, ...rest] = requests;
    expect(check).toMatchObject({ method: "POST", path: "/rest/v1/rpc/authenticate_api_key" });
    expect(check!.headers.apikey).toBe(backing.rest.secretKey);
    expect(check!.headers.authorization).toBeUndefined();
    expect(insert).toMatchObject({ method: "POST", path: "/rest/v1/rpc/create_conversation", status: 200 });
    for (const r of [insert!, ...rest]) {
      expect(r.headers.apikey).toBe(backing.rest.publishableKey);
      const token = bearer(r)!;
      expect(decodeProtectedHeader(token)).toEqual({ alg: "ES256", kid: keys.ours.kid, typ: "JWT" });
      const claims = decodeJwt(token);
      expect(claims).toMatchObject({ sub: user.id, role: "authenticated", aud: ["conversation-api", "authenticated"] });
      // Enough for one stream (300 s) and a minute more, no longer.
      expect(claims.exp! - claims.iat!).toBe(360);
    }
    // x-api-key works the same way, and the key's user sees the row.
    const listed = await fns.list(event("GET", "/api/v1/conversations", { "x-api-key": key }), context());
    expect(listed.statusCode, listed.body).toBe(200);
    expect(json(listed).data.map((c: { title: string }) => c.title)).toEqual(["via key"]);
    expect(exchanges).toBe(before + 2);
  });

  it("a revoked key fails on the very next request (the exchange is asked every time)", async () => {
    const { user, session, key, keyId } = await userWithKey();
    const ok = await fns.list(event("GET", "/api/v1/conversations", { authorization: `Bearer ${key}` }), context());
    expect(ok.statusCode).toBe(200);
    expect(await exchangeStore.forUser(user.id, { accessToken: session }).revokeApiKey(keyId)).toBe(true);
    const before = exchanges;
    const { result: res, requests } = await during(() => fns.list(event("GET", "/api/v1/conversations", { authorization: `Bearer ${key}` }), context()));
    expect(res.statusCode).toBe(401);
    expect(json(res).error).toMatchObject({ type: "authentication_error", message: "Invalid, revoked or expired API key" });
    expect(exchanges).toBe(before + 1);
    // Only the exchange's key check went out: no data request without a credential.
    expect(requests.map((r) => r.path)).toEqual(["/rest/v1/rpc/authenticate_api_key"]);
    const unknown = await fns.list(event("GET", "/api/v1/conversations", { "x-api-key": `${API_KEY_PREFIX}${"0".repeat(32)}` }), context());
    expect(unknown.statusCode).toBe(401);
  });

  it("without the exchange a data function cannot check a key: it holds no secret key (clear 401, not a 500)", async () => {
    const { key } = await userWithKey();
    fns.setExchangeTransport(undefined);
    try {
      const res = await fns.list(event("GET", "/api/v1/conversations", { authorization: `Bearer ${key}` }), context());
      expect(res.statusCode).toBe(401);
      expect(json(res).error.message).toContain("API keys are not available on this function");
    } finally {
      fns.setExchangeTransport(async (request) => {
        exchanges++;
        return JSON.parse(JSON.stringify(await fns.exchange({ store: exchangeStore, tokens: keys.tokens }, JSON.parse(JSON.stringify(request)))));
      });
    }
  });

  it("the exchange itself refuses what is not a live key, without asking the database for non-keys", async () => {
    const deps = { store: exchangeStore, tokens: keys.tokens };
    const { result, requests } = await during(async () => [
      await fns.exchange(deps, {}),
      await fns.exchange(deps, { api_key: 42 }),
      await fns.exchange(deps, { api_key: "eyJhbGciOi.not.akey" }),
      await fns.exchange(deps, null),
    ]);
    expect(result).toEqual(Array(4).fill({ error: "invalid_api_key" }));
    expect(requests).toEqual([]);
  });

  it("streams a reply with an API key: the reply is saved with the exchanged token", async () => {
    const { user, key } = await userWithKey();
    const created = json(await fns.create(event("POST", "/api/v1/conversations", { "x-api-key": key }, { title: "stream" }), context()));
    const path = `/api/v1/conversations/${created.id}/messages/stream`;
    const { result: res, requests } = await during(() => fns.stream(event("POST", path, { "x-api-key": key }, { content: "hello" }), context()));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toContain("event: message_stop");
    const saves = requests.filter((r) => /^\/rest\/v1\/rpc\/(begin_reply|flush_reply|finish_reply)/.test(r.path));
    expect(saves.length).toBeGreaterThan(0);
    for (const r of saves) expect(decodeJwt(bearer(r)!).sub).toBe(user.id);
  });
});

describe("a stream refuses an access token that would expire before its reply could finish", () => {
  it("401 authentication_error saying to refresh first, before the body or the database", async () => {
    const { user, session } = await userWithKey();
    const created = json(await fns.create(event("POST", "/api/v1/conversations", { authorization: `Bearer ${session}` }, {}), context()));
    const path = `/api/v1/conversations/${created.id}/messages/stream`;
    const short = (await issueAccessToken(user.id, { ...keys.tokens, expiresInSeconds: 120 })).token;
    const { result: res, requests } = await during(() => fns.stream(event("POST", path, { authorization: `Bearer ${short}` }, { content: "hi" }), context()));
    expect(res.statusCode).toBe(401);
    expect(json(res).error.type).toBe("authentication_error");
    expect(json(res).error.message).toMatch(/expires in 1[12]\d s, before a reply could finish \(up to 300 s\): refresh the token first/);
    expect(requests).toEqual([]);
    // Buffered routes still take it: their work is one round trip.
    const listed = await fns.list(event("GET", "/api/v1/conversations", { authorization: `Bearer ${short}` }), context());
    expect(listed.statusCode).toBe(200);
    // A token with the full lifetime streams.
    const ok = await fns.stream(event("POST", path, { authorization: `Bearer ${session}` }, { content: "hi" }), context());
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.body).toContain("event: message_stop");
  });
});
