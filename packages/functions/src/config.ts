import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, checkPrivateJwk, generateSigningKey, parseConfig, type Config, type TokenSettings } from "@conversation-api/core";
import type { JSONWebKeySet, JWK } from "jose";

/** True inside a deployed Lambda function (and under `sst dev`). */
export const onLambda = () => Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME);

/** SST sets SST_APP on every function it deploys (and under `sst dev`); its bound Config lives there. */
export const sstBound = (env: Record<string, string | undefined>) => Boolean(env.SST_APP);

export const isMemoryDataDir = (dir: string) => dir.startsWith("memory://");

/**
 * The secrets, as SST Config.Secret names (stacks/ConfigStack.ts creates one each; stacks/secret-policy.ts
 * binds each only to the functions whose route asks for it) and as environment variable names locally.
 * Everything else a function reads, the Supabase URL, publishable key and the public token keys
 * included, is not secret and travels as a Config.Parameter.
 */
export const SECRET_NAMES = [
  /** Asymmetric mode: the private JWK our tokens are signed with (issuing functions only). */
  "JWT_PRIVATE_KEY",
  /** Legacy mode: HS256 secret for our tokens. */
  "JWT_SECRET",
  "GROQ_API_KEY",
  /** sb_secret_… (or a legacy project's service_role JWT): pre-authentication routes only. */
  "SUPABASE_SECRET_KEY",
  /** Legacy mode: the project's JWT secret, to sign per-user PostgREST tokens. */
  "SUPABASE_JWT_SECRET",
] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

/** A bound secret that may be left unset: the function then runs without it (GROQ_API_KEY → offline model). */
export const OPTIONAL_SECRETS: ReadonlySet<SecretName> = new Set(["GROQ_API_KEY"]);

export interface SupabaseSettings {
  url: string;
  /** The `apikey` of user traffic: sb_publishable_… (or the legacy anon key). Not secret. */
  apiKey: string;
  /** sb_secret_… or legacy service_role: only the pre-authentication functions are given it. */
  secretKey: string | undefined;
  /** Legacy projects only: signs per-user tokens when the request carries none PostgREST trusts. */
  legacyJwtSecret: string | undefined;
}

export type AppConfig = Config & {
  /** Set when SUPABASE_URL is: the store is then Supabase through PostgREST. */
  supabase: SupabaseSettings | null;
};

/**
 * The handlers' one way to read configuration. On AWS (SST_APP set) the values are SST's bound
 * Config parameters and secrets; locally they are the environment. Same names either way.
 */
export async function loadConfig(
  env: Record<string, string | undefined> = process.env,
  getParameters: GetParameters = ssmGetParameters,
): Promise<AppConfig> {
  const source = sstBound(env) ? { ...env, ...(await sstBoundValues(env, getParameters)) } : env;
  const config = parseConfig(source);
  const local = !onLambda() && !config.JWT_PRIVATE_KEY && !config.JWT_SECRET;
  return {
    ...config,
    JWT_PRIVATE_KEY: local ? await localSigningKey(config.DATA_DIR) : config.JWT_PRIVATE_KEY,
    supabase: config.SUPABASE_URL
      ? {
          url: config.SUPABASE_URL,
          apiKey: (config.SUPABASE_PUBLISHABLE_KEY ?? config.SUPABASE_ANON_KEY)!,
          secretKey: config.SUPABASE_SECRET_KEY ?? config.SUPABASE_SERVICE_ROLE_KEY,
          legacyJwtSecret: config.SUPABASE_JWT_SECRET,
        }
      : null,
  };
}

/** SSM GetParameters, by full names: the values found, and the names that are not set. */
export type GetParameters = (names: string[]) => Promise<{ values: Record<string, string>; missing: string[] }>;

const FETCH_FROM_SSM = "__FETCH_FROM_SSM__";

/**
 * Every Config value SST bound to this function, by name. Plain parameters sit in the environment
 * (`SST_Parameter_value_<NAME>`); secrets are marked `__FETCH_FROM_SSM__` and read here with one
 * GetParameters call, at the stage path then at the app-wide fallback, the paths sst/node/config
 * uses. Unlike sst/node/config, an unset OPTIONAL_SECRETS entry is left out instead of failing every
 * request; an unset required one is a ConfigError naming it.
 */
