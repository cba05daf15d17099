// Figures 1 and 2: what the local runtime's stream endpoint adds on top of calling Groq directly.
// Both paths talk to the same Groq stand-in (its own process, fixed delays); the baseline is groq-sdk
// called from the bench process, the subject is our endpoint called from the bench process (which in
// turn calls the stand-in with groq-sdk). Baseline and subject samples alternate (ABBA order) so that
// drift on a shared machine hits both alike; the figures are medians of the paired differences.
import type { StreamScript } from "../lib/script";
import { createConversation, groqClient, registerUser, streamViaApp, streamViaGroqSdk, type StreamTiming } from "../lib/client";
import { forkTs, type BenchChild } from "../lib/ipc";
import { metric, type FigureResult } from "../lib/report";
import { median, percentile, round } from "../lib/stats";
import { appEnv, profiled, timed, type BenchOptions } from "./common";

const PROMPT = "Say hello.";

export interface StreamApp {
  groq: BenchChild;
  app: BenchChild;
  groqUrl: string;
  /** The app's base URL. */
  url: string;
  api: string;
  token: string;
  stop(): Promise<void>;
}
type Setup = StreamApp;

/** The app under test wired to its own Groq stand-in (quick mode reuses it for figure 4). */
export async function startStreamApp(opts: BenchOptions): Promise<StreamApp> {
  const groq = forkTs("groq-child.ts");
  const groqUrl = (await groq.ready) as string;
  const app = forkTs("app-child.ts", {
    env: appEnv({ GROQ_API_KEY: "gsk_bench", GROQ_BASE_URL: groqUrl }),
  });
  const url = (await app.ready) as string;
  const api = `${url}/api/v1`;
  const token = await registerUser(api);
  return { groq, app, groqUrl, url, api, token, stop: async () => void (await Promise.all([app.stop(), groq.stop()])) };
}

interface Pair {
  base: StreamTiming;
  subj: StreamTiming;
  /** ms from the client's request to its arrival at the Groq stand-in. */
  baseReach: number;
  subjReach: number;
}

/** `n` interleaved baseline/subject pairs with one script; the first `warmup` pairs are discarded. */
async function pairs(s: Setup, script: Omit<StreamScript, "count">, n: number, warmup: number): Promise<Pair[]> {
  const client = groqClient(s.groqUrl);
  const out: Pair[] = [];
  for (let i = 0; i < warmup + n; i++) {
    // A fresh conversation per sample: every subject sample does the same database work.
    const conversation = await createConversation(s.api, s.token);
    await s.groq.request("enqueue", { ...script, count: 2 } satisfies StreamScript);
    const runBase = () => streamViaGroqSdk(client, PROMPT);
    const runSubj = () => streamViaApp(s.api, conversation, s.token, PROMPT);
    let base: StreamTiming;
    let subj: StreamTiming;
    // ABBA: alternate which goes first.
    const baseFirst = i % 2 === 0;
    if (baseFirst) {
      base = await runBase();
      subj = await runSubj();
    } else {
      subj = await runSubj();
      base = await runBase();
    }
    const [a1, a2] = await s.groq.request<number[]>("arrivals", 2);
    const [baseArrival, subjArrival] = baseFirst ? [a1!, a2!] : [a2!, a1!];
    for (const [what, t] of [["baseline", base], ["subject", subj]] as const) {
      if (!t.ok || t.tokens !== script.tokens) throw new Error(`${what} stream failed (${t.tokens}/${script.tokens} tokens): ${t.error ?? "wrong token count"}`);
    }
    if (i >= warmup) out.push({ base, subj, baseReach: baseArrival - base.startedAt, subjReach: subjArrival - subj.startedAt });
  }
  return out;
}

