// Test fixture, not product code: a loopback stand-in for a Supabase project's REST endpoint
// (the API gateway's `apikey` check + PostgREST), backed by a real database through the store's
// SqlClient, that records every request. Each request runs in one transaction that does what
// PostgREST does: verify the bearer JWT (HS256, the project's JWT secret), switch to the token's
// `role` and publish its claims as request.jwt.claims, so the schema's RLS policies and auth.uid()
// apply exactly as on Supabase. Statements: postgrest-query.ts.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
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
  /** Path without the query, e.g. /rest/v1/rpc/append_user_message */
  path: string;
  query: [string, string][];
  headers: Record<string, string>;
  body: unknown;
  status: number;
}

export interface PostgrestFixture {
  /** What to give supabase-js as the project URL. */
  url: string;
  anonKey: string;
  serviceRoleKey: string;
  jwtSecret: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface PostgrestFixtureOptions {
  sql: SqlClient;
  jwtSecret?: string;
  /** The database's TimeZone setting as seen by PostgREST; anything but UTC exercises offset parsing. */
  timeZone?: string;
}

const sign = (secret: string, role: string) =>
  new SignJWT({ role, iss: "supabase" }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt().setExpirationTime("10y").sign(new TextEncoder().encode(secret));

// PostgREST's mapping of SQLSTATEs to HTTP statuses (docs: "Errors" → "SQLSTATE error codes").
function statusOf(code: string, anonymous: boolean): number {
  if (code === "42501") return anonymous ? 401 : 403;
  if (code === "23503" || code === "23505") return 409;
  if (code === "42883" || code === "42P01") return 404;
  if (code === "P0001") return 400;
  if (/^(08|53)/.test(code)) return 503;
  if (/^(09|0L|0P|25|2D|38|39|3B|40|54|55|57|58|F0|HV|XX)/.test(code)) return code.startsWith("0L") || code.startsWith("0P") ? 403 : 500;
  return 400;
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
  const key = new TextEncoder().encode(jwtSecret);
  const anonKey = await sign(jwtSecret, "anon");
  const serviceRoleKey = await sign(jwtSecret, "service_role");
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

  /** The gateway's and PostgREST's checks before any SQL: API key, then the bearer token. */
  async function authenticate(headers: Record<string, string>): Promise<Record<string, unknown>> {
    const apikey = headers.apikey;
    if (!apikey) throw new PostgrestRequestError(401, "", "No API key found in request");
    if (apikey !== anonKey && apikey !== serviceRoleKey) throw new PostgrestRequestError(401, "", "Invalid API key");
    const auth = headers.authorization;
    if (!auth) return { role: "anon" };
    const m = /^Bearer (.+)$/i.exec(auth);
    if (!m) throw new PostgrestRequestError(401, "PGRST301", "Invalid Authorization header");
    try {
      const { payload } = await jwtVerify(m[1]!, key, { algorithms: ["HS256"] });
      return payload as Record<string, unknown>;
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) throw new PostgrestRequestError(401, "PGRST303", "JWT expired");
      throw new PostgrestRequestError(401, "PGRST301", `JWSError ${(e as Error).message}`);
    }
  }

  async function handle(req: IncomingMessage, url: URL, headers: Record<string, string>, body: unknown): Promise<{ status: number; body: string | null }> {
    const claims = await authenticate(headers);
    const role = typeof claims.role === "string" ? claims.role : "anon";
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
      throw Object.assign(new PostgrestRequestError(statusOf(pg.code, role === "anon"), pg.code, pg.message ?? "", pg.detail ?? null), {
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
