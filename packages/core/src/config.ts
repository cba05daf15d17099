import * as z from "zod";
import { SERVER_TOOLS, type ServerToolName } from "./schemas/server-tools";

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);
const list = (def: string) =>
  z
    .string()
    .default(def)
    .transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean));
const optionalText = z.string().trim().min(1).optional();
// "model=tokens,model=tokens": context windows for models whose window Groq's model list does not give
// (packages/core/src/models.ts).
const contextWindows = z
  .string()
  .default("")
  .transform((s, ctx) => {
    const out: Record<string, number> = {};
    for (const pair of s.split(",").map((x) => x.trim()).filter(Boolean)) {
      const m = /^(.+)=(\d+)$/.exec(pair);
      if (!m || Number(m[2]) < 1) {
        ctx.addIssue({ code: "custom", message: `"${pair}" is not model=tokens` });
        return z.NEVER;
      }
      out[m[1]!.trim()] = Number(m[2]);
    }
    return out;
  });
// "browser_search,code_interpreter": the provider's built-in tools sends may ask for (schemas/server-tools.ts).
const serverTools = z
  .string()
  .default("")
  .transform((s, ctx) => {
    const names = [...new Set(s.split(",").map((x) => x.trim()).filter(Boolean))];
    const unknown = names.filter((n) => !(SERVER_TOOLS as readonly string[]).includes(n));
    if (unknown.length) {
      ctx.addIssue({ code: "custom", message: `unknown server tool ${unknown.join(", ")}; known: ${SERVER_TOOLS.join(", ")}` });
      return z.NEVER;
    }
    return names as ServerToolName[];
  });
/** A JSON object in a variable (a JWK or a JWK set). */
const jsonObject = (what: string, check: (v: Record<string, unknown>) => boolean) =>
  z
    .string()
    .transform((s, ctx) => {
      try {
        const v = JSON.parse(s) as unknown;
        if (v && typeof v === "object" && !Array.isArray(v) && check(v as Record<string, unknown>)) return v as Record<string, unknown>;
      } catch {
        /* reported below */
      }
      ctx.addIssue({ code: "custom", message: `must be ${what} (JSON)` });
      return z.NEVER;
    })
    .optional();

/**
 * Every setting the API reads, with its default. The one place that knows the names of the variables;
 * `.env.example` documents the same list.
 */
