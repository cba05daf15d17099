// Figure 3: N streams at once through the local runtime (each 200 tokens from the Groq stand-in), then
// a check through the API that every reply was stored complete. Memory is the app process's RSS:
// peak while the streams run, against its idle RSS just before (the baseline).
import { forkTs, type BenchChild } from "../lib/ipc";
import { metric } from "../lib/report";
import { tokenText } from "../lib/script";
import { median, percentile, round } from "../lib/stats";
import { call, createConversation, inBatches, registerUser, streamViaApp, type StreamTiming } from "../lib/client";
import { appEnv, profileArgs, timed, type BenchOptions } from "./common";

const TOKENS = 200;

/** `shared`: an app process (with its Groq stand-in) already running — quick mode's; else fresh ones. */
export function concurrencyFigure(opts: BenchOptions, shared?: Promise<{ app: BenchChild; groq: BenchChild; api: string }>) {
  return timed("3", `Concurrency (${opts.concurrency} simultaneous streams × ${TOKENS} tokens)`, async () => {
    const n = opts.concurrency;
    // Every stream should be open before the first tokens flow (opening costs a few ms of the app's
    // CPU each, and the database is one PGlite instance), so the memory figure is for N at once.
    const firstTokenDelayMs = Math.min(10_000, Math.max(300, n * 6));
    const gapMs = opts.quick ? 5 : 10;
    let groq: BenchChild;
    let app: BenchChild;
    let api: string;
    const own: BenchChild[] = [];
    try {
      if (shared) ({ app, groq, api } = await shared);
      else {
        own.push((groq = forkTs("groq-child.ts")));
        const groqUrl = (await groq.ready) as string;
        own.push((app = forkTs("app-child.ts", { env: appEnv({ GROQ_API_KEY: "gsk_bench", GROQ_BASE_URL: groqUrl }), execArgv: profileArgs(opts, "fig3-app") })));
        api = `${(await app.ready) as string}/api/v1`;
      }
      const token = await registerUser(api);
      const conversations = await inBatches(Array.from({ length: n }), 8, () => createConversation(api, token));
      // Warm the stream path once so the idle RSS already includes the code it loads.
      await groq.request("enqueue", { count: 1, firstTokenDelayMs: 0, tokens: 3, gapMs: 0 });
      const warm = await streamViaApp(api, await createConversation(api, token), token, "warm up");
      if (!warm.ok) throw new Error(`warm-up stream failed: ${warm.error}`);
      await groq.request("enqueue", { count: n, firstTokenDelayMs, tokens: TOKENS, gapMs });

      // Idle RSS: the highest sample over a quiet 300 ms (RSS wobbles by MiBs with GC and PGlite).
      await app.request("sample-start");
      await new Promise((r) => setTimeout(r, 300));
      const idle = { rss: (await app.request<{ peakRss: number }>("sample-stop")).peakRss };
      await app.request("sample-start");
      type Cpu = NodeJS.CpuUsage;
      const cpuMs = (a: Cpu, b: Cpu) => (b.user - a.user + b.system - a.system) / 1000;
      const [appCpu0, groqCpu0, benchCpu0] = [await app.request<Cpu>("cpu"), await groq.request<Cpu>("cpu"), process.cpuUsage()];
      let open = 0;
      let maxOpen = 0;
      const t0 = performance.now();
      const results: StreamTiming[] = await Promise.all(
        conversations.map((id) =>
          streamViaApp(api, id, token, "Tell me a story.", {
            timeoutMs: 120_000,
            onOpen: () => {
              open++;
              if (open > maxOpen) maxOpen = open;
            },
          }).finally(() => {
            open = Math.max(0, open - 1);
          }),
        ),
      );
      const wallMs = performance.now() - t0;
      const { peakRss, loopDelayMs } = await app.request<{ peakRss: number; loopDelayMs: { p50: number; p99: number; max: number } }>("sample-stop");
      const appCpuMs = cpuMs(appCpu0, await app.request<Cpu>("cpu"));
      const groqCpuMs = cpuMs(groqCpu0, await groq.request<Cpu>("cpu"));
      const benchCpuMs = cpuMs(benchCpu0, process.cpuUsage());

      const failed = results.filter((r) => !r.ok || r.tokens !== TOKENS);
      const errorSamples = [...new Set(failed.map((r) => r.error ?? `${r.tokens}/${TOKENS} tokens`))].slice(0, 3);

      // Count what the database holds, through the API: each conversation's reply, complete.
      const expected = Array.from({ length: TOKENS }, (_, i) => tokenText(i)).join("");
      const stored = await inBatches(conversations, 16, async (id) => {
        const r = await call(api, "GET", `/conversations/${id}/messages`, { token });
        if (r.status !== 200) return false;
        const data = (r.body?.data ?? []) as { role: string; content: string; finish_reason: string | null }[];
        return data.some((m) => m.role === "assistant" && m.finish_reason === "end_turn" && m.content === expected);
      });
      const storedCount = stored.filter(Boolean).length;
      const mib = 2 ** 20;
      const perStreamKiB = (peakRss - idle.rss) / n / 1024;
      const totals = results.map((r) => r.total);
      const ttfts = results.map((r) => r.ttft);
      return {
        conditions: {
          streams: n,
          tokens_per_stream: TOKENS,
          first_token_delay_ms: firstTokenDelayMs,
          inter_token_gap_ms: gapMs,
          ideal_stream_ms: firstTokenDelayMs + (TOKENS - 1) * gapMs,
          max_streams_open_at_once: maxOpen,
          wall_ms: round(wallMs, 1),
          stream_total_ms: { p50: round(median(totals), 1), p99: round(percentile(totals, 99), 1) },
          ttft_ms: { p50: round(median(ttfts), 1), p99: round(percentile(ttfts, 99), 1) },
          response_head_ms: { p50: round(median(results.map((r) => r.open ?? NaN)), 1), p99: round(percentile(results.map((r) => r.open ?? NaN), 99), 1) },
          first_to_last_token_ms: { p50: round(median(results.map((r) => r.total - r.ttft)), 1), p99: round(percentile(results.map((r) => r.total - r.ttft), 99), 1) },
          error_samples: errorSamples,
          app_event_loop_delay_ms: loopDelayMs,
          cpu_ms: { app: round(appCpuMs, 0), groq_stand_in: round(groqCpuMs, 0), bench_client: round(benchCpuMs, 0) },
          memory: "app process RSS, sampled every 10 ms; baseline = highest RSS over 300 ms idle just before the streams",
          idle_rss_mib: round(idle.rss / mib, 1),
          app_process: shared ? "shared with figures 1–2 (quick mode)" : "fresh",
          store: "PGlite in memory; stored = assistant messages read back through GET /conversations/{id}/messages, complete and end_turn",
        },
        metrics: [
          metric({ name: "errors", unit: "", value: failed.length, target: { of: "value", op: "==", value: 0 } }),
          metric({ name: "completed replies stored", unit: "", value: storedCount, target: { of: "value", op: "==", value: n } }),
          metric({ name: "streams open at once (max)", unit: "", value: maxOpen, baseline: n, show: "ratio" }),
          metric({ name: "peak RSS", unit: "MiB", value: peakRss / mib, baseline: idle.rss / mib, show: "added" }),
          metric({ name: "memory per stream", unit: "KiB", value: perStreamKiB }),
          metric({ name: "app CPU per token (incl. stream setup)", unit: "µs", value: (appCpuMs * 1000) / (n * TOKENS) }),
          metric({ name: "stream duration p50", unit: "ms", value: median(totals), baseline: firstTokenDelayMs + (TOKENS - 1) * gapMs, show: "added" }),
          metric({ name: "stream duration p99", unit: "ms", value: percentile(totals, 99), baseline: firstTokenDelayMs + (TOKENS - 1) * gapMs, show: "added" }),
        ],
      };
    } finally {
      await Promise.all(own.map((c) => c.stop()));
    }
  });
}
