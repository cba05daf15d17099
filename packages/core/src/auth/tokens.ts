// Access tokens. Two ways to sign them:
//  * asymmetric (ES256 or RS256, the default): a private JWK with a `kid`, held only by the functions
//    that issue tokens. Everything else verifies with the public keys, which are not secret. The same
//    key pair is imported into Supabase as a JWT signing key, so PostgREST trusts our tokens as they
//    are and a data function forwards the user's own token instead of minting one;
//  * HS256 with a shared secret: legacy projects and tests. Whoever verifies can also sign.
import { webcrypto } from "node:crypto";
import {
  SignJWT,
  createLocalJWKSet,
  errors as joseErrors,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from "jose";
import { ConfigError } from "../config";
import { unauthorized } from "../errors";

export const ASYMMETRIC_ALGS = ["ES256", "RS256"] as const;
export type AsymmetricAlg = (typeof ASYMMETRIC_ALGS)[number];

/**
 * Supabase's own access tokens say `aud: "authenticated"`, and a PostgREST configured with `jwt-aud`
 * checks it; our tokens carry it beside our own audience, so PostgREST accepts them either way.
 */
export const POSTGREST_AUDIENCE = "authenticated";

export interface TokenSettings {
  /** Legacy/test mode: HS256 with this shared secret (signs and verifies). */
  secret?: string | undefined;
  /** Asymmetric mode, issuing functions only: the private JWK (with `kid` and `alg`). */
  privateKey?: JWK | undefined;
  /** Asymmetric mode: the public keys a token may be signed with, chosen by `kid`. */
  publicKeys?: JSONWebKeySet | undefined;
  issuer: string;
  audience: string;
  expiresInSeconds: number;
}

export interface AccessToken {
  token: string;
  expiresIn: number;
}

// Imported once per key: jose would otherwise import it through WebCrypto on every call, which doubles
// the cost of the check every authenticated request pays.
const hmacKeys = new Map<string, Promise<webcrypto.CryptoKey>>();
const hmacKey = (secret: string) => {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = webcrypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    hmacKeys.set(secret, key);
  }
  return key;
};
const privateKeys = new WeakMap<JWK, Promise<unknown>>();
const jwksGetters = new WeakMap<JSONWebKeySet, JWTVerifyGetKey>();

/** Checks a private JWK is usable to sign our tokens; returns its algorithm. Throws ConfigError otherwise. */
export function checkPrivateJwk(jwk: JWK, name = "JWT_PRIVATE_KEY"): AsymmetricAlg {
  const alg = jwk.alg ?? (jwk.kty === "EC" ? "ES256" : jwk.kty === "RSA" ? "RS256" : undefined);
  const problems: string[] = [];
  if (!ASYMMETRIC_ALGS.includes(alg as AsymmetricAlg)) problems.push(`${name}: must be an EC P-256 (ES256) or RSA (RS256) private JWK`);
  if (alg === "ES256" && jwk.crv !== "P-256") problems.push(`${name}: ES256 needs crv P-256`);
  if (!jwk.d) problems.push(`${name}: a private key is needed (the JWK has no "d")`);
  if (!jwk.kid) problems.push(`${name}: needs a "kid", the id PostgREST picks the key by (set the same when importing it into Supabase)`);
  if (problems.length) throw new ConfigError(problems);
  return alg as AsymmetricAlg;
}

/** The public half of a private JWK (what goes into JWT_PUBLIC_KEYS and is shown by Supabase's JWKS). */
export function publicJwkOf(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, key_ops: _ops, ...pub } = jwk;
  return { ...pub, alg: jwk.alg ?? checkPrivateJwk(jwk), use: "sig" };
}

/** A new key pair, as `supabase gen signing-key --algorithm ES256` makes: a private JWK with a random kid. */
export async function generateSigningKey(alg: AsymmetricAlg = "ES256"): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: webcrypto.randomUUID(), alg };
}

