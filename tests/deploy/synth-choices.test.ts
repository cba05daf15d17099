// What a deploy must be told rather than fall into: the token mode (the public keys, or legacy said out
// loud, which then warns what it costs), and what turning a deploy default off says. Synthesized as
// `sst dev` does (no function is bundled there; the stacks' choices are the same as a deploy's).
import { afterEach, describe, expect, it, vi } from "vitest";
import { generateSigningKey, publicJwkOf } from "@conversation-api/core";
import { routes } from "../../packages/functions/src/routes";
import { BUDGET_OFF_WARNING } from "../../stacks/defaults";
import { secretsFor } from "../../stacks/secret-policy";
import { LEGACY_MODE_WARNING, TOKEN_MODE_REQUIRED } from "../../stacks/token-mode";
import { loadSynthesis, type Synthesis } from "./synth-checks";

const SUPABASE = { SUPABASE_URL: "https://abc.supabase.co", SUPABASE_PUBLISHABLE_KEY: "sb_publishable_abc" };
const saved = { ...process.env };

afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

/** Synthesizes with these settings added to the environment; console.warn is captured, not printed. */
async function synthesizeWith(env: Record<string, string>, mode: "dev" | "remove" = "dev"): Promise<{ s: Synthesis; warnings: string[] }> {
  Object.assign(process.env, env);
  const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  try {
    const s = await loadSynthesis(mode);
    return { s, warnings: warn.mock.calls.map((args) => args.join(" ")) };
  } finally {
    warn.mockRestore();
  }
}

describe("the token mode", () => {
  it("must be chosen: without JWT_PUBLIC_KEYS or SUPABASE_TOKEN_MODE=legacy the deploy stops with one line saying what to set", async () => {
    expect(TOKEN_MODE_REQUIRED).not.toContain("\n");
    expect(TOKEN_MODE_REQUIRED).toMatch(/JWT_PUBLIC_KEYS.*SUPABASE_TOKEN_MODE=legacy/);
    await expect(synthesizeWith({ ...SUPABASE })).rejects.toThrow(TOKEN_MODE_REQUIRED);
    // Asking for the asymmetric mode without its keys is the same omission.
    await expect(synthesizeWith({ ...SUPABASE, SUPABASE_TOKEN_MODE: "asymmetric" })).rejects.toThrow(TOKEN_MODE_REQUIRED);
  }, 120_000);

  it("refuses legacy mode together with public keys", async () => {
    const keys = JSON.stringify({ keys: [publicJwkOf(await generateSigningKey())] });
    await expect(synthesizeWith({ ...SUPABASE, JWT_PUBLIC_KEYS: keys, SUPABASE_TOKEN_MODE: "legacy" })).rejects.toThrow(/contradict/);
  }, 120_000);

  it("is legacy only when asked for, and the deploy then warns what that costs; turning the budget and the stream cap off is said or visible too", async () => {
    const { s, warnings } = await synthesizeWith({
      SUPABASE_URL: SUPABASE.SUPABASE_URL,
      SUPABASE_ANON_KEY: "anon",
      SUPABASE_TOKEN_MODE: "legacy",
      DAILY_TOKEN_BUDGET: "0",
      STREAM_RESERVED_CONCURRENCY: "0",
    });
    expect(warnings).toEqual([LEGACY_MODE_WARNING, BUDGET_OFF_WARNING]);
    expect(LEGACY_MODE_WARNING).toContain("SUPABASE_JWT_SECRET");
    // What the warning says: every signed-in function holds the project's JWT secret.
    for (const route of routes) {
      const bound = s.boundSecrets(s.functionOf(route)[1]).sort();
      expect(bound, route.name).toEqual(secretsFor(route, "legacy").sort());
      if (route.auth) expect(bound, route.name).toContain("SUPABASE_JWT_SECRET");
    }
    const [, health] = s.functionOf(routes.find((r) => r.name === "health")!);
    expect(s.envOf(health).SST_Parameter_value_DAILY_TOKEN_BUDGET).toBe("0");
    for (const route of routes.filter((r) => r.streaming)) expect(s.functionOf(route)[1].Properties, route.name).not.toHaveProperty("ReservedConcurrentExecutions");
  }, 120_000);

  it("is not asked of `sst remove`, which synthesizes the app but changes no function", async () => {
    const { s, warnings } = await synthesizeWith({ ...SUPABASE }, "remove");
    expect(s.ofType("AWS::ApiGatewayV2::Api")).toHaveLength(1);
    expect(warnings).toEqual([]);
  }, 120_000);
});
