// supabase-js clients configured for a server that only talks to PostgREST: no Auth session handling,
// no Realtime socket.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";

export interface ClientSettings {
  url: string;
  /** Per-request timeout in milliseconds, so a stalled connection cannot hold a Lambda until it times out. */
  timeoutMs: number;
}

/**
 * Realtime is never used, but supabase-js builds its client eagerly and, on Node 20 (no global
 * WebSocket), throws unless given a transport. This one only fails if something actually connects.
 */
class NoRealtimeTransport {
  constructor() {
    throw new Error("conversation-api does not use Supabase Realtime");
  }
}

/**
 * A client whose every request sends `apikey: <key>` and `Authorization: Bearer <token()>`. Passing
 * `accessToken` also switches supabase-js's Auth module off, so it never reads or refreshes a session.
 */
export function postgrestClient(settings: ClientSettings, apiKey: string, token: () => Promise<string>): SupabaseClient {
  return createClient(settings.url, apiKey, {
    accessToken: token,
    db: { schema: "public", timeout: settings.timeoutMs },
    realtime: { transport: NoRealtimeTransport as never },
  });
}

/** Legacy anon/service_role keys are JWTs; sb_publishable_/sb_secret_ keys are opaque strings. */
export const isJwt = (key: string) => /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(key);

/**
 * The client of the pre-authentication operations. An `sb_secret_…` key is not a JWT: it travels only
 * as the `apikey` header, from which Supabase's gateway derives the service_role request itself.
 * supabase-js 2.x would also send it as `Authorization: Bearer <key>` (its fetchWithAuth falls back to
 * the API key when there is no session token), where PostgREST expects a JWT, so that header is
 * removed here. A legacy service_role key is a JWT and keeps travelling in both headers, as before.
 */
export function secretKeyClient(settings: ClientSettings, secretKey: string): SupabaseClient {
  const opaque = !isJwt(secretKey);
  return createClient(settings.url, secretKey, {
    accessToken: async () => secretKey,
    db: { schema: "public", timeout: settings.timeoutMs },
    realtime: { transport: NoRealtimeTransport as never },
    global: opaque ? { fetch: withoutAuthorization } : {},
  });
}

const withoutAuthorization: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  headers.delete("authorization");
  return fetch(input, { ...init, headers });
};

/** A client that sends only the publishable (or anon) key: PostgREST's anonymous role. */
export function anonymousClient(settings: ClientSettings, apiKey: string): SupabaseClient {
  return secretKeyClient(settings, apiKey);
}
