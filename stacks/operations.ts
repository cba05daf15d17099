// Deploy-time operational settings, read from the deploy's environment (never from the handlers):
// log retention, tracing, reserved concurrency of the streaming functions, HTTP API throttling.
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
  // Caps concurrent replies (each holds a Groq stream for up to the function timeout). Unset by default:
  // reserving takes concurrency from the account's pool, Lambda keeps 100 of it unreserved, and new
  // accounts start with a reduced concurrency quota, so a default reservation could fail the deploy.
  STREAM_RESERVED_CONCURRENCY: z.coerce.number().int().min(1).optional(),
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
