import type { UsageQuery, UserStore } from "../ports";
import type { UsageRow } from "../schemas";

/**
 * The caller's usage per group and in total. Stores return unrounded mean latencies, so the total mean
 * is exact (a mean of rounded means could be off by one); only what is shown is rounded.
 */
export async function usageReport(store: UserStore, query: UsageQuery) {
  const rows = await store.usage(query);
  const sum = (f: (r: UsageRow) => number) => rows.reduce((n, r) => n + f(r), 0);
  const messages = sum((r) => r.messages);
  const latencyTotal = sum((r) => (r.mean_latency_ms ?? 0) * r.messages);
  const round = (n: number | null) => (n === null ? null : Math.round(n));
  return {
    ...query,
    data: rows.map((r) => ({ ...r, mean_latency_ms: round(r.mean_latency_ms) })),
    totals: {
      input_tokens: sum((r) => r.input_tokens),
      output_tokens: sum((r) => r.output_tokens),
      messages,
      title_calls: sum((r) => r.title_calls),
      mean_latency_ms: messages ? Math.round(latencyTotal / messages) : null,
    },
  };
}
