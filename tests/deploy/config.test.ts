// packages/functions/src/config.ts: one way to read settings, SST-bound on AWS, the environment locally.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, generateSigningKey, issueAccessToken, publicJwkOf, verifyAccessToken } from "@conversation-api/core";
import { loadConfig, sstBoundValues, tokenSettings, type GetParameters } from "../../packages/functions/src/config";

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

const SUPABASE = { SUPABASE_URL: "https://abc.supabase.co", SUPABASE_PUBLISHABLE_KEY: "sb_publishable_abc" };
const USER = "9b2f6a8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";

/** An SSM stand-in: the parameters it holds, and the names it was asked for. */
function ssm(held: Record<string, string>): GetParameters & { asked: string[][] } {
  const asked: string[][] = [];
  const fn = async (names: string[]) => {
    asked.push(names);
    return { values: Object.fromEntries(names.filter((n) => n in held).map((n) => [n, held[n]!])), missing: names.filter((n) => !(n in held)) };
  };
  return Object.assign(fn, { asked });
}

describe("loadConfig", () => {
  it("refuses a JWT_SECRET equal to SUPABASE_JWT_SECRET (legacy mode: our tokens must not be PostgREST tokens)", async () => {
    const legacy = { SUPABASE_URL: SUPABASE.SUPABASE_URL, SUPABASE_ANON_KEY: "anon", SUPABASE_JWT_SECRET: "a-supabase-jwt-secret-of-32-chars-or-more" };
    await expect(loadConfig({ DATA_DIR: "memory://", ...legacy, JWT_SECRET: legacy.SUPABASE_JWT_SECRET })).rejects.toThrow(
      /JWT_SECRET: must differ from SUPABASE_JWT_SECRET/,
    );
    const ok = await loadConfig({ DATA_DIR: "memory://", ...legacy, JWT_SECRET: "a-different-jwt-secret-of-32-characters!" });
    expect(ok.supabase?.legacyJwtSecret).toBe(legacy.SUPABASE_JWT_SECRET);
  });

  it("generates an ES256 key pair with a kid locally for in-memory data, signing and verifying with it", async () => {
    const c = await loadConfig({ DATA_DIR: "memory://" });
    expect(c.JWT_PRIVATE_KEY).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", kid: expect.any(String), d: expect.any(String) });
    expect(c.supabase).toBeNull();
    const tokens = tokenSettings(c);
    const { token } = await issueAccessToken(USER, tokens);
    expect(await verifyAccessToken(token, tokens)).toBe(USER);
  });

  it("keeps the local key pair in DATA_DIR and checks it like the variable", async () => {
    const dir = mkdtempSync(join(tmpdir(), "config-test-"));
    try {
      const first = await loadConfig({ DATA_DIR: dir });
      expect((await loadConfig({ DATA_DIR: dir })).JWT_PRIVATE_KEY).toEqual(first.JWT_PRIVATE_KEY);
      expect(JSON.parse(readFileSync(join(dir, "jwt-signing-key.json"), "utf8"))).toEqual(first.JWT_PRIVATE_KEY);
      writeFileSync(join(dir, "jwt-signing-key.json"), JSON.stringify({ kty: "EC", crv: "P-256", x: "a", y: "b" }));
      await expect(loadConfig({ DATA_DIR: dir })).rejects.toThrow(/no "d"[\s\S]*kid/);
      writeFileSync(join(dir, "jwt-signing-key.json"), "{truncated");
      await expect(loadConfig({ DATA_DIR: dir })).rejects.toThrow(ConfigError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads SST-bound parameters and secrets when SST_APP is set (no SSM call for plain values)", async () => {
    const key = await generateSigningKey();
    Object.assign(process.env, {
      SST_APP: "conversation-api",
      SST_STAGE: "test",
      AWS_LAMBDA_FUNCTION_NAME: "fn",
      SST_Secret_value_JWT_PRIVATE_KEY: JSON.stringify(key),
      SST_Secret_value_SUPABASE_SECRET_KEY: "sb_secret_abc",
      SST_Parameter_value_SUPABASE_URL: SUPABASE.SUPABASE_URL,
      SST_Parameter_value_SUPABASE_PUBLISHABLE_KEY: SUPABASE.SUPABASE_PUBLISHABLE_KEY,
      SST_Parameter_value_HISTORY_LIMIT: "42",
    });
    const get = ssm({});
    const c = await loadConfig(process.env, get);
    expect(get.asked).toEqual([]);
    expect(c.JWT_PRIVATE_KEY).toEqual(key);
    expect(c.HISTORY_LIMIT).toBe(42);
    expect(c.supabase).toEqual({ url: SUPABASE.SUPABASE_URL, apiKey: "sb_publishable_abc", secretKey: "sb_secret_abc", legacyJwtSecret: undefined });
  });

  it("holds no key on AWS where none is bound, failing only when a token is issued or checked", async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = "health";
    const c = await loadConfig({ ...SUPABASE });
    expect(c.JWT_PRIVATE_KEY).toBeUndefined();
    const tokens = tokenSettings(c);
    expect(tokens.issuer).toBe("conversation-api");
    await expect(issueAccessToken(USER, tokens)).rejects.toThrow(ConfigError);
    await expect(verifyAccessToken("x.y.z", tokens)).rejects.toThrow(ConfigError);
  });

  it("verifies with the public keys alone, as a data function does, and cannot issue", async () => {
    const key = await generateSigningKey();
    process.env.AWS_LAMBDA_FUNCTION_NAME = "conversations-list";
    const issuer = tokenSettings(await loadConfig({ ...SUPABASE, JWT_PRIVATE_KEY: JSON.stringify(key) }));
    const verifier = tokenSettings(await loadConfig({ ...SUPABASE, JWT_PUBLIC_KEYS: JSON.stringify({ keys: [publicJwkOf(key)] }) }));
    const { token } = await issueAccessToken(USER, issuer);
    expect(await verifyAccessToken(token, verifier)).toBe(USER);
    await expect(issueAccessToken(USER, verifier)).rejects.toThrow(/JWT_PRIVATE_KEY/);
  });

  it("demands a publishable (or anon) key with SUPABASE_URL, and refuses a publishable key as the secret one", async () => {
    await expect(loadConfig({ DATA_DIR: "memory://", SUPABASE_URL: "https://abc.supabase.co" })).rejects.toThrow(/SUPABASE_PUBLISHABLE_KEY/);
    expect((await loadConfig({ DATA_DIR: "memory://", SUPABASE_URL: "https://abc.supabase.co", SUPABASE_ANON_KEY: "eyJanon" })).supabase?.apiKey).toBe("eyJanon");
    await expect(loadConfig({ ...SUPABASE, DATA_DIR: "memory://", SUPABASE_SECRET_KEY: "sb_publishable_abc" })).rejects.toThrow(/sb_secret_/);
    await expect(loadConfig({ ...SUPABASE, DATA_DIR: "memory://", JWT_PUBLIC_KEYS: '{"keys":[]}' })).rejects.toThrow(/JWK set/);
  });
});

describe("SST-bound secrets from SSM (sstBoundValues)", () => {
  const env = {
    SST_APP: "conversation-api",
    SST_STAGE: "prod",
    SST_SSM_PREFIX: "/sst/conversation-api/prod/",
    SST_Secret_value_GROQ_API_KEY: "__FETCH_FROM_SSM__",
    SST_Secret_value_SUPABASE_SECRET_KEY: "__FETCH_FROM_SSM__",
    SST_Parameter_value_DEFAULT_MODEL: "m",
  };
  const stage = (n: string) => `/sst/conversation-api/prod/Secret/${n}/value`;
  const fallback = (n: string) => `/sst/conversation-api/.fallback/Secret/${n}/value`;

  it("reads the bound secrets in one call, then the app-wide fallback for what the stage lacks", async () => {
    const get = ssm({ [stage("GROQ_API_KEY")]: "gsk_stage", [fallback("SUPABASE_SECRET_KEY")]: "sb_secret_fallback" });
    expect(await sstBoundValues(env, get)).toEqual({ DEFAULT_MODEL: "m", GROQ_API_KEY: "gsk_stage", SUPABASE_SECRET_KEY: "sb_secret_fallback" });
    expect(get.asked).toEqual([[stage("GROQ_API_KEY"), stage("SUPABASE_SECRET_KEY")], [fallback("SUPABASE_SECRET_KEY")]]);
  });

  it("leaves an unset GROQ_API_KEY out instead of failing (the offline model answers)", async () => {
    const get = ssm({ [stage("SUPABASE_SECRET_KEY")]: "sb_secret_x" });
    expect(await sstBoundValues(env, get)).toEqual({ DEFAULT_MODEL: "m", SUPABASE_SECRET_KEY: "sb_secret_x" });
  });

  it("names an unset required secret", async () => {
    await expect(sstBoundValues(env, ssm({ [stage("GROQ_API_KEY")]: "g" }))).rejects.toThrow(/SUPABASE_SECRET_KEY: not set in stage prod/);
  });
});
