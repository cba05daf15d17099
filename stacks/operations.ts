// Deploy-time operational settings, read from the deploy's environment (never from the handlers):
// log retention, tracing, reserved concurrency of the streaming functions, HTTP API throttling, the
// token mode.
// Validated here so a bad value fails `sst deploy` before anything changes.
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import * as z from "zod";

/** CloudWatch Logs accepts only these retention periods (days); LOG_RETENTION_DAYS must be one. */
const RETENTION: Record<number, string> = Object.fromEntries(
  Object.entries(RetentionDays)
    .filter(([k, v]) => typeof v === "number" && k !== "INFINITE")
    .map(([k, v]) => [v as number, k.toLowerCase()]),
);

const OperationsSchema = z.object({
  LOG_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .default(30)
    .refine((d) => d in RETENTION, { message: `must be one of ${Object.keys(RETENTION).join(", ")}` }),
  // X-Ray: off unless asked for. SST turns it on by default ("active"), which samples requests into
  // X-Ray, billed per trace; the JSON access logs already carry request ids, status and duration.
  TRACING: z.enum(["disabled", "active", "pass_through"]).default("disabled"),
  // Reserved concurrency of each streaming function (send, regenerate, resume, useChat's send and resume): a cap on the replies
  // that function runs at once, and capacity no other function can take from it. 0 reserves nothing.
  // Lambda keeps 100 of the account's concurrency unreserved, so the default needs an account quota of
  // at least 100 plus 50 per streaming function; new accounts start lower (docs/deploy.md, "Operations").
  STREAM_RESERVED_CONCURRENCY: z.coerce.number().int().min(0).default(50),
  // How tokens reach PostgREST when JWT_PUBLIC_KEYS is not given (token-mode.ts).
  SUPABASE_TOKEN_MODE: z.enum(["asymmetric", "legacy"]).optional(),
  // HTTP API stage default route throttling (requests per second, steady and burst).
  API_THROTTLE_RATE: z.coerce.number().min(1).default(50),
  API_THROTTLE_BURST: z.coerce.number().int().min(1).default(100),
  // Tighter stage-wide limits on the routes that take a password or a refresh token. They cap the whole
  // route for everyone (a circuit breaker against a flood); the per-account and per-IP limits that a
  // single attacker meets are kept in PostgreSQL (LOGIN_*/REGISTER_* settings).
  AUTH_THROTTLE_RATE: z.coerce.number().min(1).default(10),
  AUTH_THROTTLE_BURST: z.coerce.number().int().min(1).default(20),
});

export type Operations = z.infer<typeof OperationsSchema> & { logRetention: string };

export function operationsFrom(env: Record<string, string | undefined>): Operations {
  const result = OperationsSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== "")));
  if (!result.success) throw new Error(`Invalid deploy settings:\n  ${result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n  ")}`);
  return { ...result.data, logRetention: RETENTION[result.data.LOG_RETENTION_DAYS]! };
}
