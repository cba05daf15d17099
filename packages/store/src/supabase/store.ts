// The Store port on Supabase, through PostgREST with @supabase/supabase-js. Three kinds of credential:
//   * user traffic (everything under forUser) carries the user's own access token, which PostgREST
//     trusts because its signing key is registered with the project (README, "Deploy"): PostgREST
//     switches to its `role` and exposes `sub` to auth.uid(), so the RLS policies decide what the
//     request may see. The function holds no key that could mint such a token. Legacy projects
//     (SUPABASE_JWT_SECRET) instead sign a short-lived token per user with the project's secret;
//   * the two pre-authentication operations, createUser and findLogin, act before there is a user and
//     use the secret (service-role) key, sent only as `apikey`. A function that does not register or
//     log in users is deployed without it, and this store then refuses them;
//   * the health probe sends only the publishable key (PostgREST's anonymous role, which may read nothing).
import { ConfigError, unauthorized, type NewUser, type Store, type User, type UserCredential } from "@conversation-api/core";
import type { DataClient as SupabaseClient } from "./clients";
import { isUuid } from "../cursor";
import { anonymousClient, postgrestClient, secretKeyClient, type ClientSettings } from "./clients";
import { SupabaseRequestError, createUserError } from "./errors";
import { USER_SELECT, userFromJson } from "./rows";
import { userTokenSource } from "./token";
import { createSupabaseUserStore } from "./user-store";

export interface SupabaseStoreOptions {
  /** https://<project>.supabase.co */
  url: string;
  /** sb_publishable_… (or the legacy anon key): the `apikey` header of user traffic. Not secret. */
  apiKey: string;
  /** sb_secret_… (or the legacy service_role key): only for createUser and findLogin. */
  secretKey?: string | undefined;
  /** Legacy projects only: the HS256 JWT secret, to sign a token per user when none is forwarded. */
  legacyJwtSecret?: string | undefined;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number | undefined;
}

export function createSupabaseStore(opts: SupabaseStoreOptions): Store {
  const settings: ClientSettings = { url: opts.url, timeoutMs: opts.timeoutMs ?? 10_000 };
  const tokenFor = (userId: string, credential: UserCredential | undefined): (() => Promise<string>) => {
    // A legacy project trusts only its HS256 secret, not our tokens: sign one for this user.
    if (opts.legacyJwtSecret) return userTokenSource(opts.legacyJwtSecret, userId);
    const forwarded = credential?.accessToken;
    if (forwarded) return async () => forwarded;
    // An API key (cak_…) is not a JWT and this function may not mint one: see README, "API keys on Supabase".
    throw new ConfigError(["no PostgREST credential for this request: forward the user's access token (forUser(userId, { accessToken }))"]);
  };

  let service: SupabaseClient | undefined;
  const serviceClient = (): SupabaseClient => {
    const key = opts.secretKey;
    if (!key) throw new Error("SUPABASE_SECRET_KEY is not available to this function (only the pre-authentication routes hold it)");
    return (service ??= secretKeyClient(settings, key));
  };
  let probe: SupabaseClient | undefined;

  return {
    async createUser(input: NewUser): Promise<User> {
      const { data, error } = await serviceClient()
        .from("users")
        .insert({ email: input.email, password_hash: input.password_hash, display_name: input.display_name })
        .select(USER_SELECT);
      if (error) throw createUserError(error);
      return userFromJson((data as Record<string, unknown>[])[0]!);
    },

    async findLogin(email: string) {
      // Emails are stored normalised (lower case); the unique index on lower(email) keeps it so.
      const { data, error } = await serviceClient()
        .from("users")
        .select(`${USER_SELECT},password_hash`)
        .eq("email", email.toLowerCase())
        .limit(1);
      if (error) throw new SupabaseRequestError("findLogin", error);
      const row = (data as Record<string, unknown>[])[0];
      return row ? { user: userFromJson(row), password_hash: String(row.password_hash) } : null;
    },

    forUser(userId: string, credential?: UserCredential) {
      // auth.uid() casts the claim to uuid; anything else would fail every request obscurely.
      if (!isUuid(userId)) throw unauthorized();
      return createSupabaseUserStore(postgrestClient(settings, opts.apiKey, tokenFor(userId, credential)), userId);
    },

    async health(): Promise<boolean> {
      // Gateway (the publishable key), PostgREST and PostgreSQL, with no secret at all: the anonymous
      // role may read nothing, so PostgreSQL itself answering "permission denied" (42501) is healthy.
      probe ??= anonymousClient(settings, opts.apiKey);
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
