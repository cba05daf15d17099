// The store contract against a real Supabase project, only when one is configured, with
// database/schema.sql applied:
//   SUPABASE_TEST_URL, SUPABASE_TEST_PUBLISHABLE_KEY, SUPABASE_TEST_SECRET_KEY (sb_secret_…), and either
//   SUPABASE_TEST_JWT_PRIVATE_KEY (the private JWK imported into the project as a JWT signing key and
//   rotated in, docs/deploy.md) or, for a legacy project, SUPABASE_TEST_JWT_SECRET (then the anon and
//   service_role keys may stand in for the publishable and secret keys).
// It creates throwaway users (user-<uuid>@example.com) and leaves them there. The contract's timestamp
// hooks use the secret key: test setup, not the adapter.
import { describe } from "vitest";
import type { JWK } from "jose";
import { createSupabaseStore } from "../src/supabase";
import { isJwt } from "../src/supabase/clients";
import { asTheApi } from "./api-tokens";
import { describeStoreContract, type ContractHooks } from "./contract";

const env = {
  url: process.env.SUPABASE_TEST_URL,
  publishableKey: process.env.SUPABASE_TEST_PUBLISHABLE_KEY,
  secretKey: process.env.SUPABASE_TEST_SECRET_KEY,
  privateKey: process.env.SUPABASE_TEST_JWT_PRIVATE_KEY,
  legacyJwtSecret: process.env.SUPABASE_TEST_JWT_SECRET,
};
const configured = Boolean(env.url && env.publishableKey && env.secretKey && (env.privateKey || env.legacyJwtSecret));

function serviceHooks(url: string, secretKey: string): ContractHooks {
  // An sb_secret_ key only as apikey; a legacy service_role JWT also as the bearer.
  const headers = { apikey: secretKey, ...(isJwt(secretKey) ? { authorization: `Bearer ${secretKey}` } : {}) };
  const patch = async (table: string, id: string, body: Record<string, string>, column = "id") => {
    const res = await fetch(`${url}/rest/v1/${table}?${column}=eq.${id}`, {
      method: "PATCH",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`PATCH ${table}: ${res.status} ${await res.text()}`);
  };
  return {
    setConversationUpdatedAt: (id, t) => patch("conversations", id, { updated_at: t }),
    setMessageCreatedAt: (id, t) => patch("messages", id, { created_at: t }),
    setLedgerTime: (reservationId, t) => patch("usage_ledger", reservationId, { created_at: t, reserved_at: t }, "reservation_id"),
    async tokensUsedSince(userId, since) {
      // PostgREST's aggregates are off by default: the rows, summed here.
      const query = new URLSearchParams({ select: "tokens", user_id: `eq.${userId}`, reserved_at: `gte.${since}` });
      const res = await fetch(`${url}/rest/v1/usage_ledger?${query}`, { headers });
      if (!res.ok) throw new Error(`GET usage_ledger: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { tokens: number | string }[]).reduce((sum, r) => sum + Number(r.tokens), 0);
    },
  };
}

describe.skipIf(!configured)("Supabase (live project)", () => {
  describeStoreContract("Supabase (live)", () => {
    const base = createSupabaseStore({
      url: env.url!,
      apiKey: env.publishableKey!,
      secretKey: env.secretKey!,
      legacyJwtSecret: env.privateKey ? undefined : env.legacyJwtSecret,
      timeoutMs: 30_000,
    });
    const store = env.privateKey
      ? asTheApi(base, { privateKey: JSON.parse(env.privateKey) as JWK, issuer: "conversation-api", audience: "conversation-api", expiresInSeconds: 900 })
      : base;
    return { store, hooks: serviceHooks(env.url!, env.secretKey!) };
  });
});
