// Configuration: the secrets (SSM SecureString, set with `npx sst secrets set NAME value`) and the
// non-secret runtime settings (SSM parameters, from this deploy's environment or the defaults in
// packages/core/src/config.ts).
import { parseConfig, type Config as AppSettings } from "@conversation-api/core";
import { Config, type StackContext } from "sst/constructs";
import { SECRET_NAMES, type SecretName } from "../packages/functions/src/config";

/** Settings the deployed handlers read, bound to every data function as Config.Parameter. */
export const RUNTIME_PARAMETERS = [
  "JWT_ISSUER",
  "JWT_AUDIENCE",
  "ACCESS_TOKEN_EXPIRE_MINUTES",
  "DEFAULT_MODEL",
  "ALLOWED_MODELS",
  "DAILY_TOKEN_BUDGET",
  "CONTEXT_TOKEN_BUDGET",
  "HISTORY_LIMIT",
  "MAX_BODY_BYTES",
  "PING_INTERVAL_MS",
  "FIRST_TOKEN_TIMEOUT_MS",
  "IDLE_TIMEOUT_MS",
  "GROQ_MAX_RETRIES",
  "GROQ_MAX_RETRY_WAIT_MS",
] as const satisfies readonly (keyof AppSettings)[];

const text = (v: unknown) => (Array.isArray(v) ? v.join(",") : String(v));

export function ConfigStack({ stack }: StackContext) {
  // Validated here, so a bad value fails the deploy instead of every cold start.
  // Secrets never come from the deploy environment (they live in SSM), so they are not read here either.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(SECRET_NAMES as readonly string[]).includes(k)));
  const settings = parseConfig(env);

  const secrets = Object.fromEntries(SECRET_NAMES.map((name) => [name, new Config.Secret(stack, name)])) as Record<SecretName, Config.Secret>;
  const parameters = RUNTIME_PARAMETERS.map((name) => new Config.Parameter(stack, name, { value: text(settings[name]) }));
  // Read at deploy time by the API and the Function URL CORS settings (not by the handlers).
  const cors = new Config.Parameter(stack, "CORS_ORIGINS", { value: text(settings.CORS_ORIGINS) });

  return { secrets, parameters, corsOrigins: settings.CORS_ORIGINS, cors };
}
