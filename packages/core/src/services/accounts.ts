import { issueAccessToken, type TokenSettings } from "../auth/tokens";
import { dummyPasswordHash, hashPassword, verifyPassword } from "../auth/passwords";
import { assertPasswordNotCommon } from "../auth/password-policy";
import { REFRESH_TOKEN_PREFIX, newSecret, sha256Hex } from "../auth/secrets";
import type { Config } from "../config";
import { AppError, unauthorized } from "../errors";
import type { Store } from "../ports";
import type { ChangePasswordRequest, LoginRequest, LogoutAllResponse, RefreshRequest, RegisterRequest, TokenResponse, User } from "../schemas";

export type AuthSettings = Pick<
  Config,
  | "REFRESH_TOKEN_EXPIRE_DAYS"
  | "LOGIN_MAX_FAILURES_PER_ACCOUNT"
  | "LOGIN_MAX_FAILURES_PER_IP"
  | "LOGIN_FAILURE_WINDOW_MINUTES"
  | "REGISTER_MAX_PER_IP"
  | "REGISTER_WINDOW_MINUTES"
  | "PASSWORD_HASH_COST"
>;

/** What the pre-auth services need: the store (server privileges), token and throttle settings. */
export interface AuthDeps {
  store: Store;
  tokens: TokenSettings;
  settings: AuthSettings;
}

const refreshTtl = (s: AuthSettings) => s.REFRESH_TOKEN_EXPIRE_DAYS * 86_400;

/** A new refresh token: opaque, 256 random bits; only its SHA-256 reaches the database. */
function newRefreshToken(s: AuthSettings) {
  const token = newSecret(REFRESH_TOKEN_PREFIX);
  return { token, hash: sha256Hex(token), expiresAt: new Date(Date.now() + refreshTtl(s) * 1000).toISOString() };
}

async function tokenPair(user: User, d: AuthDeps, refresh: { token: string }): Promise<TokenResponse> {
  const t = await issueAccessToken(user.id, d.tokens);
  return {
    access_token: t.token,
    token_type: "bearer",
    expires_in: t.expiresIn,
    refresh_token: refresh.token,
    refresh_expires_in: refreshTtl(d.settings),
    user,
  };
}

/** Signs the user in: a new refresh-token family and an access token. */
async function startSession(user: User, d: AuthDeps): Promise<TokenResponse> {
  const refresh = newRefreshToken(d.settings);
  await d.store.createSession(user.id, refresh.hash, refresh.expiresAt);
  return tokenPair(user, d, refresh);
}

const tooMany = (what: string, retryAfter: number) =>
  new AppError("rate_limit_error", `Too many ${what}; try again in ${retryAfter} seconds`, { retryAfter });

export async function register(d: AuthDeps, req: RegisterRequest, ip: string): Promise<TokenResponse> {
  await assertPasswordNotCommon(req.password, "body.password", [req.email, req.email.split("@")[0]!, req.display_name ?? ""]);
  const wait = await d.store.registerAttempt(ip, d.settings.REGISTER_WINDOW_MINUTES * 60, d.settings.REGISTER_MAX_PER_IP);
  if (wait > 0) throw tooMany("registrations from this address", wait);
  const user = await d.store.createUser({
    email: req.email,
    password_hash: await hashPassword(req.password, d.settings.PASSWORD_HASH_COST),
    display_name: req.display_name ?? null,
  });
  return startSession(user, d);
}

const BAD_LOGIN = "Incorrect email or password";
// bcrypt reads only the first 72 bytes: a longer password would match its prefix's hash.
const BCRYPT_MAX_BYTES = 72;

