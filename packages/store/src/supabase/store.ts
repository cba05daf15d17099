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
    if (!key) throw new Error("SUPABASE_SERVICE_ROLE_KEY is not available to this function (only register and login need it)");
    return (service ??= postgrestClient(settings, key, async () => key));
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
