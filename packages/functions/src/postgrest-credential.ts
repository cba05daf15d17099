// What a signed-in request hands its store: the credential PostgREST checks on Supabase. A session's
// access token is signed with the key registered with the Supabase project, so it is forwarded as it
// is, and no data function needs a key that could mint one. An API key (cak_…, branch access) is not a
// JWT: it yields no credential here, and the Supabase store refuses it unless the project is legacy
// (README, "API keys on Supabase").
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { Store, UserCredential } from "@conversation-api/core";
import type { Deps } from "./deps";
import type { ApiContext } from "./middleware/types";

/** Set by the auth middleware (branch access): who is calling and with what. */
interface Principal {
  userId: string;
  kind: "session" | "api_key";
  bearer: string;
}

export function credentialOf(event: APIGatewayProxyEventV2, context: ApiContext): UserCredential | undefined {
  const principal = (context as ApiContext & { principal?: Principal }).principal;
  if (principal) return principal.kind === "session" ? { accessToken: principal.bearer } : undefined;
  // Before the principal existed, every verified bearer was a session token.
  const m = /^Bearer\s+(\S+)\s*$/i.exec(event.headers?.authorization ?? "");
  return m ? { accessToken: m[1]! } : undefined;
}

/** The request's view of the shared deps: `store.forUser(id)` carries this request's credential. */
export function withCredential(deps: Deps, credential: UserCredential | undefined): Deps {
  if (!credential) return deps;
  const store: Store = Object.create(deps.store, {
    forUser: { value: (userId: string, c?: UserCredential) => deps.store.forUser(userId, c ?? credential) },
  });
  return { ...deps, store };
}
