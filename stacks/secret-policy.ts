// Which secrets each route's function may hold, derived from the route's own `holds` (route-types.ts):
// a route that declares nothing, including one added by a branch this file has never seen, gets no
// secret at all. Non-secret settings (Supabase URL, publishable key, public token keys) are parameters.
import type { RouteDef } from "../packages/functions/src/route-types";
import type { SecretName } from "../packages/functions/src/config";

/**
 * How access tokens reach PostgREST (docs/deploy.md):
 *  - "asymmetric": our tokens are signed with a private key registered with the Supabase project;
 *    data functions verify with the public keys and forward the user's token, holding no secret;
 *  - "legacy": HS256 everywhere. Every signed-in route then holds JWT_SECRET (ours) and the project's
 *    SUPABASE_JWT_SECRET, which can mint any role, service_role included: least privilege is nominal.
 */
export type TokenMode = "asymmetric" | "legacy";

export function secretsFor(route: Pick<RouteDef, "auth" | "holds">, mode: TokenMode = "asymmetric"): SecretName[] {
  const holds = new Set(route.holds ?? []);
  const names = new Set<SecretName>();
  if (holds.has("signing-key")) names.add(mode === "asymmetric" ? "JWT_PRIVATE_KEY" : "JWT_SECRET");
  if (holds.has("secret-key")) names.add("SUPABASE_SECRET_KEY");
  if (holds.has("model-key")) names.add("GROQ_API_KEY");
  if (mode === "legacy" && route.auth) {
    names.add("JWT_SECRET");
    names.add("SUPABASE_JWT_SECRET");
  }
  return [...names];
}

/** Routes that hash passwords (bcrypt is CPU-bound): sized up in route-functions.ts. */
export const hashesPasswords = (route: Pick<RouteDef, "holds">) => Boolean(route.holds?.includes("secret-key"));
