// Test fixture, not product code: a loopback stand-in for a Supabase project's REST endpoint
// (the API gateway's `apikey` check + PostgREST), backed by a real database through the store's
// SqlClient, that records every request. Each request runs in one transaction that does what
// PostgREST does: verify the bearer JWT against the project's keys (a JWKS: asymmetric keys chosen by
// `kid`, plus the legacy HS256 secret), check `aud`, switch to the token's `role` (an unknown role is
// an error) and publish its claims as request.jwt.claims, so the schema's RLS policies and auth.uid()
// apply exactly as on Supabase. Errors carry PostgREST's documented statuses (statusOf). What it does
// not implement (on_conflict, other Prefer options, Range, singular-object Accept) it refuses with
// 501, so an adapter that starts relying on them fails here instead of passing by accident.
// Statements: postgrest-query.ts.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, createLocalJWKSet, decodeProtectedHeader, jwtVerify, errors as joseErrors, type JSONWebKeySet, type JWTPayload } from "jose";
import type { SqlClient, SqlTx } from "../src/index";
import {
  FUNCTION_LOOKUP,
  PostgrestRequestError,
  deleteStatement,
  insertStatement,
  readStatement,
  rpcStatement,
  updateStatement,
  type FunctionInfo,
  type Statement,
} from "./postgrest-query";

export interface RecordedRequest {
  method: string;
  /** Path without the query, e.g. /rest/v1/rpc/begin_reply */
  path: string;
  query: [string, string][];
  headers: Record<string, string>;
  body: unknown;
  status: number;
}

