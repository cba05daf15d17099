import { API_KEY_PREFIX, AppError, sha256Hex, unauthorized, verifyAccessToken } from "@conversation-api/core";
import { decodeJwt } from "jose";
import { forwardsAccessToken } from "../postgrest-credential";
import { exchangeApiKey, exchangeTransport } from "../token-exchange";
import type { ApiMiddleware } from "./types";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Requires a credential and puts the caller on the context (`userId`, `principal`):
 *   * `Authorization: Bearer <access token>` — a signed-in session;
 *   * `Authorization: Bearer cak_…` or `x-api-key: cak_…` — an API key, looked up by its SHA-256 in
 *     the database on every request (no cache), so a revoked key fails on the next request everywhere.
 *     On Supabase the data functions cannot run that lookup (it needs the secret key) and have no token
 *     to forward, so the internal exchange function does both (token-exchange.ts), again on every request.
 * `sessionOnly` routes refuse API keys (a key cannot mint or revoke keys, or change the password).
 * `mustOutlastSeconds` (streams): where the reply is saved with the caller's own token, a token that
 * expires before the reply could finish is refused up front, instead of failing the save at the end.
 * Runs before the body is read: an unauthenticated request never gets a 400, 413 or 415.
 */
export const credentialAuth = (opts: { sessionOnly?: boolean | undefined; mustOutlastSeconds?: number | undefined } = {}): ApiMiddleware => ({
  before: async (request) => {
    const headers = request.event.headers ?? {};
    const fromHeader = headers["x-api-key"]?.trim();
    const m = headers.authorization ? BEARER.exec(headers.authorization) : null;
    const credential = m?.[1] ?? fromHeader;
    if (!credential) throw unauthorized("Missing credentials: send Authorization: Bearer <token> or x-api-key");
    const { deps } = request.context;

    if (credential.startsWith(API_KEY_PREFIX)) {
      if (opts.sessionOnly) throw new AppError("permission_error", "This endpoint needs a signed-in session; API keys cannot use it");
      const transport = deps.config.SUPABASE_URL ? exchangeTransport() : undefined;
      if (transport) {
        const exchanged = await exchangeApiKey(transport, credential);
        if (!exchanged) throw unauthorized("Invalid, revoked or expired API key");
        request.context.userId = exchanged.userId;
        request.context.principal = { userId: exchanged.userId, kind: "api_key", bearer: credential, accessToken: exchanged.accessToken };
        return;
      }
      const userId = await deps.store.authenticateApiKey(sha256Hex(credential));
      if (!userId) throw unauthorized("Invalid, revoked or expired API key");
      request.context.userId = userId;
      request.context.principal = { userId, kind: "api_key", bearer: credential };
      return;
    }
    if (!m) throw unauthorized("x-api-key must be an API key (cak_…)");
    const userId = await verifyAccessToken(credential, deps.tokens);
    if (opts.mustOutlastSeconds && forwardsAccessToken(deps.config)) {
      // Verified above, so `exp` is present and trustworthy.
      const left = Math.floor(decodeJwt(credential).exp! - Date.now() / 1000);
      if (left < opts.mustOutlastSeconds)
        throw unauthorized(
          `Access token expires in ${Math.max(left, 0)} s, before a reply could finish (up to ${opts.mustOutlastSeconds} s): refresh the token first (POST /api/v1/auth/refresh) and retry`,
        );
    }
    request.context.userId = userId;
    request.context.principal = { userId, kind: "session", bearer: credential };
  },
});
