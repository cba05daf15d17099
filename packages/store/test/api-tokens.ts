// Test helper: the Supabase store as the API uses it. The API forwards each signed-in user's own access
// token (signed with the key registered with the project); here the token is issued the same way, so the
// store contract runs over exactly the credential production sends.
import { generateSigningKey, issueAccessToken, publicJwkOf, type Store, type TokenSettings, type UserStore } from "@conversation-api/core";
import type { JSONWebKeySet, JWK } from "jose";

export interface ProjectKeys {
  /** Our signing key, imported into the project (what JWT_PRIVATE_KEY holds). */
  ours: JWK;
  /** The project's own asymmetric key, also trusted: PostgREST must pick ours by kid. */
  supabases: JWK;
  /** What the project trusts, as its JWKS endpoint would publish it. */
  jwks: JSONWebKeySet;
  tokens: TokenSettings;
}

export async function projectKeys(): Promise<ProjectKeys> {
  const [ours, supabases] = await Promise.all([generateSigningKey("ES256"), generateSigningKey("ES256")]);
  return {
    ours,
    supabases,
    jwks: { keys: [publicJwkOf(supabases), publicJwkOf(ours)] },
    tokens: { privateKey: ours, issuer: "conversation-api", audience: "conversation-api", expiresInSeconds: 900 },
  };
}

/** `store` whose forUser(id) carries a freshly issued access token for id, as the API's handlers do. */
export function asTheApi(store: Store, tokens: TokenSettings): Store {
  return Object.assign(Object.create(store) as Store, {
    forUser(userId: string): UserStore {
      const token = issueAccessToken(userId, tokens);
      token.catch(() => {});
      return new Proxy({} as UserStore, {
        get: (_, method: string) =>
          async (...args: unknown[]) => {
            const user = store.forUser(userId, { accessToken: (await token).token }) as unknown as Record<string, (...a: unknown[]) => unknown>;
            return user[method]!(...args);
          },
      });
    },
  });
}
