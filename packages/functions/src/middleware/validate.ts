import * as z from "zod";
import { AppError, type FieldError } from "@conversation-api/core";
import { compilePath, type PathTemplate } from "../path-template";
import { nulFields } from "./no-nul";
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

/** Function URL events have no route, so the parameters are read from the raw path. */
function paramsFromPath({ names, pattern }: PathTemplate, rawPath: string): Record<string, string> | undefined {
  const m = pattern.exec(rawPath);
  if (!m) return undefined;
  try {
    return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
  } catch {
    return undefined; // a malformed %-escape names no row: 404 like any other unknown id
  }
}

/**
 * `value` parsed by `schema` (nothing to parse: undefined); its failures go into `fields`. A function of
 * the module, not a closure made per request: where esbuild keeps names (tsx, which runs `npm start`),
 * each closure bound to a name costs a defineProperty call.
 */
function parse(schema: z.ZodType | undefined, value: unknown, where: string, fields: FieldError[]): unknown {
  if (!schema) return undefined;
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  for (const i of r.error.issues) fields.push({ path: [where, ...i.path].join("."), message: i.message });
  return undefined;
}

/** The header names a route reads: the keys of its headers object. */
const namesOf = (schema: z.ZodType | undefined): string[] => (schema instanceof z.ZodObject ? Object.keys(schema.shape) : []);

/**
 * Parses body, query and path parameters with their zod schemas; a failure is a 422 naming each field.
 * First, the one rule for text: no string anywhere in the path, query, body or a header the route
 * reads may hold U+0000 (see no-nul.ts).
 */
export const validate = (schemas: InputSchemas): ApiMiddleware => {
  const path = schemas.path && schemas.params ? compilePath(schemas.path) : undefined;
  const headerNames = namesOf(schemas.headers);
  return {
    before: (request) => {
      const e = request.event;
      // Only routes with parameters look at them.
      const rawParams = schemas.params ? (e.pathParameters ?? (path ? paramsFromPath(path, e.rawPath) : undefined)) : undefined;
      const readHeaders = Object.fromEntries(headerNames.map((n) => [n, e.headers?.[n]]));
      const nul = [
        ...nulFields(rawParams, "path"),
        ...nulFields(e.queryStringParameters, "query"),
        // A body is parsed (and so checked) only where the route declares one; elsewhere it is ignored.
        ...(schemas.body ? nulFields(e.body, "body") : []),
        ...nulFields(readHeaders, "header"),
      ];
      if (nul.length) throw new AppError("validation_error", "Request validation failed", { fields: nul });

      const fields: FieldError[] = [];
      // A malformed id can never name a row; answer as for any other missing row rather than with a 422.
      const params = parse(schemas.params, rawParams, "path", fields);
      if (fields.length) throw new AppError("not_found_error", "Not found");
      const input = {
        body: parse(schemas.body, e.body, "body", fields),
        query: parse(schemas.query, e.queryStringParameters, "query", fields),
        params,
        headers: parse(schemas.headers, e.headers, "header", fields),
      };
      if (fields.length) throw new AppError("validation_error", `Request validation failed: ${fields.map((f) => `${f.path}: ${f.message}`).join("; ")}`, { fields });
      request.context.input = input;
    },
  };
};
