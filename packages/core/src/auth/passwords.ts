import bcrypt from "bcryptjs";

// Cost 10 keeps login near 60 ms on a Lambda vCPU while staying at OWASP's bcrypt minimum. The
// PASSWORD_HASH_COST setting (config.ts) may lower it where no real password is kept: the test suite
// registers hundreds of throwaway accounts, each a bcrypt hash at full cost otherwise.
export const DEFAULT_PASSWORD_HASH_COST = 10;

export const hashPassword = (password: string, cost = DEFAULT_PASSWORD_HASH_COST) => bcrypt.hash(password, cost);
// The cost is read from the hash itself.
export const verifyPassword = (password: string, hash: string) => bcrypt.compare(password, hash);

// A valid hash to compare against when the email is unknown, so both failure paths cost one bcrypt
// comparison and response time does not reveal which emails are registered: hashed at the cost real
// hashes are made at.
const dummyHashes = new Map<number, Promise<string>>();
export function dummyPasswordHash(cost = DEFAULT_PASSWORD_HASH_COST): Promise<string> {
  let hash = dummyHashes.get(cost);
  if (!hash) dummyHashes.set(cost, (hash = bcrypt.hash("not-a-real-password", cost)));
  return hash;
}
