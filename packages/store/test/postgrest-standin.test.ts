// The PostgREST stand-in itself (postgrest-server.ts), so it cannot flatter the adapter: it verifies
// tokens the way PostgREST does (keys chosen by kid, aud, the role claim switching roles, an unknown
// role an error, an opaque key refused as a bearer), answers with PostgREST's status table, and refuses
// what it does not implement instead of ignoring it.
import { randomUUID } from "node:crypto";
import { SignJWT, importJWK, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey, issueAccessToken } from "@conversation-api/core";
import { projectKeys, type ProjectKeys } from "./api-tokens";
import { startPostgrestBacking, type PostgrestBacking } from "./postgrest-backing";
import { statusOf } from "./postgrest-server";

let backing: PostgrestBacking;
let keys: ProjectKeys;
let userId: string;

beforeAll(async () => {
  keys = await projectKeys();
  backing = await startPostgrestBacking({ jwks: keys.jwks });
  const user = await backing.admin.createUser({ email: `standin-${randomUUID()}@example.com`, password_hash: "h", display_name: null });
  userId = user.id;
}, 120_000);
afterAll(() => backing?.stop(), 60_000);

async function get(path: string, headers: Record<string, string>) {
  const res = await fetch(`${backing.rest.url}${path}`, { headers });
  return { status: res.status, body: (await res.json()) as unknown };
}
const users = (headers: Record<string, string>) => get("/rest/v1/users?select=id", headers);
const asUser = async (token: string) => users({ apikey: backing.rest.publishableKey, authorization: `Bearer ${token}` });

/** A token signed with `jwk`, naming `kid` in its header (default: the key's own). */
async function signed(jwk: JWK, claims: Record<string, unknown>, kid = jwk.kid!) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
    .setExpirationTime("5m")
    .sign(await importJWK(jwk, "ES256"));
}

describe("PostgREST stand-in: API keys", () => {
  it("accepts the secret key as apikey alone, as service_role", async () => {
    const r = await users({ apikey: backing.rest.secretKey });
    expect(r.status).toBe(200);
    expect((r.body as unknown[]).length).toBeGreaterThan(0);
  });

  it("refuses an opaque key as a bearer token, as PostgREST refuses any non-JWT", async () => {
    const r = await users({ apikey: backing.rest.secretKey, authorization: `Bearer ${backing.rest.secretKey}` });
    expect(r).toMatchObject({ status: 401, body: { code: "PGRST301" } });
  });

  it("refuses a request without a known apikey", async () => {
    expect((await users({})).status).toBe(401);
    expect((await users({ apikey: "sb_publishable_other" })).status).toBe(401);
  });

  it("gives the publishable key alone the anonymous role: 42501 → 401", async () => {
    expect(await users({ apikey: backing.rest.publishableKey })).toMatchObject({ status: 401, body: { code: "42501" } });
  });
});

