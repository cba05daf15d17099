import { createHash, randomBytes } from "node:crypto";

/**
 * An opaque credential: 256 random bits, base64url, after a recognisable prefix. Only its SHA-256 is
 * stored; a fast hash suffices because the input has full entropy (nothing to brute-force).
 */
export function newSecret(prefix: string): string {
  return prefix + randomBytes(32).toString("base64url");
}

export const sha256Hex = (value: string): string => createHash("sha256").update(value, "utf8").digest("hex");

export const REFRESH_TOKEN_PREFIX = "crt_";
export const API_KEY_PREFIX = "cak_";
