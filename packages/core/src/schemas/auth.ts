import * as z from "zod";
import { Timestamp, Uuid, noNul } from "./common";

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
  .refine((p) => !p.includes("\u0000"), "must not contain NUL (\\u0000)")
  .refine((p) => utf8Bytes(p) >= 8, "must be at least 8 bytes")
  .refine((p) => utf8Bytes(p) <= 72, "must be at most 72 bytes")
  .describe("8 to 72 bytes (UTF-8)");

export const RegisterRequest = z.object({
  email: Email,
  password: Password,
  display_name: noNul(z.string().trim().min(1).max(100)).optional(),
});
export type RegisterRequest = z.infer<typeof RegisterRequest>;

export const LoginRequest = z.object({
  email: Email,
  // Not limited to bcrypt's 72 bytes here: a longer password is simply wrong (401), never a 422 that
  // would tell a guesser which passwords cannot exist.
  password: z.string().min(1).max(1024),
});
export type LoginRequest = z.infer<typeof LoginRequest>;

export const TokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal("bearer"),
  expires_in: z.number().int().describe("Seconds until the token expires"),
  refresh_token: z.string().describe("Opaque; exchange it at /auth/refresh for a new pair. Each is valid once."),
  refresh_expires_in: z.number().int().describe("Seconds until the refresh token expires"),
  user: User,
});
export type TokenResponse = z.infer<typeof TokenResponse>;

export const RefreshRequest = z.object({ refresh_token: z.string().min(1).max(200) });
export type RefreshRequest = z.infer<typeof RefreshRequest>;

export const LogoutAllResponse = z.object({
  revoked_sessions: z
    .number()
    .int()
    .describe("Sign-ins that were still live and are now revoked (this one included). API keys are not sessions and keep working."),
});
export type LogoutAllResponse = z.infer<typeof LogoutAllResponse>;

export const ChangePasswordRequest = z.object({
  current_password: z.string().min(1).max(1024),
  new_password: Password,
});
export type ChangePasswordRequest = z.infer<typeof ChangePasswordRequest>;

export const CreateApiKeyRequest = z.object({
  name: noNul(z.string().trim().min(1).max(100)),
  expires_at: z.iso
    .datetime({ offset: true })
    .optional()
    .refine((t) => t === undefined || Date.parse(t) > Date.now(), "must be in the future")
    .refine((t) => t === undefined || new Date(t).getUTCFullYear() <= 9999, "must be before year 10000"),
});
export type CreateApiKeyRequest = z.infer<typeof CreateApiKeyRequest>;

export const ApiKey = z.object({
  id: Uuid,
  name: z.string().nullable(),
  prefix: z.string().describe("The key's first characters, to recognise it"),
  created_at: Timestamp,
  last_used_at: Timestamp.nullable(),
  expires_at: Timestamp.nullable(),
});
export type ApiKey = z.infer<typeof ApiKey>;

export const CreatedApiKey = ApiKey.omit({ last_used_at: true }).extend({
  key: z.string().describe("The key itself (cak_…). Shown only in this response; only its hash is stored."),
});

export const ApiKeyList = z.object({ data: z.array(ApiKey) });
