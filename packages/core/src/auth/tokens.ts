import { webcrypto } from "node:crypto";
import { SignJWT, errors as joseErrors, jwtVerify } from "jose";
import { unauthorized } from "../errors";

// The algorithm is pinned: a token claiming any other `alg` (including "none") is refused by jwtVerify.
const ALG = "HS256";

export interface TokenSettings {
  secret: string;
  issuer: string;
  audience: string;
  expiresInSeconds: number;
}

export interface AccessToken {
  token: string;
  expiresIn: number;
}

// Imported once: handed raw bytes, jose would import the key through WebCrypto on every verify, which
// doubles the cost of the check every authenticated request pays.
const keyCache = new Map<string, Promise<webcrypto.CryptoKey>>();
const keyOf = (secret: string): Promise<webcrypto.CryptoKey> => {
  let key = keyCache.get(secret);
  if (!key) {
    const bytes = new TextEncoder().encode(secret);
    key = webcrypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keyCache.set(secret, key);
  }
  return key;
};

export async function issueAccessToken(userId: string, s: TokenSettings): Promise<AccessToken> {
  const token = await new SignJWT({ role: "authenticated" })
    .setProtectedHeader({ alg: ALG, typ: "JWT" })
    .setSubject(userId)
    .setIssuer(s.issuer)
    .setAudience(s.audience)
    .setIssuedAt()
    .setExpirationTime(`${s.expiresInSeconds}s`)
    .sign(await keyOf(s.secret));
  return { token, expiresIn: s.expiresInSeconds };
}

/** Returns the user id (`sub`) of a valid token, or throws a 401 AppError. */
export async function verifyAccessToken(token: string, s: TokenSettings): Promise<string> {
  try {
    const { payload } = await jwtVerify(token, await keyOf(s.secret), {
      algorithms: [ALG],
      issuer: s.issuer,
      audience: s.audience,
      requiredClaims: ["sub", "exp"],
    });
    const sub = payload.sub;
    if (typeof sub !== "string" || !UUID.test(sub)) throw unauthorized("Invalid access token");
    return sub;
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) throw unauthorized("Access token expired");
    throw unauthorized("Invalid access token");
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
