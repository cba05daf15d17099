// The store contract against a real Supabase project, only when one is configured:
//   SUPABASE_TEST_URL, SUPABASE_TEST_ANON_KEY, SUPABASE_TEST_SERVICE_ROLE_KEY, SUPABASE_TEST_JWT_SECRET
// with database/schema.sql applied. It creates throwaway users (user-<uuid>@example.com) and leaves
// them there. The contract's timestamp hooks use the service-role key: test setup, not the adapter.
import { describe } from "vitest";
import { createSupabaseStore } from "../src/supabase";
import { describeStoreContract, type ContractHooks } from "./contract";

const env = {
  url: process.env.SUPABASE_TEST_URL,
  anonKey: process.env.SUPABASE_TEST_ANON_KEY,
  serviceRoleKey: process.env.SUPABASE_TEST_SERVICE_ROLE_KEY,
  jwtSecret: process.env.SUPABASE_TEST_JWT_SECRET,
};
const configured = Object.values(env).every(Boolean);

function serviceHooks(url: string, serviceRoleKey: string): ContractHooks {
  const patch = async (table: string, id: string, body: Record<string, string>) => {
    const res = await fetch(`${url}/rest/v1/${table}?id=eq.${id}`, {
      method: "PATCH",
      headers: { apikey: serviceRoleKey, authorization: `Bearer ${serviceRoleKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`PATCH ${table}: ${res.status} ${await res.text()}`);
  };
  return {
    setConversationUpdatedAt: (id, t) => patch("conversations", id, { updated_at: t }),
    setMessageCreatedAt: (id, t) => patch("messages", id, { created_at: t }),
    setLedgerTime: async (reservationId, t) => {
      const res = await fetch(`${url}/rest/v1/usage_ledger?reservation_id=eq.${reservationId}`, {
        method: "PATCH",
        headers: { apikey: serviceRoleKey, authorization: `Bearer ${serviceRoleKey}`, "content-type": "application/json" },
        body: JSON.stringify({ created_at: t, reserved_at: t }),
      });
      if (!res.ok) throw new Error(`PATCH usage_ledger: ${res.status} ${await res.text()}`);
    },
  };
}

describe.skipIf(!configured)("Supabase (live project)", () => {
  describeStoreContract("Supabase (live)", () => ({
    store: createSupabaseStore({ url: env.url!, anonKey: env.anonKey!, serviceRoleKey: env.serviceRoleKey!, jwtSecret: env.jwtSecret!, timeoutMs: 30_000 }),
    hooks: serviceHooks(env.url!, env.serviceRoleKey!),
  }));
});
