// PostgREST clients for a server that only talks to PostgREST. `@supabase/postgrest-js` is the data
// client supabase-js wraps; using it alone leaves out Auth, Realtime, Storage and Functions, which this
// API never uses (about half of the stream bundle). The wire behaviour is supabase-js's: `<url>/rest/v1`,
// `apikey: <key>` on every request, and `Authorization: Bearer <token>` where there is a token.
import { PostgrestClient } from "@supabase/postgrest-js";

/** Where PostgREST is, and the per-request timeout (ms) that keeps a stalled connection from holding a Lambda until it times out. */
export type ClientSettings = { url: string; timeoutMs: number };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the store is not typed by a generated schema
export type DataClient = PostgrestClient<any, any, any>;

/**
 * A client whose every request sends `apikey: <key>` and, with a token getter, `Authorization: Bearer
 * <token()>`. The getter runs per request, so a token is read when the request is made (as supabase-js's
 * `accessToken` option does), never cached here.
 */
export function postgrestClient(settings: ClientSettings, apiKey: string, bearer: (() => Promise<string>) | null): DataClient {
  const trimmed = settings.url.trim();
  if (!/^https?:\/\//i.test(trimmed)) throw new Error("Invalid supabaseUrl: Must be a valid HTTP or HTTPS URL.");
  const authFetch: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    if (!headers.has("apikey")) headers.set("apikey", apiKey);
    if (bearer && !headers.has("authorization")) headers.set("authorization", `Bearer ${await bearer()}`);
    return fetch(input, { ...init, headers });
  };
  const rest = new URL("rest/v1", trimmed.endsWith("/") ? trimmed : `${trimmed}/`).href;
  return new PostgrestClient(rest, { schema: "public", fetch: authFetch, timeout: settings.timeoutMs });
}

/** Legacy anon/service_role keys are JWTs; sb_publishable_/sb_secret_ keys are opaque strings. */
export const isJwt = (key: string) => /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(key);

/**
 * A client with only an API key. An `sb_secret_…` (or `sb_publishable_…`) key is not a JWT: it travels
 * only as the `apikey` header, from which Supabase's gateway derives the request's role itself
 * (PostgREST expects a JWT in `Authorization`, so none is sent). A legacy key is a JWT and travels in
 * both headers, which is what PostgREST expects of a JWT key.
 */
export const keyClient = (settings: ClientSettings, key: string): DataClient => postgrestClient(settings, key, isJwt(key) ? async () => key : null);
