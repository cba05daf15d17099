// How access tokens reach PostgREST is chosen by the deploy, never fallen into: a deploy that forgot
// JWT_PUBLIC_KEYS would otherwise hand the project's JWT secret to every data function.
import type { TokenMode } from "./secret-policy";

export const TOKEN_MODE_REQUIRED =
  "Choose how tokens reach Supabase: set JWT_PUBLIC_KEYS to the public JWK set of the signing key imported into the project (README, \"Deploy to AWS with Supabase\"), or SUPABASE_TOKEN_MODE=legacy to keep the project's legacy JWT secret.";

export const LEGACY_MODE_WARNING =
  "SUPABASE_TOKEN_MODE=legacy: every signed-in function holds SUPABASE_JWT_SECRET, which can mint a service_role token (least privilege does not hold). Migrate to asymmetric keys: README, \"Legacy Supabase projects\".";

export interface TokenModeChoice {
  mode: TokenMode;
  warnings: string[];
}

/**
 * The deploy's token mode from what it was given: the public keys (asymmetric), or SUPABASE_TOKEN_MODE
 * =legacy said out loud. Anything else stops the deploy with one line that says what to set.
 */
export function chooseTokenMode(given: { publicKeys: boolean; requested: TokenMode | undefined }): TokenModeChoice {
  const { publicKeys, requested } = given;
  if (requested === "legacy") {
    if (publicKeys) throw new Error("SUPABASE_TOKEN_MODE=legacy and JWT_PUBLIC_KEYS contradict each other: unset one of them.");
    return { mode: "legacy", warnings: [LEGACY_MODE_WARNING] };
  }
  if (!publicKeys) throw new Error(TOKEN_MODE_REQUIRED);
  return { mode: "asymmetric", warnings: [] };
}
