// Which secrets each route's function may read. Derived from the route's own properties, so a new
// route gets the right set without a second list of endpoints. Everything else is denied: a
// function that never registers or logs in users does not hold the service-role key at all.
import type { RouteDef } from "../packages/functions/src/route-types";
import { isDocsRoute } from "../packages/functions/src/openapi/docs-routes";
import type { SecretName } from "../packages/functions/src/config";

/** Routes that act before a user exists and so use the Supabase service-role key (createUser, findLogin). */
export const PRE_AUTH_ROUTES: ReadonlySet<string> = new Set(["auth-register", "auth-login"]);

export function secretsFor(route: RouteDef): SecretName[] {
  // The document and its viewer touch no data and sign nothing.
  if (isDocsRoute(route)) return [];
  // Every other handler opens the store: user traffic signs per-user tokens with the JWT secret and
  // sends the anon key (see packages/store/src/supabase).
  const names: SecretName[] = ["SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_JWT_SECRET"];
  // Checking a bearer token, or issuing one.
  if (route.auth || PRE_AUTH_ROUTES.has(route.name)) names.push("JWT_SECRET");
  if (PRE_AUTH_ROUTES.has(route.name)) names.push("SUPABASE_SERVICE_ROLE_KEY");
  // Only the stream calls the model.
  if (route.streaming) names.push("GROQ_API_KEY");
  return names;
}
