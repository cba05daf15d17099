import jsonBodyParser from "@middy/http-json-body-parser";
import { AppError } from "@conversation-api/core";
import type { ApiMiddleware } from "./types";

/**
 * Enforces the body size limit before any parsing, treats an empty body as `{}` (every field optional is
 * a valid request), and leaves the JSON parsing itself to Middy's parser.
 */
export const jsonBody = (): ApiMiddleware => {
  const parser = jsonBodyParser();
  return {
    before: async (request) => {
      const { body, isBase64Encoded } = request.event;
      const size = body ? (isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body)) : 0;
      const limit = request.context.deps.config.MAX_BODY_BYTES;
      if (size > limit)
        throw new AppError("request_too_large", `Request body is larger than ${limit} bytes`);
      if (!body || (!isBase64Encoded && body.trim() === "")) {
        (request.event as { body: unknown }).body = {};
        return;
      }
      await parser.before!(request as never);
    },
  };
};
