import type { z } from "zod";
import { AppError, type FieldError } from "@conversation-api/core";
import type { ApiMiddleware } from "./types";

export interface InputSchemas {
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
  /** Request headers the endpoint reads (names in lower case, as API Gateway delivers them). */
  headers?: z.ZodType;
  /** Route path with `{name}` segments, for events that carry no pathParameters (Function URLs). */
  path?: string;
}

/** A route template compiled once: its parameter names and a pattern that captures them. */
function compilePath(template: string): { names: string[]; pattern: RegExp } {
  const names: string[] = [];
  const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{(\w+)\\?\}/g, (_, n: string) => {
    names.push(n);
    return "([^/]+)";
  });
  return { names, pattern: new RegExp(`^${source}$`) };
}

/** Function URL events have no route, so the parameters are read from the raw path. */
function paramsFromPath({ names, pattern }: { names: string[]; pattern: RegExp }, rawPath: string): Record<string, string> | undefined {
  const m = pattern.exec(rawPath);
  if (!m) return undefined;
  try {
    return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
  } catch {
    return undefined; // a malformed %-escape names no row: 404 like any other unknown id
  }
}

/** Parses body, query and path parameters with their zod schemas; a failure is a 422 naming each field. */
export const validate = (schemas: InputSchemas): ApiMiddleware => {
  const path = schemas.path && schemas.params ? compilePath(schemas.path) : undefined;
  return {
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
      // (Only routes with parameters look at them.)
      const rawParams = schemas.params ? (e.pathParameters ?? (path ? paramsFromPath(path, e.rawPath) : undefined)) : undefined;
      const params = parse(schemas.params, rawParams, "path");
      if (fields.length) throw new AppError("not_found_error", "Not found");
      const input = {
        body: parse(schemas.body, e.body, "body"),
        query: parse(schemas.query, e.queryStringParameters, "query"),
        params,
        headers: parse(schemas.headers, e.headers, "header"),
      };
      if (fields.length) throw new AppError("validation_error", "Request validation failed", { fields });
      request.context.input = input;
    },
  };
};
