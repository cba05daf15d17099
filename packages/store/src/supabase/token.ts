// The credential a user-scoped request carries to PostgREST: a short-lived JWT for that user, signed
// with the project's JWT secret, exactly like the access tokens Supabase Auth issues. PostgREST
// verifies it, switches to its `role` and exposes its claims to auth.uid(), so the row level security
// policies in database/schema/ decide what the request may see. The service-role key is never
// used for this.
import { SignJWT } from "jose";

export const USER_TOKEN_TTL_SECONDS = 300;
// Re-sign this long before expiry, so a token never expires between signing and PostgREST checking
// it (a long stream stores its reply minutes after the turn began).
const REFRESH_MARGIN_SECONDS = 60;

export async function signUserToken(secret: string, userId: string, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ role: "authenticated" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    // Supabase Auth's own tokens say aud "authenticated"; projects that check the audience accept ours.
    .setAudience("authenticated")
    .setIssuedAt(iat)
    .setExpirationTime(iat + USER_TOKEN_TTL_SECONDS)
    // PostgREST (and so Supabase) uses the secret's UTF-8 bytes as the HS256 key, not base64-decoded.
    .sign(new TextEncoder().encode(secret));
}

/** A getter for supabase-js's `accessToken` option: signs on first use, re-signs shortly before expiry. */
export function userTokenSource(secret: string, userId: string): () => Promise<string> {
  let current: { token: Promise<string>; refreshAt: number } | undefined;
  return () => {
    const now = Date.now();
    if (!current || now >= current.refreshAt) {
      current = { token: signUserToken(secret, userId, now), refreshAt: now + (USER_TOKEN_TTL_SECONDS - REFRESH_MARGIN_SECONDS) * 1000 };
    }
    return current.token;
  };
}