export interface PostgrestFixture {
  /** What to give supabase-js as the project URL. */
  url: string;
  /** New API keys: opaque strings, valid only in the `apikey` header. */
  publishableKey: string;
  secretKey: string;
  /** Legacy API keys: JWTs signed with the legacy secret. */
  anonKey: string;
  serviceRoleKey: string;
  /** The legacy HS256 JWT secret. */
  jwtSecret: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface PostgrestFixtureOptions {
  sql: SqlClient;
  /** The legacy HS256 secret (always trusted here, like a project whose legacy secret is not revoked). */
  jwtSecret?: string;
  /** Asymmetric signing keys the project trusts (in use, standby-rotated, previously used): public JWKs with `kid`. */
  jwks?: JSONWebKeySet;
  /** PostgREST's jwt-aud: a token with an `aud` claim must name it. Default "authenticated". */
  jwtAud?: string;
  /** The database's TimeZone setting as seen by PostgREST; anything but UTC exercises offset parsing. */
  timeZone?: string;
}

const sign = (secret: string, role: string) =>
  new SignJWT({ role, iss: "supabase" }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt().setExpirationTime("10y").sign(new TextEncoder().encode(secret));

/** The roles PostgREST may switch to on Supabase (the authenticator is granted exactly these). */
const ROLES = new Set(["anon", "authenticated", "service_role"]);

/**
 * PostgREST's mapping of SQLSTATEs to HTTP statuses, row by row as its documentation lists it
 * (docs.postgrest.org, references/errors, "HTTP Status Codes"; the same table in Supabase's
 * guides/api/rest/postgrest-error-codes). `authenticated`: the request carried a JWT.
 */
export function statusOf(code: string, authenticated: boolean): number {
  const exact: Record<string, number> = { "23503": 409, "23505": 409, "25006": 405, "53400": 500, P0001: 400, "42883": 404, "42P01": 404, "42P17": 500 };
  if (code in exact) return exact[code]!;
  if (code === "42501") return authenticated ? 403 : 401;
  const byClass: [RegExp, number][] = [
    [/^08/, 503], [/^09/, 500], [/^0L/, 403], [/^0P/, 403], [/^25/, 500], [/^28/, 403], [/^2D/, 500], [/^38/, 500],
    [/^39/, 500], [/^3B/, 500], [/^40/, 500], [/^53/, 503], [/^54/, 500], [/^55/, 500], [/^57/, 500], [/^58/, 500],
    [/^F0/, 500], [/^HV/, 500], [/^P0/, 500], [/^XX/, 500],
  ];
  for (const [re, status] of byClass) if (re.test(code)) return status;
  return 400;
}

/** What the stand-in does not implement: refused, never silently ignored. */
function refuseUnimplemented(url: URL, headers: Record<string, string>): void {
  const no = (what: string) => new PostgrestRequestError(501, "FIXTURE", `The PostgREST stand-in does not implement ${what}`);
  if (url.searchParams.has("on_conflict")) throw no("on_conflict");
  if (headers.range !== undefined || headers["range-unit"] !== undefined) throw no("Range requests");
  const accept = headers.accept;
  if (accept !== undefined && !accept.split(",").every((a) => /^\s*(application\/json|\*\/\*)\s*(;.*)?$/.test(a))) throw no(`Accept: ${accept}`);
  for (const preference of (headers.prefer ?? "").split(",").map((p) => p.trim()).filter(Boolean))
    if (preference !== "return=representation" && preference !== "return=minimal") throw no(`Prefer: ${preference}`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    throw new PostgrestRequestError(400, "PGRST102", "Empty or invalid json");
  }
}

export async function startPostgrestFixture(opts: PostgrestFixtureOptions): Promise<PostgrestFixture> {
  const jwtSecret = opts.jwtSecret ?? "fixture-jwt-secret-with-at-least-32-characters";
  const legacyKey = new TextEncoder().encode(jwtSecret);
  const anonKey = await sign(jwtSecret, "anon");
  const serviceRoleKey = await sign(jwtSecret, "service_role");
  const publishableKey = "sb_publishable_fixture0123456789abcdef";
  const secretKey = "sb_secret_fixture0123456789abcdefghij";
  const jwks = opts.jwks ? createLocalJWKSet(opts.jwks) : undefined;
  const jwtAud = opts.jwtAud ?? "authenticated";
  const requests: RecordedRequest[] = [];
  const functions = new Map<string, FunctionInfo | null>();

  async function lookupFunction(tx: SqlTx, name: string): Promise<FunctionInfo | null> {
    if (!functions.has(name)) {
      const rows = await tx.query<{ returns_set: boolean; return_kind: string; names: string[]; types: string[] }>(FUNCTION_LOOKUP, [name]);
      const [f] = rows;
      functions.set(name, f ? { returnsSet: f.returns_set, returnKind: f.return_kind, args: f.types.map((type, i) => ({ name: f.names[i]!, type })) } : null);
    }
    return functions.get(name)!;
  }

  /**
   * The gateway's and PostgREST's checks before any SQL. The gateway accepts a known API key; with no
   * Authorization header it stands in the key's own role (a new opaque key) or passes the legacy key
   * JWT on. Authorization must be a JWT PostgREST can verify: an opaque key there is refused.
   */
  async function authenticate(headers: Record<string, string>): Promise<JWTPayload> {
    const apikey = headers.apikey;
    if (!apikey) throw new PostgrestRequestError(401, "", "No API key found in request");
    const keyRoles: Record<string, string> = { [publishableKey]: "anon", [secretKey]: "service_role", [anonKey]: "anon", [serviceRoleKey]: "service_role" };
    if (!(apikey in keyRoles)) throw new PostgrestRequestError(401, "", "Invalid API key");
    const auth = headers.authorization;
    if (!auth) return { role: keyRoles[apikey] };
    const m = /^Bearer (.+)$/i.exec(auth);
    if (!m) throw new PostgrestRequestError(401, "PGRST301", "Invalid Authorization header");
    const token = m[1]!;
    if (token.split(".").length !== 3) throw new PostgrestRequestError(401, "PGRST301", `Expected 3 parts in JWT; got ${token.split(".").length}`);
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new PostgrestRequestError(401, "PGRST301", "JWSError JWSInvalidHeader");
    }
    try {
      // Asymmetric tokens: the key named by `kid` among the trusted ones (jose refuses an unknown kid);
      // HS256: the legacy secret.
      const { payload } =
        alg === "HS256"
          ? await jwtVerify(token, legacyKey, { algorithms: ["HS256"] })
          : jwks
            ? await jwtVerify(token, jwks, { algorithms: ["ES256", "RS256"] })
            : (() => {
                throw new Error("no asymmetric keys");
              })();
      const aud = payload.aud === undefined ? undefined : ([] as string[]).concat(payload.aud);
      if (aud && !aud.includes(jwtAud)) throw new PostgrestRequestError(401, "PGRST303", "JWT not in audience");
      return payload;
    } catch (e) {
      if (e instanceof PostgrestRequestError) throw e;
      if (e instanceof joseErrors.JWTExpired) throw new PostgrestRequestError(401, "PGRST303", "JWT expired");
      throw new PostgrestRequestError(401, "PGRST301", `JWSError ${(e as Error).message}`);
    }
  }

  async function handle(req: IncomingMessage, url: URL, headers: Record<string, string>, body: unknown): Promise<{ status: number; body: string | null }> {
    refuseUnimplemented(url, headers);
    const claims = await authenticate(headers);
    const authenticated = headers.authorization !== undefined;
    const role = typeof claims.role === "string" ? claims.role : "anon";
    // PostgREST runs `set local role` with the claim; a role the authenticator may not become fails.
    if (!ROLES.has(role)) throw new PostgrestRequestError(401, "22023", `role "${role}" does not exist`);
    const profile = headers["accept-profile"] ?? headers["content-profile"];
    if (profile !== undefined && profile !== "public") throw new PostgrestRequestError(406, "PGRST106", "The schema must be one of the following: public");
    const m = /^\/rest\/v1\/(?:(rpc)\/)?([a-z_][a-z0-9_]*)$/.exec(url.pathname);
    if (!m) throw new PostgrestRequestError(404, "PGRST125", `Invalid path specified in request URL: ${url.pathname}`);
    const [, rpc, name] = m as unknown as [string, string | undefined, string];
    const representation = (headers.prefer ?? "").split(",").map((s) => s.trim()).includes("return=representation");
    const method = req.method ?? "GET";

    try {
      return await opts.sql.transaction(async (tx) => {
        await tx.query("select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('timezone', $3, true)", [
          role,
          JSON.stringify(claims),
          opts.timeZone ?? "UTC",
        ]);
        let statement: Statement;
        let status = 200;
        if (rpc) {
          if (method !== "POST") throw new PostgrestRequestError(405, "PGRST101", "Only POST is supported by this fixture for rpc");
          const info = await lookupFunction(tx, name);
          const given = Object.keys((body ?? {}) as object).sort();
          if (!info || info.args.map((a) => a.name).sort().join() !== given.join())
            throw new PostgrestRequestError(404, "PGRST202", `Could not find the function public.${name}(${given.join(", ")}) in the schema cache`);
          statement = rpcStatement(name, info, body);
        } else if (method === "GET") statement = readStatement(name, url.searchParams);
        else if (method === "POST") {
          statement = insertStatement(name, url.searchParams, body);
          status = 201;
        } else if (method === "PATCH") statement = updateStatement(name, url.searchParams, body);
        else if (method === "DELETE") statement = deleteStatement(name, url.searchParams);
        else throw new PostgrestRequestError(405, "PGRST117", `Unsupported HTTP method: ${method}`);

        const [row] = await tx.query<{ body: string | null }>(statement.text, statement.params);
        const text = row?.body ?? "null";
        if (rpc || method === "GET" || representation) return { status, body: text };
        return { status: method === "POST" ? 201 : 204, body: null };
      });
    } catch (e) {
      if (e instanceof PostgrestRequestError) throw e;
      const pg = e as { code?: string; message?: string; detail?: string; hint?: string };
      if (typeof pg.code !== "string") throw e;
      throw Object.assign(new PostgrestRequestError(statusOf(pg.code, authenticated), pg.code, pg.message ?? "", pg.detail ?? null), {
        hint: pg.hint ?? null,
      });
    }
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fixture");
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
    const record: RecordedRequest = { method: req.method ?? "GET", path: url.pathname, query: [...url.searchParams], headers, body: undefined, status: 0 };
    requests.push(record);
    readJson(req)
      .then((body) => {
        record.body = body;
        return handle(req, url, headers, body);
      })
      .then(
        ({ status, body }) => {
          record.status = status;
          res.writeHead(status, body === null ? {} : { "content-type": "application/json; charset=utf-8" });
          res.end(body ?? undefined);
        },
        (e: unknown) => {
          const err = e instanceof PostgrestRequestError ? e : new PostgrestRequestError(500, "", String(e));
          record.status = err.status;
          res.writeHead(err.status, { "content-type": "application/json; charset=utf-8" });
          res.end(JSON.stringify({ code: err.code, details: err.details, hint: (err as { hint?: string | null }).hint ?? null, message: err.message }));
        },
      );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    publishableKey,
    secretKey,
    anonKey,
    serviceRoleKey,
    jwtSecret,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
