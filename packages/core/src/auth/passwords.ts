import bcrypt from "bcryptjs";

// Cost 10 keeps login near 60 ms on a Lambda vCPU while staying at OWASP's bcrypt minimum.
const COST = 10;

export const hashPassword = (password: string) => bcrypt.hash(password, COST);
export const verifyPassword = (password: string, hash: string) => bcrypt.compare(password, hash);

// A valid hash to compare against when the email is unknown, so both failure paths cost one bcrypt
// comparison and response time does not reveal which emails are registered.
let dummyHash: Promise<string> | undefined;
export const dummyPasswordHash = () => (dummyHash ??= bcrypt.hash("not-a-real-password", COST));
