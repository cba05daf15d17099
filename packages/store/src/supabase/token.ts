// The credential a user-scoped request carries to PostgREST on a legacy project: a short-lived JWT for
// that user, signed with the project's JWT secret, exactly like the access tokens Supabase Auth issues.
// PostgREST verifies it, switches to its `role` and exposes its claims to auth.uid(), so the row level
// security policies in database/schema/ decide what the request may see.
import { SignJWT } from "jose";

const TTL_SECONDS = 300;
// Re-sign this long before expiry, so a token never expires between signing and PostgREST checking
// it (a long stream stores its reply minutes after the turn began).
const REFRESH_MARGIN_SECONDS = 60;

/** A token getter for one user: signs on first use, re-signs shortly before expiry. */
export function userTokenSource(secret: string, userId: string): () => Promise<string> {
  // PostgREST (and so Supabase) uses the secret's UTF-8 bytes as the HS256 key, not base64-decoded.
  const key = new TextEncoder().encode(secret);
  let current: { token: Promise<string>; refreshAt: number } | undefined;
  return () => {
    const now = Math.floor(Date.now() / 1000);
    if (!current || now >= current.refreshAt) {
      const token = new SignJWT({ role: "authenticated" })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(userId)
        // Supabase Auth's own tokens say aud "authenticated"; projects that check the audience accept ours.
        .setAudience("authenticated")
        .setIssuedAt(now)
        .setExpirationTime(now + TTL_SECONDS)
        .sign(key);
      current = { token, refreshAt: now + TTL_SECONDS - REFRESH_MARGIN_SECONDS };
    }
    return current.token;
  };
}