describe("PostgREST stand-in: JWT verification", () => {
  it("accepts our token, picking our key from several by kid", async () => {
    const { token } = await issueAccessToken(userId, keys.tokens);
    expect(await asUser(token)).toEqual({ status: 200, body: [{ id: userId }] });
  });

  it("accepts a token of the project's other trusted key too", async () => {
    expect((await asUser(await signed(keys.supabases, { sub: userId, role: "authenticated" }))).status).toBe(200);
  });

  it("refuses an unknown kid, and a trusted kid on a signature by another key", async () => {
    const stranger = await generateSigningKey();
    expect(await asUser(await signed(stranger, { sub: userId, role: "authenticated" }))).toMatchObject({ status: 401, body: { code: "PGRST301" } });
    expect(await asUser(await signed(stranger, { sub: userId, role: "authenticated" }, keys.ours.kid))).toMatchObject({ status: 401, body: { code: "PGRST301" } });
  });

  it("checks aud against jwt-aud", async () => {
    expect(await asUser(await signed(keys.ours, { sub: userId, role: "authenticated", aud: "someone-else" }))).toMatchObject({ status: 401, body: { code: "PGRST303" } });
    expect((await asUser(await signed(keys.ours, { sub: userId, role: "authenticated", aud: ["x", "authenticated"] }))).status).toBe(200);
  });

  it("refuses an expired token", async () => {
    const { token } = await issueAccessToken(userId, { ...keys.tokens, expiresInSeconds: -60 });
    expect(await asUser(token)).toMatchObject({ status: 401, body: { code: "PGRST303" } });
  });

  it("switches to the role claim: service_role bypasses RLS, authenticated sees only itself", async () => {
    const other = await backing.admin.createUser({ email: `standin-${randomUUID()}@example.com`, password_hash: "h", display_name: null });
    const all = await asUser(await signed(keys.ours, { role: "service_role" }));
    expect(all.status).toBe(200);
    expect(all.body).toEqual(expect.arrayContaining([{ id: userId }, { id: other.id }]));
    expect((await asUser(await signed(keys.ours, { sub: other.id, role: "authenticated" }))).body).toEqual([{ id: other.id }]);
  });

  it("answers an unknown role with 401 (PostgREST#3601)", async () => {
    expect(await asUser(await signed(keys.ours, { sub: userId, role: "postgres_admin" }))).toMatchObject({ status: 401, body: { code: "22023" } });
  });
});

describe("PostgREST stand-in: refusals of what it does not implement", () => {
  const auth = async () => ({ apikey: backing.rest.publishableKey, authorization: `Bearer ${(await issueAccessToken(userId, keys.tokens)).token}` });
  it.each([
    ["on_conflict", "/rest/v1/users?select=id&on_conflict=email", {}],
    ["Range", "/rest/v1/users?select=id", { range: "0-9" }],
    ["Accept: the singular object", "/rest/v1/users?select=id", { accept: "application/vnd.pgrst.object+json" }],
    ["Prefer: count", "/rest/v1/users?select=id", { prefer: "count=exact" }],
    ["Prefer: resolution", "/rest/v1/users?select=id", { prefer: "return=representation, resolution=merge-duplicates" }],
  ])("%s → 501", async (_, path, extra) => {
    expect(await get(path, { ...(await auth()), ...extra })).toMatchObject({ status: 501, body: { code: "FIXTURE" } });
  });
});

describe("PostgREST stand-in: status table", () => {
  it("maps SQLSTATEs as PostgREST's documentation lists them", () => {
    const table: [string, boolean, number][] = [
      ["P0001", true, 400], ["P0002", true, 500], ["P0003", true, 500], ["42501", true, 403], ["42501", false, 401],
      ["23505", true, 409], ["23503", true, 409], ["28000", true, 403], ["28P01", true, 403], ["08006", true, 503],
      ["53300", true, 503], ["53400", true, 500], ["25006", true, 405], ["25P02", true, 500], ["40001", true, 500],
      ["42883", true, 404], ["42P01", true, 404], ["42P17", true, 500], ["0LP01", true, 403], ["0P000", true, 403],
      ["XX000", true, 500], ["22P02", true, 400], ["23502", true, 400],
    ];
    for (const [code, authenticated, status] of table) expect(statusOf(code, authenticated), code).toBe(status);
  });

  it("answers a database error with its status: a unique violation is 409", async () => {
    const email = `standin-${randomUUID()}@example.com`;
    const post = () =>
      fetch(`${backing.rest.url}/rest/v1/users`, {
        method: "POST",
        headers: { apikey: backing.rest.secretKey, "content-type": "application/json" },
        body: JSON.stringify({ email, password_hash: "h" }),
      });
    expect((await post()).status).toBe(201);
    const dup = await post();
    expect(dup.status).toBe(409);
    expect(await dup.json()).toMatchObject({ code: "23505" });
  });
});