export async function sstBoundValues(env: Record<string, string | undefined>, getParameters: GetParameters): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  const wanted: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    const m = /^SST_(Parameter|Secret)_value_(\w+)$/.exec(key);
    if (!m || value === undefined) continue;
    if (value === FETCH_FROM_SSM) wanted.push(m[2]!);
    else values[m[2]!] = value;
  }
  if (!wanted.length) return values;
  const stagePath = (n: string) => `${env.SST_SSM_PREFIX ?? `/sst/${env.SST_APP}/${env.SST_STAGE}/`}Secret/${n}/value`;
  const fallbackPath = (n: string) => `/sst/${env.SST_APP}/.fallback/Secret/${n}/value`;
  const first = await getParameters(wanted.map(stagePath));
  const unset: string[] = [];
  const retry = wanted.filter((n) => first.missing.includes(stagePath(n)));
  const second = retry.length ? await getParameters(retry.map(fallbackPath)) : { values: {}, missing: [] };
  for (const n of wanted) {
    const v = first.values[stagePath(n)] ?? second.values[fallbackPath(n)];
    if (v !== undefined) values[n] = v;
    else if (!OPTIONAL_SECRETS.has(n as SecretName)) unset.push(n);
  }
  if (unset.length) throw new ConfigError(unset.map((n) => `${n}: not set in stage ${env.SST_STAGE} (npx sst secrets set ${n} ...)`));
  return values;
}

/**
 * The real SSM call: one signed GetParameters per 10 names, with the execution role's credentials that
 * Lambda puts in the environment, over node:http(s) (ssm.ts: why not fetch). Loading
 * `@aws-sdk/client-ssm` for this one call cost most of a cold start's first invocation (bench figure 5).
 * Where there are no credentials in the environment (e.g. a profile under `sst dev`) the SDK, with its
 * full credential chain, still does it.
 */
export const ssmGetParameters: GetParameters = async (names) => {
  const env = process.env;
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return sdkGetParameters(names);
  const { getParametersOnce } = await import("./ssm");
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1";
  const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined };
  const endpoint = env.AWS_ENDPOINT_URL_SSM ?? env.AWS_ENDPOINT_URL ?? `https://ssm.${region}.amazonaws.com/`;
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (let i = 0; i < names.length; i += 10) {
    const out = await getParametersOnce(endpoint, region, credentials, names.slice(i, i + 10));
    for (const p of out.Parameters ?? []) if (p.Name && p.Value !== undefined) values[p.Name] = p.Value;
    missing.push(...(out.InvalidParameters ?? []));
  }
  return { values, missing };
};

/** The same call through the AWS SDK (it ships with the Lambda runtime; imported only when needed). */
const sdkGetParameters: GetParameters = async (names) => {
  const { SSMClient, GetParametersCommand } = await import("@aws-sdk/client-ssm");
  const client = new SSMClient({});
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (let i = 0; i < names.length; i += 10) {
    const out = await client.send(new GetParametersCommand({ Names: names.slice(i, i + 10), WithDecryption: true }));
    for (const p of out.Parameters ?? []) if (p.Name && p.Value !== undefined) values[p.Name] = p.Value;
    missing.push(...(out.InvalidParameters ?? []));
  }
  return { values, missing };
};

/**
 * Access-token settings. Keys are read when a token is issued or checked, so a function that never
 * does (health, docs) runs with none bound, and one that does but lacks its key fails clearly.
 */
export function tokenSettings(config: AppConfig): TokenSettings {
  const privateKey = config.JWT_PRIVATE_KEY as JWK | undefined;
  if (privateKey) checkPrivateJwk(privateKey);
  return {
    privateKey,
    publicKeys: config.JWT_PUBLIC_KEYS as JSONWebKeySet | undefined,
    secret: config.JWT_SECRET,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    expiresInSeconds: config.ACCESS_TOKEN_EXPIRE_MINUTES * 60,
  };
}

// Locally a newcomer should not have to make a key: generate a key pair and keep it beside the data,
// so tokens survive restarts. A deployed function must be given one.
async function localSigningKey(dataDir: string): Promise<Record<string, unknown>> {
  if (isMemoryDataDir(dataDir)) return { ...(await generateSigningKey()) };
  const file = join(dataDir, "jwt-signing-key.json");
  let text: string | undefined;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const jwk = await generateSigningKey();
    writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
    return { ...jwk };
  }
  // Checked like the variable: a hand-edited or truncated file fails at start, not at the first login.
  const parsed = parseConfig({ JWT_PRIVATE_KEY: text }).JWT_PRIVATE_KEY!;
  checkPrivateJwk(parsed as JWK, file);
  return parsed;
}
