import { API_KEY_PREFIX, AppError, sha256Hex, unauthorized, verifyAccessToken } from "@conversation-api/core";
import type { ApiMiddleware } from "./types";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Requires a credential and puts the caller on the context (`userId`, `principal`):
 *   * `Authorization: Bearer <access token>` — a signed-in session;
 *   * `Authorization: Bearer cak_…` or `x-api-key: cak_…` — an API key, looked up by its SHA-256 in
 *     the database on every request (no cache), so a revoked key fails on the next request everywhere.
 * `sessionOnly` routes refuse API keys (a key cannot mint or revoke keys, or change the password).
 * Runs before the body is read: an unauthenticated request never gets a 400, 413 or 415.
 */
export const credentialAuth = (opts: { sessionOnly?: boolean | undefined } = {}): ApiMiddleware => ({
  before: async (request) => {
    const headers = request.event.headers ?? {};
    const fromHeader = headers["x-api-key"]?.trim();
    const m = headers.authorization ? BEARER.exec(headers.authorization) : null;
    const credential = m?.[1] ?? fromHeader;
    if (!credential) throw unauthorized("Missing credentials: send Authorization: Bearer <token> or x-api-key");
    const { deps } = request.context;

    if (credential.startsWith(API_KEY_PREFIX)) {
      if (opts.sessionOnly) throw new AppError("permission_error", "This endpoint needs a signed-in session; API keys cannot use it");
      const userId = await deps.store.authenticateApiKey(sha256Hex(credential));
      if (!userId) throw unauthorized("Invalid, revoked or expired API key");
      request.context.userId = userId;
      request.context.principal = { userId, kind: "api_key", bearer: credential };
      return;
    }
    if (!m) throw unauthorized("x-api-key must be an API key (cak_…)");
    const userId = await verifyAccessToken(credential, deps.tokens);
    request.context.userId = userId;
    request.context.principal = { userId, kind: "session", bearer: credential };
  },
});
