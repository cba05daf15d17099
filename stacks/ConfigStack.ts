// Configuration: the secrets (SSM SecureString, set with `npx sst secrets set NAME value`) and the
// non-secret runtime settings (SSM parameters, from this deploy's environment or the defaults in
// packages/core/src/config.ts).
import { parseConfig, type Config as AppSettings } from "@conversation-api/core";
import { Config, type StackContext } from "sst/constructs";
import { SECRET_NAMES, type SecretName } from "../packages/functions/src/config";
import { BUDGET_OFF_WARNING, DEPLOY_SETTING_DEFAULTS } from "./defaults";
import { operationsFrom } from "./operations";
import { chooseTokenMode } from "./token-mode";

/** A runtime setting's name: one of packages/core/src/config.ts. */
type RuntimeSettingName = keyof AppSettings;

/** Settings the deployed handlers read, bound to every data function as Config.Parameter. */
export const RUNTIME_PARAMETERS = [
  "JWT_ISSUER",
  "JWT_AUDIENCE",
  "ACCESS_TOKEN_EXPIRE_MINUTES",
  "DEFAULT_MODEL",
  "ALLOWED_MODELS",
  "MODEL_LIST_TTL_S",
  // Groq's built-in tools a send may ask for; bound only when some are on (an SSM value cannot be empty).
  "SERVER_TOOLS",
  "DAILY_TOKEN_BUDGET",
  "CONTEXT_TOKEN_BUDGET",
  "HISTORY_LIMIT",
  "MAX_BODY_BYTES",
  "PING_INTERVAL_MS",
  "FIRST_TOKEN_TIMEOUT_MS",
  "IDLE_TIMEOUT_MS",
  "GROQ_MAX_RETRIES",
  "GROQ_MAX_RETRY_WAIT_MS",
  // sessions, budgets, login/registration throttling
  "REFRESH_TOKEN_EXPIRE_DAYS",
  "RESERVE_OUTPUT_TOKENS",
  "LOGIN_MAX_FAILURES_PER_ACCOUNT",
  "LOGIN_MAX_FAILURES_PER_IP",
  "LOGIN_FAILURE_WINDOW_MINUTES",
  "REGISTER_MAX_PER_IP",
  "REGISTER_WINDOW_MINUTES",
  // Durable replies. DISCONNECT_CANCELS is left out: Lambda never reports a disconnect.
  "FLUSH_INTERVAL_MS",
  "REPLY_STALE_MS",
  "REPLY_MAX_DURATION_MS",
  "MAX_CONCURRENT_REPLIES",
] as const satisfies readonly RuntimeSettingName[];

/** Not secret, but only bound when set: the Supabase project and the public half of the token keys. */
export const OPTIONAL_PARAMETERS = ["SUPABASE_URL", "SUPABASE_PUBLISHABLE_KEY", "JWT_PUBLIC_KEYS"] as const satisfies readonly (keyof AppSettings)[];

/** Secret values under their legacy names, which must not reach a template either. */
const LEGACY_SECRET_NAMES = ["SUPABASE_SERVICE_ROLE_KEY"];

const text = (v: unknown) => (Array.isArray(v) ? v.join(",") : typeof v === "object" ? JSON.stringify(v) : String(v));

/** The deploy's environment without empty values (unset), over the deploy's own defaults. */
function deployEnvironment(): Record<string, string> {
  const given = Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== "");
  // Secrets never come from the deploy environment (they live in SSM), so they are not read here either.
  const notSecret = given.filter(([k]) => !(SECRET_NAMES as readonly string[]).includes(k) && !LEGACY_SECRET_NAMES.includes(k));
  return { ...DEPLOY_SETTING_DEFAULTS, ...Object.fromEntries(notSecret) };
}

export function ConfigStack({ stack, app }: StackContext) {
  // Validated here, so a bad value fails the deploy instead of every cold start.
  const env = deployEnvironment();
  const settings = parseConfig(env);
  const operations = operationsFrom(env);
  // `sst remove` synthesizes the app too, but changes no function: it needs no token mode and has
  // nothing to warn about.
  const removing = app.mode === "remove";
  const tokens = removing ? { mode: "asymmetric" as const, warnings: [] } : chooseTokenMode({ publicKeys: Boolean(settings.JWT_PUBLIC_KEYS), requested: operations.SUPABASE_TOKEN_MODE });
  const tokenMode = tokens.mode;
  if (!removing) for (const warning of [...tokens.warnings, ...(settings.DAILY_TOKEN_BUDGET === 0 ? [BUDGET_OFF_WARNING] : [])]) console.warn(warning);
  const optional = {
    SUPABASE_URL: settings.SUPABASE_URL,
    // A legacy project's anon key is as public as a publishable key.
    SUPABASE_PUBLISHABLE_KEY: settings.SUPABASE_PUBLISHABLE_KEY ?? settings.SUPABASE_ANON_KEY,
    JWT_PUBLIC_KEYS: settings.JWT_PUBLIC_KEYS,
  } satisfies Record<(typeof OPTIONAL_PARAMETERS)[number], unknown>;
  const runtime: Partial<Record<RuntimeSettingName, unknown>> = settings;

  const secrets = Object.fromEntries(SECRET_NAMES.map((name) => [name, new Config.Secret(stack, name)])) as Record<SecretName, Config.Secret>;
  const parameters = [
    ...RUNTIME_PARAMETERS.filter((name) => runtime[name] !== undefined && text(runtime[name]) !== "").map((name) => new Config.Parameter(stack, name, { value: text(runtime[name]) })),
    ...OPTIONAL_PARAMETERS.filter((name) => optional[name] !== undefined).map((name) => new Config.Parameter(stack, name, { value: text(optional[name]) })),
  ];
  // Read at deploy time by the API and the Function URL CORS settings (not by the handlers).
  const cors = new Config.Parameter(stack, "CORS_ORIGINS", { value: text(settings.CORS_ORIGINS) });

  return { secrets, parameters, corsOrigins: settings.CORS_ORIGINS, cors, tokenMode, operations };
}