export async function streamFigures(opts: BenchOptions, started: Promise<StreamApp>): Promise<[FigureResult, FigureResult]> {
  {
    const fig1 = await timed("1", "Added time-to-first-token (stream endpoint vs groq-sdk direct)", async () => {
      const s = await started;
      const firstTokenDelayMs = 20;
      const n = opts.quick ? 15 : 200;
      const warmup = opts.quick ? 5 : 30;
      const script = { firstTokenDelayMs, tokens: 3, gapMs: 0 };
      const ps = await profiled(opts, s.app, "fig1-stream-app", () => pairs(s, script, n, warmup));
      const base = ps.map((p) => p.base.ttft);
      const subj = ps.map((p) => p.subj.ttft);
      const diff = ps.map((p) => p.subj.ttft - p.base.ttft);
      return {
        conditions: {
          samples: n,
          warmup,
          first_token_delay_ms: firstTokenDelayMs,
          tokens: script.tokens,
          order: "ABBA-interleaved pairs; added = median / p99 of per-pair differences",
          baseline: "groq-sdk streaming from the same loopback Groq stand-in (separate process)",
          subject: "POST /conversations/{id}/messages/stream on the local runtime (separate process, PGlite in memory, fresh conversation per sample)",
          ttft: "client-side: request start → first text token parsed",
          breakdown_p50_ms: {
            request_reaches_groq_added: round(median(ps.map((p) => p.subjReach - p.baseReach)), 3),
            first_token_back_added: round(median(ps.map((p) => p.subj.ttft - p.subjReach - (p.base.ttft - p.baseReach))), 3),
          },
        },
        metrics: [
          metric({ name: "TTFT p50", unit: "ms", value: median(subj), baseline: median(base), added: median(diff), show: "added", target: { of: "added", op: "<=", value: 1 } }),
          metric({ name: "TTFT p99", unit: "ms", value: percentile(subj, 99), baseline: percentile(base, 99), added: percentile(diff, 99), show: "added" }),
        ],
      };
    });

    const fig2 = await timed("2", "Per-token added latency (500 tokens, fixed gap)", async () => {
      const s = await started;
      const tokens = 500;
      const gapMs = opts.quick ? 1 : 2;
      const n = opts.quick ? 2 : 12;
      const warmup = opts.quick ? 0 : 1;
      const script = { firstTokenDelayMs: 20, tokens, gapMs };
      const ps = await profiled(opts, s.app, "fig2-stream-app", () => pairs(s, script, n, warmup));
      const perToken = ps.map((p) => ((p.subj.total - p.base.total) / tokens) * 1000);
      // Back to back (no gap) the stream is CPU-bound, so this shows the true per-token processing cost.
      const burstN = opts.quick ? 2 : 10;
      const burst = await pairs(s, { firstTokenDelayMs: 0, tokens, gapMs: 0 }, burstN, opts.quick ? 1 : 2);
      const burstPerToken = burst.map((p) => ((p.subj.total - p.base.total) / tokens) * 1000);
      return {
        conditions: {
          samples: n,
          warmup,
          tokens,
          inter_token_gap_ms: gapMs,
          first_token_delay_ms: script.firstTokenDelayMs,
          baseline_total_ms_p50: round(median(ps.map((p) => p.base.total)), 2),
          subject_total_ms_p50: round(median(ps.map((p) => p.subj.total)), 2),
          method: "per pair: (subject total duration − baseline total duration) / tokens; ABBA-interleaved",
          burst: { samples: burstN, tokens, gap_ms: 0, baseline_total_ms_p50: round(median(burst.map((p) => p.base.total)), 2), subject_total_ms_p50: round(median(burst.map((p) => p.subj.total)), 2) },
        },
        metrics: [
          metric({ name: "per-token added p50", unit: "µs/token", value: median(perToken), target: { of: "value", op: "<=", value: 10 } }),
          metric({ name: "per-token added p99", unit: "µs/token", value: percentile(perToken, 99) }),
          metric({ name: "per-token added, no gap (CPU-bound) p50", unit: "µs/token", value: median(burstPerToken) }),
        ],
      };
    });
    return [fig1, fig2];
  }
}
