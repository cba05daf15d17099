import { issueAccessToken, type TokenSettings } from "../auth/tokens";
import { dummyPasswordHash, hashPassword, verifyPassword } from "../auth/passwords";
import { unauthorized } from "../errors";
import type { Store } from "../ports";
import type { LoginRequest, RegisterRequest, TokenResponse, User } from "../schemas";

async function tokenFor(user: User, tokens: TokenSettings): Promise<TokenResponse> {
  const t = await issueAccessToken(user.id, tokens);
  return { access_token: t.token, token_type: "bearer", expires_in: t.expiresIn, user };
}

export async function register(store: Store, tokens: TokenSettings, req: RegisterRequest): Promise<TokenResponse> {
  const user = await store.createUser({
    email: req.email,
    password_hash: await hashPassword(req.password),
    display_name: req.display_name ?? null,
  });
  return tokenFor(user, tokens);
}

const BAD_LOGIN = "Incorrect email or password";

export async function login(store: Store, tokens: TokenSettings, req: LoginRequest): Promise<TokenResponse> {
  const found = await store.findLogin(req.email);
  // Unknown email and wrong password take the same time and say the same thing.
  const ok = await verifyPassword(req.password, found?.password_hash ?? (await dummyPasswordHash()));
  if (!found || !ok) throw unauthorized(BAD_LOGIN);
  return tokenFor(found.user, tokens);
}

export async function me(store: Store, userId: string): Promise<User> {
  const user = await store.forUser(userId).getUser();
  // A valid token for a deleted account is no longer a credential.
  if (!user) throw unauthorized("Account no longer exists");
  return user;
}

