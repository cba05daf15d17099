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
