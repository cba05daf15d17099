import * as z from "zod";

export const Uuid = z.uuid();
export const Timestamp = z.string().describe("ISO 8601 timestamp (UTC)");

export const ErrorType = z.enum([
  "invalid_request_error",
  "validation_error",
  "authentication_error",
  "permission_error",
  "not_found_error",
  "conflict_error",
  "request_too_large",
  "rate_limit_error",
  "api_error",
  "overloaded_error",
  "timeout_error",
]);
export type ErrorType = z.infer<typeof ErrorType>;

export const ErrorBody = z.object({
  error: z.object({
    type: ErrorType,
    message: z.string(),
    request_id: z.string(),
    fields: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe("Present on 422: each failing field"),
    retry_after: z.number().int().optional().describe("Seconds to wait before retrying (429)"),
    reply_id: z.uuid().optional().describe("Present on an idempotent repeat (409): the stored reply"),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
});
export type PageQuery = z.infer<typeof PageQuery>;

export const IdParams = z.object({ id: Uuid });

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), next_cursor: z.string().nullable() });
}
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Text the database can store: PostgreSQL's text and jsonb cannot hold U+0000, so it is a 422 here. */
export const noNul = <T extends z.ZodString>(schema: T) => schema.refine((s) => !s.includes("\u0000"), "must not contain NUL (\\u0000)");
