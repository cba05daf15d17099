// The internal token-exchange function (packages/functions/src/token-exchange.ts): invoked by the data
// functions with `{ api_key }`, never over HTTP. It checks the key through the Store's server-privileged
// `authenticateApiKey` (revocation and expiry on every call) and mints a short access token for the
// key's user, signed like a session's (kid, role authenticated, both audiences).
import { API_KEY_PREFIX, issueAccessToken, sha256Hex } from "@conversation-api/core";
import { depsOf, type Deps, type DepsContext } from "../deps";
import { EXCHANGED_TOKEN_SECONDS, type ExchangeResponse } from "../token-exchange";

const INVALID: ExchangeResponse = { error: "invalid_api_key" };

export async function exchange(deps: Pick<Deps, "store" | "tokens">, request: unknown): Promise<ExchangeResponse> {
  const apiKey = (request as { api_key?: unknown } | null)?.api_key;
  if (typeof apiKey !== "string" || !apiKey.startsWith(API_KEY_PREFIX) || apiKey.length > 200) return INVALID;
  const userId = await deps.store.authenticateApiKey(sha256Hex(apiKey));
  if (!userId) return INVALID;
  const { token, expiresIn } = await issueAccessToken(userId, { ...deps.tokens, expiresInSeconds: EXCHANGED_TOKEN_SECONDS });
  return { user_id: userId, access_token: token, expires_in: expiresIn };
}

export const handler = async (event: unknown, context?: DepsContext): Promise<ExchangeResponse> => exchange(await depsOf(context), event);
