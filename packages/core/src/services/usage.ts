import type { UsageQuery, UserStore } from "../ports";
import type { UsageRow } from "../schemas";

export async function usageReport(store: UserStore, query: UsageQuery) {
  const data = await store.usage(query);
  const sum = (f: (r: UsageRow) => number) => data.reduce((n, r) => n + f(r), 0);
  const messages = sum((r) => r.messages);
  const latencyTotal = sum((r) => (r.mean_latency_ms ?? 0) * r.messages);
  return {
    ...query,
    data,
    totals: {
      input_tokens: sum((r) => r.input_tokens),
      output_tokens: sum((r) => r.output_tokens),
      messages,
      mean_latency_ms: messages ? Math.round(latencyTotal / messages) : null,
    },
  };
}
