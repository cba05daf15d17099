// The Store port on Supabase, through PostgREST with @supabase/supabase-js. Two kinds of credential:
//   * user traffic (everything under forUser, and the health probe) carries a short-lived token for
//     that user, so PostgREST applies the RLS policies exactly as it would to Supabase Auth users;
//   * the two pre-authentication operations, createUser and findLogin, need to act before there is a
//     user and use the service-role key. They are the only ones; a function that does not register
//     or log in users is deployed without that key, and this store then refuses them.
import { unauthorized, type NewUser, type Store, type User } from "@conversation-api/core";
import type { SupabaseClient } from "@supabase/supabase-js";
import { isUuid } from "../cursor";
import { postgrestClient, type ClientSettings } from "./clients";
import { SupabaseRequestError, createUserError } from "./errors";
import { USER_SELECT, userFromJson } from "./rows";
import { rotationFrom } from "../rows";
import { userTokenSource } from "./token";
import { createSupabaseUserStore } from "./user-store";

export interface SupabaseStoreOptions {
  /** https://<project>.supabase.co */
  url: string;
  /** The project's anon (public) API key: the `apikey` header of user traffic. */
  anonKey: string;
  /** The project's JWT secret (legacy HS256 secret), to sign per-user tokens. */
  jwtSecret: string;
  /** Only for createUser and findLogin. */
  serviceRoleKey?: string | undefined;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number | undefined;
}

// Subject of the health probe's token: no user has it, so the probe reads nothing.
const NOBODY = "00000000-0000-0000-0000-000000000000";

export function createSupabaseStore(opts: SupabaseStoreOptions): Store {
  const settings: ClientSettings = { url: opts.url, timeoutMs: opts.timeoutMs ?? 10_000 };
  const forUserId = (userId: string) => postgrestClient(settings, opts.anonKey, userTokenSource(opts.jwtSecret, userId));

  let service: SupabaseClient | undefined;
  const serviceClient = (): SupabaseClient => {
    const key = opts.serviceRoleKey;
    if (!key) throw new Error("SUPABASE_SERVICE_ROLE_KEY is not available to this function (only the pre-auth routes need it)");
    return (service ??= postgrestClient(settings, key, async () => key));
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

    forUser(userId: string) {
      // auth.uid() casts the claim to uuid; anything else would fail every request obscurely.
      if (!isUuid(userId)) throw unauthorized();
      return createSupabaseUserStore(forUserId(userId), userId);
    },

    async health(): Promise<boolean> {
      // The whole path user traffic takes: gateway, token verification, role switch, RLS, a table.
      probe ??= forUserId(NOBODY);
      try {
        const { error } = await probe.from("conversations").select("id").limit(1);
        return error === null;
      } catch {
        return false;
      }
    },

    // HTTP only: nothing to close (fetch's keep-alive sockets belong to the process).
    close: async () => {},
  };
}