export const ConfigSchema = z
  .object({
    PORT: int(3000, 1, 65535),
    HOST: z.string().default("127.0.0.1"),
    DATA_DIR: z.string().default("./.data"),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    // Access-token keys (packages/core/src/auth/tokens.ts). Asymmetric: JWT_PRIVATE_KEY (issuing functions
    // only) and JWT_PUBLIC_KEYS (everyone else; not secret). Legacy/simple: JWT_SECRET (HS256).
    JWT_PRIVATE_KEY: jsonObject("a private JWK with kty, d and kid", (v) => typeof v.kty === "string"),
    JWT_PUBLIC_KEYS: jsonObject('a JWK set {"keys":[...]}', (v) => Array.isArray(v.keys) && v.keys.length > 0),
    JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
    JWT_ISSUER: z.string().default("conversation-api"),
    JWT_AUDIENCE: z.string().default("conversation-api"),
    ACCESS_TOKEN_EXPIRE_MINUTES: int(15, 1, 60 * 24 * 30),
    GROQ_API_KEY: optionalText,
    GROQ_BASE_URL: z.url().optional(),
    // Groq's production models (docs/api.md, "Models"); the fast one answers by default. Which of them Groq
    // still serves, and their windows and output caps, come from its model list.
    DEFAULT_MODEL: z.string().min(1).default("openai/gpt-oss-20b"),
    ALLOWED_MODELS: list("openai/gpt-oss-20b,openai/gpt-oss-120b"),
    MODEL_CONTEXT_WINDOWS: contextWindows,
    SERVER_TOOLS: serverTools.describe(
      "The provider's built-in tools (browser_search, code_interpreter) a send may ask for in server_tools, comma-separated; empty turns them off",
    ),
    MODEL_LIST_TTL_S: int(600, 1, 86_400).describe("Seconds Groq's model list is kept before it is read again (in the background)"),
    PING_INTERVAL_MS: int(15_000, 10),
    FIRST_TOKEN_TIMEOUT_MS: int(30_000, 10),
    IDLE_TIMEOUT_MS: int(30_000, 10),
    GROQ_MAX_RETRIES: int(2, 0, 10),
    GROQ_MAX_RETRY_WAIT_MS: int(10_000, 0),
    CONTEXT_TOKEN_BUDGET: int(8_000, 256),
    HISTORY_LIMIT: int(100, 1, 1000),
    DAILY_TOKEN_BUDGET: int(0, 0).describe("Per-user input+output tokens per UTC day; 0 turns the budget off"),
    // What one user may spend and hold at once, sessions, and login and registration throttling.
    RESERVE_OUTPUT_TOKENS: int(4096, 1, 1_000_000).describe("Output tokens a send without max_tokens reserves against the budget"),
    MAX_CONCURRENT_REPLIES: int(4, 0, 1000).describe("Replies one user may have streaming at once, across conversations and instances; 0 turns the cap off"),
    REFRESH_TOKEN_EXPIRE_DAYS: int(30, 1, 365),
    LOGIN_MAX_FAILURES_PER_ACCOUNT: int(5, 1),
    LOGIN_MAX_FAILURES_PER_IP: int(50, 1),
    LOGIN_FAILURE_WINDOW_MINUTES: int(15, 1, 24 * 60),
    REGISTER_MAX_PER_IP: int(30, 1),
    REGISTER_WINDOW_MINUTES: int(60, 1, 24 * 60),
    // bcrypt's cost for new password hashes (auth/passwords.ts). Not a deploy parameter: a deployed
    // function always hashes at the default; the tests lower it (bcrypt's minimum is 4).
    PASSWORD_HASH_COST: int(10, 4, 15),
    MAX_BODY_BYTES: int(64 * 1024, 1024),
    // Durable replies: how often a streaming reply is written to the database, after how
    // long without a write a reader settles it as failed, and the longest a reply may run.
    FLUSH_INTERVAL_MS: int(250, 10, 10_000),
    REPLY_STALE_MS: int(3_000, 50),
    REPLY_MAX_DURATION_MS: int(600_000, 1_000),
    DISCONNECT_CANCELS: z
      .enum(["0", "1", "false", "true"])
      .default("0")
      .transform((v) => v === "1" || v === "true")
      .describe("Cancel a reply when its client disconnects, where the runtime can tell (never on Lambda)"),
    // `npm start` only: hide client disconnects from streaming handlers, exactly as a Function URL does.
    LAMBDA_FAITHFUL: z
      .enum(["0", "1", "false", "true"])
      .default("0")
      .transform((v) => v === "1" || v === "true"),
    OFFLINE_TOKEN_DELAY_MS: int(25, 0, 10_000),
    CORS_ORIGINS: list("*"),
    // Supabase: when SUPABASE_URL is set, the store talks to its PostgREST with a per-user token.
    SUPABASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    // New projects: sb_publishable_… / sb_secret_…; legacy projects: the anon / service_role JWTs.
    SUPABASE_PUBLISHABLE_KEY: optionalText,
    SUPABASE_SECRET_KEY: optionalText,
    SUPABASE_ANON_KEY: optionalText,
    SUPABASE_SERVICE_ROLE_KEY: optionalText,
    // Legacy projects that keep the HS256 JWT secret only (docs/deploy.md, "Legacy Supabase projects").
    SUPABASE_JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  })
  .superRefine((c, ctx) => {
    if (c.SUPABASE_URL && !c.SUPABASE_PUBLISHABLE_KEY && !c.SUPABASE_ANON_KEY)
      ctx.addIssue({ code: "custom", path: ["SUPABASE_PUBLISHABLE_KEY"], message: "required with SUPABASE_URL (or the legacy SUPABASE_ANON_KEY)" });
    if (c.SUPABASE_SECRET_KEY?.startsWith("sb_publishable_") || c.SUPABASE_SERVICE_ROLE_KEY?.startsWith("sb_publishable_"))
      ctx.addIssue({ code: "custom", path: ["SUPABASE_SECRET_KEY"], message: "is a publishable key; the secret key starts with sb_secret_" });
    if (c.JWT_SECRET && c.SUPABASE_JWT_SECRET && c.JWT_SECRET === c.SUPABASE_JWT_SECRET)
      ctx.addIssue({
        code: "custom",
        path: ["JWT_SECRET"],
        message: "must differ from SUPABASE_JWT_SECRET (our tokens must not be valid PostgREST tokens)",
      });
    if (c.REPLY_STALE_MS < 2 * c.FLUSH_INTERVAL_MS)
      ctx.addIssue({ code: "custom", path: ["REPLY_STALE_MS"], message: "must be at least twice FLUSH_INTERVAL_MS" });
    if (!c.ALLOWED_MODELS.includes(c.DEFAULT_MODEL))
      ctx.addIssue({ code: "custom", path: ["DEFAULT_MODEL"], message: "must be one of ALLOWED_MODELS" });
  });

export type Config = z.infer<typeof ConfigSchema>;
export const CONFIG_KEYS = Object.keys(ConfigSchema.shape) as (keyof Config)[];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/** Reads the settings from an environment-like map; empty strings count as unset. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {};
  for (const key of CONFIG_KEYS) {
    const v = env[key];
    if (v !== undefined && v !== "") input[key] = v;
  }
  const r = ConfigSchema.safeParse(input);
  if (!r.success) throw new ConfigError(r.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`));
  return r.data;
}
