import { unauthorized, verifyAccessToken } from "@conversation-api/core";
import type { ApiMiddleware } from "./types";

/** Requires `Authorization: Bearer <access token>` and puts the verified user id on the context. */
export const bearerAuth = (): ApiMiddleware => ({
  before: async (request) => {
    const value = request.event.headers?.authorization;
    const m = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
    if (!m) throw unauthorized("Missing bearer token");
    request.context.userId = await verifyAccessToken(m[1]!, request.context.deps.tokens);
  },
});
