// packages/functions/src/config.ts: one way to read settings, SST-bound on AWS, the environment locally.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "@conversation-api/core";
import { loadConfig, tokenSettings } from "../../packages/functions/src/config";

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

const SECRET = "a-jwt-secret-of-at-least-32-characters!";
const SUPABASE = { SUPABASE_URL: "https://abc.supabase.co", SUPABASE_ANON_KEY: "anon", SUPABASE_JWT_SECRET: "a-supabase-jwt-secret-of-32-chars-or-more" };

describe("loadConfig", () => {
  it("refuses a JWT_SECRET equal to SUPABASE_JWT_SECRET, from the variable or the generated file", async () => {
    await expect(loadConfig({ DATA_DIR: "memory://", ...SUPABASE, JWT_SECRET: SUPABASE.SUPABASE_JWT_SECRET })).rejects.toThrow(
      /JWT_SECRET: must differ from SUPABASE_JWT_SECRET/,
    );
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    try {
      writeFileSync(join(dir, "jwt-secret"), SUPABASE.SUPABASE_JWT_SECRET);
      await expect(loadConfig({ DATA_DIR: dir, ...SUPABASE })).rejects.toThrow(/must differ from SUPABASE_JWT_SECRET/);
      writeFileSync(join(dir, "jwt-secret"), "short");
      await expect(loadConfig({ DATA_DIR: dir })).rejects.toBeInstanceOf(ConfigError);
      writeFileSync(join(dir, "jwt-secret"), SECRET);
      expect((await loadConfig({ DATA_DIR: dir })).JWT_SECRET).toBe(SECRET);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the environment locally, generating a JWT secret for in-memory data", async () => {
    const c = await loadConfig({ DATA_DIR: "memory://", DEFAULT_MODEL: "llama-3.1-8b-instant" });
    expect(c.JWT_SECRET).toEqual(expect.any(String));
    expect(c.supabase).toBeNull();
  });

  it("reads SST-bound parameters and secrets when SST_APP is set (no SSM call for plain values)", async () => {
    Object.assign(process.env, {
      SST_APP: "conversation-api",
      SST_STAGE: "test",
      AWS_LAMBDA_FUNCTION_NAME: "fn",
      SST_Secret_value_JWT_SECRET: SECRET,
      SST_Secret_value_SUPABASE_URL: SUPABASE.SUPABASE_URL,
      SST_Secret_value_SUPABASE_ANON_KEY: SUPABASE.SUPABASE_ANON_KEY,
      SST_Secret_value_SUPABASE_JWT_SECRET: SUPABASE.SUPABASE_JWT_SECRET,
      SST_Parameter_value_HISTORY_LIMIT: "42",
    });
    const c = await loadConfig();
    expect(c.JWT_SECRET).toBe(SECRET);
    expect(c.HISTORY_LIMIT).toBe(42);
    expect(c.supabase).toEqual({ url: SUPABASE.SUPABASE_URL, anonKey: "anon", jwtSecret: SUPABASE.SUPABASE_JWT_SECRET, serviceRoleKey: undefined });
  });

  it("leaves JWT_SECRET unset on AWS where it is not bound, failing only when a token is used", async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = "health";
    const c = await loadConfig({ ...SUPABASE });
    expect(c.JWT_SECRET).toBeUndefined();
    const tokens = tokenSettings(c);
    expect(tokens.issuer).toBe("conversation-api");
    expect(() => tokens.secret).toThrow(ConfigError);
  });

  it("demands the anon key and JWT secret with SUPABASE_URL", async () => {
    await expect(loadConfig({ DATA_DIR: "memory://", SUPABASE_URL: "https://abc.supabase.co" })).rejects.toThrow(/SUPABASE_ANON_KEY.*\n.*SUPABASE_JWT_SECRET/);
    await expect(loadConfig({ ...SUPABASE, DATA_DIR: "memory://", SUPABASE_JWT_SECRET: "short" })).rejects.toThrow(/at least 32/);
  });
});
