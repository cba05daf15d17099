// The Store port on Supabase: the store (../store.ts) over PostgREST's /rpc, with @supabase/postgrest-js
// (supabase-js's data client). Three kinds of credential:
//   * user traffic (everything under forUser) carries the user's own access token, which PostgREST
//     trusts because its signing key is registered with the project (docs/deploy.md): PostgREST
//     switches to its `role` and exposes `sub` to auth.uid(), so the RLS policies decide what the
//     request may see. The function holds no key that could mint such a token. Legacy projects
//     (SUPABASE_JWT_SECRET) instead sign a short-lived token per user with the project's secret;
//   * the server-privileged operations (accounts, sessions, login throttling, password changes, API-key
//     checks) act before there is a user or on what no user may touch, and use the secret (service-role)
//     key, sent only as `apikey`. Only routes whose `holds` lists "secret-key" get it; elsewhere this
//     store refuses them (a data function resolves API keys through the token exchange instead);
//   * the health probe sends only the publishable key (PostgREST's anonymous role, which may read nothing).
import { AppError, ConfigError, type Store, type UserCredential } from "@conversation-api/core";
import type { Call, Rpc } from "../rpc";
import { createStore } from "../store";
import { keyClient, postgrestClient, type ClientSettings, type DataClient } from "./clients";
import { userTokenSource } from "./token";


export interface SupabaseStoreOptions {
  /** https://<project>.supabase.co */
  url: string;
  /** sb_publishable_… (or the legacy anon key): the `apikey` header of user traffic. Not secret. */
  apiKey: string;
  /** sb_secret_… (or the legacy service_role key): only for the server-privileged operations. */
  secretKey?: string | undefined;
  /** Legacy projects only: the HS256 JWT secret, to sign a token per user when none is forwarded. */
  legacyJwtSecret?: string | undefined;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number | undefined;
}

export const createSupabaseStore = (opts: SupabaseStoreOptions): Store => createStore(postgrestRpc(opts));

/** The store's calls as POST /rest/v1/rpc/<fn>, the arguments as the JSON body (PostgREST renders the result). */
function postgrestRpc(opts: SupabaseStoreOptions): Rpc {
  const settings: ClientSettings = { url: opts.url, timeoutMs: opts.timeoutMs ?? 10_000 };
  const caller =
    (client: (fn: string) => DataClient): Call =>
    async (fn, args) => {
      // PostgREST picks the function by the names in the body: every argument is sent, null included.
      const body = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v ?? null]));
      const { data, error } = await client(fn).rpc(fn, body);
      // PostgREST's SQLSTATE stays in `code`, so the store maps it as it maps a driver's error.
      if (error) throw Object.assign(new Error(`Supabase ${fn} failed: ${error.code ? `${error.code} ` : ""}${error.message}`), { code: error.code });
      return data;
    };
  const tokenFor = (userId: string, credential: UserCredential | undefined): (() => Promise<string>) => {
    // A legacy project trusts only its HS256 secret, not our tokens: sign one for this user.
    if (opts.legacyJwtSecret) return userTokenSource(opts.legacyJwtSecret, userId);
    const forwarded = credential?.accessToken;
    if (forwarded) return async () => forwarded;
    // An API key (cak_…) is not a JWT and this function may not mint one: see docs/security.md, "API keys on Supabase".
    throw new ConfigError(["no PostgREST credential for this request: forward the user's access token (forUser(userId, { accessToken }))"]);
  };
  let service: DataClient | undefined;
  let probe: DataClient | undefined;

  return {
    server: caller((fn) => {
      const key = opts.secretKey;
      if (key) return (service ??= keyClient(settings, key));
      // Keys are checked by a server-only function; data functions hold no secret key and go through the
      // token exchange. A function given neither says so plainly instead of failing with a 500.
      if (fn === "authenticate_api_key")
        throw new AppError(
          "authentication_error",
          "API keys are not available on this function (no token exchange configured); sign in and send an access token instead",
        );
      // A route that uses these operations must list "secret-key" in `holds` (route-table.ts).
      throw new ConfigError(['SUPABASE_SECRET_KEY: not available to this function (only routes whose `holds` lists "secret-key" get it)']);
    }),
    user(userId, credential) {
      const client = postgrestClient(settings, opts.apiKey, tokenFor(userId, credential));
      return caller(() => client);
    },
    async health() {
      // Gateway (the publishable key), PostgREST and PostgreSQL, with no secret at all: the anonymous
      // role may read nothing, so PostgreSQL itself answering "permission denied" (42501) is healthy.
      probe ??= keyClient(settings, opts.apiKey);
      try {
        const { error } = await probe.from("conversations").select("id").limit(1);
        return error === null || error.code === "42501";
      } catch {
        return false;
      }
    },
    // HTTP only: nothing to close (fetch's keep-alive sockets belong to the process).
    close: async () => {},
  };
}
