// What the compatibility suites share: a user with an API key, as a client of either format holds one.
import { call, registerUser } from "../support/http";

export interface Caller {
  token: string;
  key: string;
}

/** A new user, its session token and an API key (cak_…) made with it. */
export async function newCaller(api: string): Promise<Caller> {
  const { token } = await registerUser(api, "compat");
  const r = await call(api, "POST", "/api-keys", { token, body: { name: "compat" } });
  if (r.status !== 201) throw new Error(`create API key: ${r.status} ${JSON.stringify(r.body)}`);
  return { token, key: r.body.key as string };
}

/** The usage ledger's settled calls of the day, as GET /usage reports them by kind. */
export async function usageByKind(api: string, token: string): Promise<Record<string, { input_tokens: number; output_tokens: number }>> {
  const r = await call(api, "GET", "/usage?group_by=kind", { token });
  if (r.status !== 200) throw new Error(`usage: ${r.status} ${JSON.stringify(r.body)}`);
  return Object.fromEntries((r.body.data as { key: string; input_tokens: number; output_tokens: number }[]).map((g) => [g.key, g]));
}
