import { API_KEY_PREFIX, newSecret, sha256Hex } from "../auth/secrets";
import { notFound } from "../errors";
import type { ApiKeyRecord, UserStore } from "../ports";
import type { CreateApiKeyRequest } from "../schemas";

// Shown in listings so a user can tell keys apart; 8 of the 43 random characters reveal nothing useful.
const SHOWN = API_KEY_PREFIX.length + 8;

export async function createApiKey(store: UserStore, req: CreateApiKeyRequest): Promise<Omit<ApiKeyRecord, "last_used_at"> & { key: string }> {
  const key = newSecret(API_KEY_PREFIX);
  const rec = await store.createApiKey({
    name: req.name,
    prefix: key.slice(0, SHOWN),
    key_hash: sha256Hex(key),
    expires_at: req.expires_at ? new Date(req.expires_at).toISOString() : null,
  });
  return { id: rec.id, name: rec.name, key, prefix: rec.prefix, created_at: rec.created_at, expires_at: rec.expires_at };
}

export async function listApiKeys(store: UserStore) {
  return { data: await store.listApiKeys() };
}

export async function revokeApiKey(store: UserStore, id: string): Promise<void> {
  if (!(await store.revokeApiKey(id))) throw notFound("API key");
}