export async function issueAccessToken(userId: string, s: TokenSettings): Promise<AccessToken> {
  const claims = new SignJWT({ role: "authenticated" })
    .setSubject(userId)
    .setIssuer(s.issuer)
    .setAudience([s.audience, POSTGREST_AUDIENCE])
    .setIssuedAt()
    .setExpirationTime(`${s.expiresInSeconds}s`);
  let token: string;
  if (s.privateKey) {
    const jwk = s.privateKey;
    const alg = checkPrivateJwk(jwk);
    let key = privateKeys.get(jwk);
    if (!key) privateKeys.set(jwk, (key = importJWK(jwk, alg)));
    token = await claims.setProtectedHeader({ alg, kid: jwk.kid!, typ: "JWT" }).sign((await key) as webcrypto.CryptoKey);
  } else if (s.secret) {
    token = await claims.setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(await hmacKey(s.secret));
  } else {
    throw new ConfigError(["JWT_PRIVATE_KEY: this function issues tokens but holds no signing key"]);
  }
  return { token, expiresIn: s.expiresInSeconds };
}

/**
 * Tokens already verified, per settings object: token → { sub, expiry in ms }. A client sends the same
 * access token with every request for its lifetime, and a signature check (jose: decode, WebCrypto
 * verify, claim checks) was ~14 % of a `GET /conversations` on the local runtime. A hit is the very
 * string that passed jwtVerify under the very same keys and claims options, and it is used only until
 * its own `exp`: what a repeated jwtVerify would conclude, since access tokens are never looked up
 * (revocation is bounded by their lifetime either way). Settings with other keys are another cache.
 */
const verified = new WeakMap<TokenSettings, Map<string, { sub: string; expiresAt: number }>>();
const VERIFIED_MAX = 1000;

/** Returns the user id (`sub`) of a valid token, or throws a 401 AppError. */
export async function verifyAccessToken(token: string, s: TokenSettings): Promise<string> {
  let cache = verified.get(s);
  const hit = cache?.get(token);
  if (hit) {
    if (hit.expiresAt > Date.now()) return hit.sub;
    cache!.delete(token);
  }
  const { sub, exp } = await verifyUncached(token, s);
  if (!cache) verified.set(s, (cache = new Map()));
  // Oldest first out: Map keeps insertion order.
  if (cache.size >= VERIFIED_MAX) cache.delete(cache.keys().next().value!);
  cache.set(token, { sub, expiresAt: exp * 1000 });
  return sub;
}

/**
 * Imports the keys tokens are checked with ahead of the first check (a cold start does it during
 * init): WebCrypto's first use, the HMAC key or each public key's import. Failures are left for the
 * check itself to report.
 */
export async function prepareTokenKeys(s: TokenSettings): Promise<void> {
  if (s.publicKeys) {
    let getKey = jwksGetters.get(s.publicKeys);
    if (!getKey) jwksGetters.set(s.publicKeys, (getKey = createLocalJWKSet(s.publicKeys)));
    await Promise.all(
      s.publicKeys.keys.map((k) => {
        const alg = k.alg ?? (k.kty === "EC" ? "ES256" : k.kty === "RSA" ? "RS256" : undefined);
        return alg ? Promise.resolve(getKey({ alg, ...(k.kid ? { kid: k.kid } : {}) }, { payload: "", signature: "" })).catch(() => {}) : undefined;
      }),
    );
  } else if (s.secret) await hmacKey(s.secret).catch(() => {});
}

async function verifyUncached(token: string, s: TokenSettings): Promise<{ sub: string; exp: number }> {
  // The algorithm is pinned per mode: a token claiming any other `alg` (including "none", or HS256
  // signed with a public key as the "secret") is refused by jwtVerify.
  const options = { issuer: s.issuer, audience: s.audience, requiredClaims: ["sub", "exp"] };
  const publicKeys = s.publicKeys ?? (s.privateKey ? { keys: [publicJwkOf(s.privateKey)] } : undefined);
  if (!publicKeys && !s.secret) throw new ConfigError(["JWT_PUBLIC_KEYS: this function checks tokens but holds no key to check them with"]);
  try {
    let payload;
    if (publicKeys) {
      let getKey = jwksGetters.get(publicKeys);
      if (!getKey) jwksGetters.set(publicKeys, (getKey = createLocalJWKSet(publicKeys)));
      ({ payload } = await jwtVerify(token, getKey, { ...options, algorithms: [...ASYMMETRIC_ALGS] }));
    } else {
      ({ payload } = await jwtVerify(token, await hmacKey(s.secret!), { ...options, algorithms: ["HS256"] }));
    }
    const sub = payload.sub;
    if (typeof sub !== "string" || !UUID.test(sub)) throw unauthorized("Invalid access token");
    return { sub, exp: payload.exp! };
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) throw unauthorized("Access token expired");
    throw unauthorized("Invalid access token");
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
