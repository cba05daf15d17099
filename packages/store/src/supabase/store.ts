// The Store port on Supabase, through PostgREST with @supabase/postgrest-js (supabase-js's data client). Three kinds of credential:
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
import { AppError, ConfigError, unauthorized, type NewUser, type Store, type User, type UserCredential } from "@conversation-api/core";
import type { DataClient as SupabaseClient } from "./clients";
import { isUuid } from "../cursor";
import { anonymousClient, postgrestClient, secretKeyClient, type ClientSettings } from "./clients";
import { SupabaseRequestError, createUserError } from "./errors";
import { USER_SELECT, userFromJson } from "./rows";
import { rotationFrom } from "../rows";
import { userTokenSource } from "./token";
import { createSupabaseUserStore } from "./user-store";

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

export function createSupabaseStore(opts: SupabaseStoreOptions): Store {
  const settings: ClientSettings = { url: opts.url, timeoutMs: opts.timeoutMs ?? 10_000 };
  const tokenFor = (userId: string, credential: UserCredential | undefined): (() => Promise<string>) => {
    // A legacy project trusts only its HS256 secret, not our tokens: sign one for this user.
    if (opts.legacyJwtSecret) return userTokenSource(opts.legacyJwtSecret, userId);
    const forwarded = credential?.accessToken;
    if (forwarded) return async () => forwarded;
    // An API key (cak_…) is not a JWT and this function may not mint one: see docs/security.md, "API keys on Supabase".
    throw new ConfigError(["no PostgREST credential for this request: forward the user's access token (forUser(userId, { accessToken }))"]);
  };

  let service: SupabaseClient | undefined;
  const serviceClient = (): SupabaseClient => {
    const key = opts.secretKey;
    // A route that uses these operations must list "secret-key" in `holds` (route-table.ts).
    if (!key) throw new ConfigError(["SUPABASE_SECRET_KEY: not available to this function (only routes whose `holds` lists \"secret-key\" get it)"]);
    return (service ??= secretKeyClient(settings, key));
  };
  let probe: SupabaseClient | undefined;
  const serviceRpc = async (operation: string, fn: string, args: Record<string, unknown>): Promise<unknown> => {
    const { data, error } = await serviceClient().rpc(fn, args);
    if (error) throw new SupabaseRequestError(operation, error);
    return data;
  };

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

    async findLoginById(userId: string) {
      if (!isUuid(userId)) return null;
      const { data, error } = await serviceClient().from("users").select(`${USER_SELECT},password_hash`).eq("id", userId).limit(1);
      if (error) throw new SupabaseRequestError("findLoginById", error);
      const row = (data as Record<string, unknown>[])[0];
      return row ? { user: userFromJson(row), password_hash: String(row.password_hash) } : null;
    },

    // Sessions, API-key checks and throttling: the server-only SQL functions the SQL store calls, through
    // /rpc with the service key (they are not executable by anon or authenticated).
    async createSession(userId, tokenHash, expiresAt) {
      await serviceRpc("createSession", "create_session", { p_user_id: userId, p_token_hash: tokenHash, p_expires_at: expiresAt });
    },
    async rotateSession(tokenHash, newHash, expiresAt) {
      return rotationFrom(
        await serviceRpc("rotateSession", "rotate_refresh_token", { p_token_hash: tokenHash, p_new_hash: newHash, p_expires_at: expiresAt }),
      );
    },
    async revokeSession(tokenHash) {
      return (await serviceRpc("revokeSession", "revoke_session", { p_token_hash: tokenHash })) === true;
    },
    async changePassword(userId, passwordHash) {
      if (!isUuid(userId)) return false;
      return (await serviceRpc("changePassword", "change_password", { p_user_id: userId, p_password_hash: passwordHash })) === true;
    },
    async authenticateApiKey(keyHash) {
      // Keys are checked by a server-only SQL function; data functions hold no secret key on Supabase and
      // go through the token exchange. A function given neither says so plainly instead of failing with a 500.
      if (!opts.secretKey)
        throw new AppError(
          "authentication_error",
          "API keys are not available on this function (no token exchange configured); sign in and send an access token instead",
        );
      const id = await serviceRpc("authenticateApiKey", "authenticate_api_key", { p_key_hash: keyHash });
      return typeof id === "string" ? id : null;
    },
    async loginRetryAfter(t) {
      return Number(
        await serviceRpc("loginRetryAfter", "login_retry_after", {
          p_account: t.account,
          p_ip: t.ip,
          p_window_seconds: t.windowSeconds,
          p_max_account: t.maxAccount,
          p_max_ip: t.maxIp,
        }),
      );
    },
    async recordLogin(account, ip, ok) {
      await serviceRpc("recordLogin", "record_login", { p_account: account, p_ip: ip, p_ok: ok });
    },
    async registerAttempt(ip, windowSeconds, max) {
      return Number(await serviceRpc("registerAttempt", "register_attempt", { p_ip: ip, p_window_seconds: windowSeconds, p_max: max }));
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
