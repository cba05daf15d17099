import * as z from "zod";
import { Timestamp, Uuid } from "./common";

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8");

export const User = z.object({
  id: Uuid,
  email: z.string(),
  display_name: z.string().nullable(),
  created_at: Timestamp,
});
export type User = z.infer<typeof User>;

export const Email = z
  .email()
  .max(254)
  .transform((e) => e.trim().toLowerCase());

// bcrypt reads at most 72 bytes; refusing longer passwords keeps two different passwords from matching.
export const Password = z
  .string()
  .refine((p) => utf8Bytes(p) >= 8, "must be at least 8 bytes")
  .refine((p) => utf8Bytes(p) <= 72, "must be at most 72 bytes")
  .describe("8 to 72 bytes (UTF-8)");

export const RegisterRequest = z.object({
  email: Email,
  password: Password,
  display_name: z.string().trim().min(1).max(100).optional(),
});
export type RegisterRequest = z.infer<typeof RegisterRequest>;

export const LoginRequest = z.object({
  email: Email,
  password: z.string().min(1).max(1024),
});
export type LoginRequest = z.infer<typeof LoginRequest>;

export const TokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal("bearer"),
  expires_in: z.number().int().describe("Seconds until the token expires"),
  user: User,
});
export type TokenResponse = z.infer<typeof TokenResponse>;
