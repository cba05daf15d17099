// What a signed-in request hands its store: the credential PostgREST checks on Supabase. A session's
// access token is signed with the key registered with the Supabase project, so it is forwarded as it
// is, and no data function needs a key that could mint one. An API key (cak_…, branch access) is not a
// JWT: it yields no credential here, and the Supabase store refuses it unless the project is legacy
// (README, "API keys on Supabase").
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { Store, UserCredential } from "@conversation-api/core";
import type { Deps } from "./deps";
import type { ApiContext } from "./middleware/types";

export function credentialOf(_event: APIGatewayProxyEventV2, context: ApiContext): UserCredential | undefined {
  const principal = context.principal;
  return principal?.kind === "session" ? { accessToken: principal.bearer } : undefined;
}

/** The request's view of the shared deps: `store.forUser(id)` carries this request's credential. */
export function withCredential(deps: Deps, credential: UserCredential | undefined): Deps {
  if (!credential) return deps;
  const store: Store = Object.create(deps.store, {
    forUser: { value: (userId: string, c?: UserCredential) => deps.store.forUser(userId, c ?? credential) },
  });
  return { ...deps, store };
}
