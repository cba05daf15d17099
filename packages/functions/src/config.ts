import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, parseConfig, type Config, type TokenSettings } from "@conversation-api/core";

/** True inside a deployed Lambda function (and under `sst dev`). */
export const onLambda = () => Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME);

/** SST sets SST_APP on every function it deploys (and under `sst dev`); its bound Config lives there. */
export const sstBound = (env: Record<string, string | undefined>) => Boolean(env.SST_APP);

export const isMemoryDataDir = (dir: string) => dir.startsWith("memory://");

/**
 * The secrets, as SST Config.Secret names (stacks/secrets.ts creates one each and binds it only to
 * the functions that read it) and as environment variable names locally.
 */
export const SECRET_NAMES = [
  "JWT_SECRET",
  "GROQ_API_KEY",
  "SUPABASE_URL",
  "SUPABASE_ANON_KEY",
  "SUPABASE_SERVICE_ROLE_KEY",
  "SUPABASE_JWT_SECRET",
] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

export interface SupabaseSettings {
  url: string;
  anonKey: string;
  jwtSecret: string;
  /** Only the register and login functions are given it. */
  serviceRoleKey: string | undefined;
}

export type AppConfig = Config & {
  /** Always set locally (generated if need be); on AWS only where the JWT_SECRET secret is bound. */
  JWT_SECRET: string | undefined;
  /** Set when SUPABASE_URL is: the store is then Supabase through PostgREST. */
  supabase: SupabaseSettings | null;
};

/**
 * The handlers' one way to read configuration. On AWS (SST_APP set) the values are SST's bound
 * Config parameters and secrets; locally they are the environment. Same names either way.
 */
export async function loadConfig(env: Record<string, string | undefined> = process.env): Promise<AppConfig> {
  const source = sstBound(env) ? { ...env, ...(await sstBoundValues()) } : env;
  const config = parseConfig(source);
  // The generated local secret passes the same checks as the variable (length, differs from Supabase's).
  const jwtSecret =
    config.JWT_SECRET ?? (onLambda() ? undefined : parseConfig({ ...source, JWT_SECRET: localJwtSecret(config.DATA_DIR) }).JWT_SECRET);
  return {
    ...config,
    JWT_SECRET: jwtSecret,
    supabase: config.SUPABASE_URL
      ? {
          url: config.SUPABASE_URL,
          anonKey: config.SUPABASE_ANON_KEY!,
          jwtSecret: config.SUPABASE_JWT_SECRET!,
          serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY,
        }
      : null,
  };
}

/**
 * Every Config value bound to this function, by name. `sst/node/config` fetches the SSM-held secrets
 * with a top-level await while it loads, so it is imported here, on AWS only, never at module load.
 */
async function sstBoundValues(): Promise<Record<string, string>> {
  const { Config } = await import("sst/node/config");
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(Config as Record<string, unknown>)) {
    if (typeof value === "string") values[name] = value;
  }
  return values;
}

/**
 * Access-token settings. The secret is read when a token is issued or checked, so a function that
 * never does (health, docs) runs without JWT_SECRET bound, and one that does but lacks it fails clearly.
 */
export function tokenSettings(config: AppConfig): TokenSettings {
  const secret = config.JWT_SECRET;
  return {
    get secret(): string {
      if (!secret) throw new ConfigError(["JWT_SECRET: not bound to this function (npx sst secrets set JWT_SECRET ...)"]);
      return secret;
    },
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    expiresInSeconds: config.ACCESS_TOKEN_EXPIRE_MINUTES * 60,
  };
}

// Locally a newcomer should not have to invent a secret: make one and keep it beside the data, so tokens
// survive restarts. A deployed function must be given one.
function localJwtSecret(dataDir: string): string {
  if (isMemoryDataDir(dataDir)) return randomBytes(32).toString("base64url");
  const file = join(dataDir, "jwt-secret");
  let existing: string | undefined;
  try {
    existing = readFileSync(file, "utf8").trim();
  } catch {
    existing = undefined;
  }
  if (existing !== undefined) {
    if (existing.length < 32) throw new ConfigError([`${file}: must hold at least 32 characters (delete it to have a new one generated)`]);
    return existing;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
