import { AppError } from "@conversation-api/core";
import type { ApiMiddleware } from "./types";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * The one place a request body is read: size limit first (before decoding anything), then Content-Type,
 * then JSON.parse, each failure our own error. `maxBytes` raises MAX_BODY_BYTES for one route. An empty body is `{}` (every field optional is a valid
 * request).
 */
export const jsonBody = (maxBytes?: number): ApiMiddleware => ({
  before: async (request) => {
    const event = request.event as { body?: unknown; isBase64Encoded?: boolean; headers?: Record<string, string | undefined> };
    const raw = typeof event.body === "string" ? event.body : "";
    const size = event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : Buffer.byteLength(raw);
    const limit = Math.max(request.context.deps.config.MAX_BODY_BYTES, maxBytes ?? 0);
    if (size > limit) throw new AppError("request_too_large", `Request body is larger than ${limit} bytes`);
    const text = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
    if (text.trim() === "") {
      event.body = {};
      return;
    }
    if (!JSON_TYPE.test(event.headers?.["content-type"] ?? ""))
      throw new AppError("invalid_request_error", "Content-Type must be application/json", { status: 415 });
    try {
      event.body = JSON.parse(text) as unknown;
    } catch {
      throw new AppError("invalid_request_error", "Request body is not valid JSON");
    }
  },
});