export async function login(d: AuthDeps, req: LoginRequest, ip: string): Promise<TokenResponse> {
  const s = d.settings;
  // Checked before the password, so once the limit is reached even the right password gets a 429:
  // a guesser learns nothing more inside the window.
  const wait = await d.store.loginRetryAfter({
    account: req.email,
    ip,
    windowSeconds: s.LOGIN_FAILURE_WINDOW_MINUTES * 60,
    maxAccount: s.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    maxIp: s.LOGIN_MAX_FAILURES_PER_IP,
  });
  if (wait > 0) throw tooMany("failed sign-ins", wait);
  const found = await d.store.findLogin(req.email);
  // Unknown email, wrong password and over-long password take the same time and say the same thing.
  const fits = Buffer.byteLength(req.password, "utf8") <= BCRYPT_MAX_BYTES;
  const ok = (await verifyPassword(req.password, found?.password_hash ?? (await dummyPasswordHash(s.PASSWORD_HASH_COST)))) && fits;
  await d.store.recordLogin(req.email, ip, Boolean(found && ok));
  if (!found || !ok) throw unauthorized(BAD_LOGIN);
  return startSession(found.user, d);
}

/**
 * Rotates a refresh token. A token that was already rotated is being replayed (one of the two copies
 * is in someone else's hands): the database revokes its whole family, and the answer is a 401.
 */
export async function refresh(d: AuthDeps, req: RefreshRequest): Promise<TokenResponse> {
  const next = newRefreshToken(d.settings);
  const r = await d.store.rotateSession(sha256Hex(req.refresh_token), next.hash, next.expiresAt);
  if (r.status === "reused") throw unauthorized("Refresh token was already used; every session of this sign-in is revoked");
  if (r.status !== "ok") throw unauthorized("Invalid or expired refresh token");
  const found = await d.store.findLoginById(r.user_id);
  if (!found) throw unauthorized("Account no longer exists");
  return tokenPair(found.user, d, next);
}

/** Signs out: revokes the refresh token's family. Unknown tokens too answer 204 (nothing to revoke). */
export async function logout(d: AuthDeps, req: RefreshRequest): Promise<void> {
  await d.store.revokeSession(sha256Hex(req.refresh_token));
}

/**
 * Signs the user out everywhere: revokes every refresh session, so no sign-in can refresh again.
 * Access tokens already issued are not looked up and stay valid until they expire; API keys stay.
 */
export async function logoutAll(store: Store, userId: string): Promise<LogoutAllResponse> {
  return { revoked_sessions: await store.revokeUserSessions(userId) };
}

/**
 * Changes the password and revokes every session of the user, then starts a fresh one for the caller.
 * A wrong current password counts as a failed login (so a stolen access token cannot guess at leisure).
 */
export async function changePassword(d: AuthDeps, userId: string, req: ChangePasswordRequest, ip: string): Promise<TokenResponse> {
  const found = await d.store.findLoginById(userId);
  if (!found) throw unauthorized("Account no longer exists");
  const s = d.settings;
  const wait = await d.store.loginRetryAfter({
    account: found.user.email,
    ip,
    windowSeconds: s.LOGIN_FAILURE_WINDOW_MINUTES * 60,
    maxAccount: s.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    maxIp: s.LOGIN_MAX_FAILURES_PER_IP,
  });
  if (wait > 0) throw tooMany("failed password checks", wait);
  const fits = Buffer.byteLength(req.current_password, "utf8") <= BCRYPT_MAX_BYTES;
  const ok = (await verifyPassword(req.current_password, found.password_hash)) && fits;
  if (!ok) {
    await d.store.recordLogin(found.user.email, ip, false);
    throw new AppError("validation_error", "Request validation failed", {
      fields: [{ path: "body.current_password", message: "is incorrect" }],
    });
  }
  await assertPasswordNotCommon(req.new_password, "body.new_password", [found.user.email, found.user.display_name ?? ""]);
  await d.store.changePassword(userId, await hashPassword(req.new_password, s.PASSWORD_HASH_COST));
  return startSession(found.user, d);
}

export async function me(store: Store, userId: string): Promise<User> {
  const user = await store.forUser(userId).getUser();
  // A valid token for a deleted account is no longer a credential.
  if (!user) throw unauthorized("Account no longer exists");
  return user;
}
