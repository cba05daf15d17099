// What a signed-in request hands its store: the credential PostgREST checks on Supabase. A session's
// access token is signed with the key registered with the Supabase project, so it is forwarded as it
// is, and no data function needs a key that could mint one. An API key (cak_…) is not a JWT: on Supabase
// it is exchanged for a short token by the internal exchange function (token-exchange.ts), and that token
// is forwarded; locally (SQL store) there is nothing to forward.
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { Config, Store, UserCredential } from "@conversation-api/core";
import type { Deps } from "./deps";
import type { ApiContext } from "./middleware/types";

export function credentialOf(_event: APIGatewayProxyEventV2, context: ApiContext): UserCredential | undefined {
  const principal = context.principal;
  if (principal?.kind === "session") return { accessToken: principal.bearer };
  return principal?.accessToken ? { accessToken: principal.accessToken } : undefined;
}

/**
 * True where a reply is saved with the caller's own access token: Supabase with our tokens trusted by the
 * project. A legacy project signs its own per-user tokens; the SQL store needs none.
 */
export const forwardsAccessToken = (config: Pick<Config, "SUPABASE_URL" | "SUPABASE_JWT_SECRET">): boolean =>
  Boolean(config.SUPABASE_URL && !config.SUPABASE_JWT_SECRET);

/** The request's view of the shared deps: `store.forUser(id)` carries this request's credential. */
export function withCredential(deps: Deps, credential: UserCredential | undefined): Deps {
  if (!credential) return deps;
  const store: Store = Object.create(deps.store, {
    // A method, not an arrow bound to a name: where esbuild keeps names (tsx) that costs a defineProperty per request.
    forUser: {
      value(userId: string, c?: UserCredential) {
        return deps.store.forUser(userId, c ?? credential);
      },
    },
  });
  return { ...deps, store };
}
