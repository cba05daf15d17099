import type { z } from "zod";
import { AppError, type FieldError } from "@conversation-api/core";
import type { ApiMiddleware } from "./types";

export interface InputSchemas {
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
}

/** Parses body, query and path parameters with their zod schemas; a failure is a 422 naming each field. */
export const validate = (schemas: InputSchemas): ApiMiddleware => ({
  before: (request) => {
    const fields: FieldError[] = [];
    const parse = (schema: z.ZodType | undefined, value: unknown, where: string) => {
      if (!schema) return undefined;
      const r = schema.safeParse(value ?? {});
      if (r.success) return r.data;
      for (const i of r.error.issues) fields.push({ path: [where, ...i.path].join("."), message: i.message });
      return undefined;
    };
    const e = request.event;
    // A malformed id can never name a row; answer as for any other missing row rather than with a 422.
    const params = parse(schemas.params, e.pathParameters, "path");
    if (fields.length) throw new AppError("not_found_error", "Not found");
    const input = {
      body: parse(schemas.body, e.body, "body"),
      query: parse(schemas.query, e.queryStringParameters, "query"),
      params,
    };
    if (fields.length) throw new AppError("validation_error", "Request validation failed", { fields });
    request.context.input = input;
  },
});
