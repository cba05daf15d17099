// Figures 6 and 7: what a user feels, against the issue-15 upstream (50 ms to the first token, then
// 300 tokens 1 ms apart), in one run, for three ways of getting the same answer from the same Groq
// stand-in: directly with groq-sdk (the baseline), through our stream endpoint, and through the
// reference (AI SDK `streamText` on Hono, bench/reference-child.ts).
//
// 6: first token against the number of stored messages (0, 20, 100), end of reply and per token in the
//    streaming phase. Rounds rotate the order of the three; figures are medians of per-round
//    differences against the direct call of the same round.
// 7: 100 streams at once (one conversation each): wall-clock against 100 direct streams at once.
import { createConversation, groqClient, inBatches, registerUser, streamViaApp, streamViaGroqSdk, streamViaReference, type StreamTiming } from "../lib/client";
import { forkTs, type BenchChild } from "../lib/ipc";
import { metric, type Metric } from "../lib/report";
import { median, percentile, round } from "../lib/stats";
import type { StreamScript } from "../lib/script";
import { appEnv, profileArgs, profiled, timed, type BenchOptions } from "./common";

/** The upstream of issue 15's table. */
export const ISSUE_UPSTREAM: Omit<StreamScript, "count"> = { firstTokenDelayMs: 50, tokens: 300, gapMs: 1 };
const PROMPT = "Tell me about the history of the bicycle in three paragraphs.";
/** A seeded exchange: a user turn of ~25 words and a 60-token answer, so the history has some weight. */
const SEED_PROMPT = "Here is some context about my project: a streaming chat backend on Lambda with Postgres, and I want it to be fast and cheap to run.";
const SEED_SCRIPT = { firstTokenDelayMs: 0, tokens: 60, gapMs: 0 };

export interface World {
  groq: BenchChild;
  app: BenchChild;
  /** Absent when the reference is skipped. */
  ref: BenchChild | undefined;
  groqUrl: string;
  api: string;
  refUrl: string | undefined;
  token: string;
  stop(): Promise<void>;
}

export async function startWorld(opts: BenchOptions, name: string, withReference: boolean): Promise<World> {
  const groq = forkTs("groq-child.ts");
  const groqUrl = (await groq.ready) as string;
  const app = forkTs("app-child.ts", { env: appEnv({ GROQ_API_KEY: "gsk_bench", GROQ_BASE_URL: groqUrl }) });
  const ref = withReference ? forkTs("reference-child.ts", { env: { GROQ_BASE_URL: groqUrl }, execArgv: profileArgs(opts, `${name}-reference`) }) : undefined;
  const [url, refUrl] = (await Promise.all([app.ready, ref?.ready])) as [string, string | undefined];
  const api = `${url}/api/v1`;
  const token = await registerUser(api);
  return { groq, app, ref, groqUrl, api, refUrl, token, stop: async () => void (await Promise.all([app.stop(), ref?.stop(), groq.stop()])) };
}

/** Quick mode: the figures 1–4 app and its Groq stand-in, plus a reference process of its own. */
export async function worldFrom(opts: BenchOptions, started: Promise<{ groq: BenchChild; app: BenchChild; groqUrl: string; api: string; token: string }>, withReference: boolean): Promise<World> {
  const s = await started;
  const ref = withReference ? forkTs("reference-child.ts", { env: { GROQ_BASE_URL: s.groqUrl }, execArgv: profileArgs(opts, "fig6-7-reference") }) : undefined;
  const refUrl = (await ref?.ready) as string | undefined;
  // The app and the stand-in belong to the caller, who stops them.
  return { groq: s.groq, app: s.app, ref, groqUrl: s.groqUrl, api: s.api, refUrl, token: s.token, stop: async () => void (await ref?.stop()) };
}

/** A conversation holding `messages` stored messages (user + assistant pairs) sent through the API. */
async function seededConversation(w: World, messages: number): Promise<string> {
  const id = await createConversation(w.api, w.token, `history ${messages}`);
  const pairs = Math.ceil(messages / 2);
  if (pairs === 0) return id;
  await w.groq.request("enqueue", { ...SEED_SCRIPT, count: pairs } satisfies StreamScript);
  for (let i = 0; i < pairs; i++) {
    const r = await streamViaApp(w.api, id, w.token, SEED_PROMPT);
    if (!r.ok) throw new Error(`seeding ${messages} messages failed: ${r.error}`);
  }
  return id;
}

type Who = "direct" | "ours" | "ref";
type Round = Partial<Record<Who, StreamTiming>>;

function check(who: Who, t: StreamTiming, tokens: number) {
  if (!t.ok || t.tokens !== tokens) throw new Error(`${who} stream failed (${t.tokens}/${tokens} tokens): ${t.error ?? "wrong token count"}`);
}

/** `n` rounds (after `warmup` discarded ones) of direct / ours / reference in rotating order. */
async function rounds(w: World, conversation: () => Promise<string>, n: number, warmup: number): Promise<Round[]> {
  const client = groqClient(w.groqUrl);
  const whos: Who[] = w.refUrl ? ["direct", "ours", "ref"] : ["direct", "ours"];
  const out: Round[] = [];
  for (let i = 0; i < warmup + n; i++) {
    const id = await conversation();
    await w.groq.request("enqueue", { ...ISSUE_UPSTREAM, count: whos.length } satisfies StreamScript);
    const order = whos.map((_, k) => whos[(i + k) % whos.length]!);
    if (i % 2) order.reverse();
    const round: Round = {};
    for (const who of order) {
      const t =
        who === "direct" ? await streamViaGroqSdk(client, PROMPT) : who === "ours" ? await streamViaApp(w.api, id, w.token, PROMPT) : await streamViaReference(w.refUrl!, PROMPT);
      check(who, t, ISSUE_UPSTREAM.tokens);
      round[who] = t;
    }
    if (i >= warmup) out.push(round);
  }
  return out;
}

const diffs = (rs: Round[], who: Who, f: (t: StreamTiming) => number) => rs.map((r) => f(r[who]!) - f(r.direct!));
/** µs per token of the streaming phase (first token → end) over the direct call's. */
const perTokenUs = (rs: Round[], who: Who) => diffs(rs, who, (t) => t.total - t.ttft).map((d) => (d / (ISSUE_UPSTREAM.tokens - 1)) * 1000);

export const STORED_LEVELS = [0, 20, 100] as const;

export function feltFigure(opts: BenchOptions, world: Promise<World>) {
  return timed("6", "First token vs stored messages, end of reply, per token (issue-15 upstream), with the AI SDK reference", async () => {
    const w = await world;
    const n = opts.quick ? 2 : 15;
    const warmup = opts.quick ? 1 : 3;
    const byLevel: Record<number, Round[]> = {};
    for (const level of STORED_LEVELS) {
      // Fresh conversation per round at 0; at 20 and 100 one seeded conversation that grows by 2 a round.
      const seeded = level === 0 ? undefined : await seededConversation(w, level);
      byLevel[level] = await profiled(opts, w.app, `fig6-stream-${level}-stored-app`, () =>
        rounds(w, () => (seeded ? Promise.resolve(seeded) : createConversation(w.api, w.token)), n, warmup),
      );
    }
    const fresh = byLevel[0]!;
    const all = STORED_LEVELS.flatMap((l) => byLevel[l]!);
    const metrics: Metric[] = [];
    for (const level of STORED_LEVELS) {
      const rs = byLevel[level]!;
      metrics.push(
        metric({
          name: `first token, ${level} stored messages p50`,
          unit: "ms",
          value: median(rs.map((r) => r.ours!.ttft)),
          baseline: median(rs.map((r) => r.direct!.ttft)),
          added: median(diffs(rs, "ours", (t) => t.ttft)),
          show: "added",
          target: level === 0 ? { of: "added", op: "<=", value: 1 } : level === 100 ? { of: "added", op: "<=", value: 2 } : null,
        }),
      );
    }
    metrics.push(
      metric({ name: "end of 300-token reply p50", unit: "ms", value: median(fresh.map((r) => r.ours!.total)), baseline: median(fresh.map((r) => r.direct!.total)), added: median(diffs(fresh, "ours", (t) => t.total)), show: "added", target: { of: "added", op: "<=", value: 2 } }),
      metric({ name: "per token, streaming phase p50", unit: "µs/token", value: median(perTokenUs(fresh, "ours")), target: { of: "value", op: "<=", value: 10 } }),
    );
    if (w.refUrl) {
      metrics.push(
        metric({ name: "reference: first token p50", unit: "ms", value: median(all.map((r) => r.ref!.ttft)), baseline: median(all.map((r) => r.direct!.ttft)), added: median(diffs(all, "ref", (t) => t.ttft)), show: "added" }),
        metric({ name: "reference: end of 300-token reply p50", unit: "ms", value: median(all.map((r) => r.ref!.total)), baseline: median(all.map((r) => r.direct!.total)), added: median(diffs(all, "ref", (t) => t.total)), show: "added" }),
        metric({ name: "reference: per token, streaming phase p50", unit: "µs/token", value: median(perTokenUs(all, "ref")) }),
      );
    }
    const p99 = (xs: number[]) => round(percentile(xs, 99), 2);
    return {
      conditions: {
        upstream: { first_token_delay_ms: ISSUE_UPSTREAM.firstTokenDelayMs, tokens: ISSUE_UPSTREAM.tokens, inter_token_gap_ms: ISSUE_UPSTREAM.gapMs },
        rounds_per_level: n,
        warmup_rounds_per_level: warmup,
        order: "each round runs direct, ours and the reference back to back; the order rotates (and reverses every other round); added = median of per-round differences to that round's direct call",
        stored_messages: "0: a fresh conversation per round; 20 and 100: one conversation seeded through the API (user turn ~25 words, 60-token answers), growing by 2 messages a round",
        end_of_reply_and_per_token: "ours: fresh-conversation rounds; reference: all rounds (it keeps no history)",
        per_token: "(first token → end of stream, minus the direct call's) / 299 tokens",
        baseline: "groq-sdk streaming straight from the Groq stand-in (separate process)",
        subject: "POST /conversations/{id}/messages/stream, local runtime (separate process, PGlite in memory)",
        reference: w.refUrl ? "AI SDK 6 streamText + @ai-sdk/groq 3, toUIMessageStreamResponse, on Hono 4 + @hono/node-server (separate process); no auth, no database" : "skipped",
        added_p99_ms: Object.fromEntries(STORED_LEVELS.map((l) => [`first_token_${l}_stored`, p99(diffs(byLevel[l]!, "ours", (t) => t.ttft))])),
      },
      metrics,
    };
  });
}

/** `n` streams at once; wall-clock from the first request to the last stream's end. */
async function burst(n: number, one: (i: number) => Promise<StreamTiming>): Promise<{ wallMs: number; errors: number; sample: string | undefined }> {
  const t0 = performance.now();
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
  const wallMs = performance.now() - t0;
  const bad = rs.filter((r) => !r.ok || r.tokens !== ISSUE_UPSTREAM.tokens);
  return { wallMs, errors: bad.length, sample: bad[0] && (bad[0].error ?? `${bad[0].tokens} tokens`) };
}

export function concurrentFigure(opts: BenchOptions, world: Promise<World>) {
  const n = opts.quick ? 10 : 100;
  return timed("7", `${n} concurrent streams, one conversation each (issue-15 upstream), vs direct`, async () => {
    const w = await world;
    const rounds = opts.quick ? 1 : 3;
    const whos: Who[] = w.refUrl ? ["direct", "ours", "ref"] : ["direct", "ours"];
    const client = groqClient(w.groqUrl);
    const runs: Record<Who, { wallMs: number; errors: number; sample: string | undefined }[]> = { direct: [], ours: [], ref: [] };
    for (let r = 0; r < rounds; r++) {
      const order = whos.map((_, k) => whos[(r + k) % whos.length]!);
      for (const who of order) {
        const conversations = who === "ours" ? await inBatches(Array.from({ length: n }), 8, () => createConversation(w.api, w.token)) : [];
        await w.groq.request("enqueue", { ...ISSUE_UPSTREAM, count: n } satisfies StreamScript);
        const run = () =>
          burst(n, (i) =>
            who === "direct"
              ? streamViaGroqSdk(client, PROMPT)
              : who === "ours"
                ? streamViaApp(w.api, conversations[i]!, w.token, PROMPT, { timeoutMs: 120_000 })
                : streamViaReference(w.refUrl!, PROMPT, { timeoutMs: 120_000 }),
          );
        // --profile: the app process during its own bursts only.
        runs[who].push(await (who === "ours" ? profiled(opts, w.app, `fig7-concurrent-app-round${r}`, run) : run()));
      }
    }
    const wall = (who: Who) => median(runs[who].map((x) => x.wallMs));
    const errors = (who: Who) => runs[who].reduce((a, x) => a + x.errors, 0);
    const metrics: Metric[] = [
      metric({ name: `${n} concurrent, wall-clock`, unit: "ms", value: wall("ours"), baseline: wall("direct"), show: "ratio", target: { of: "ratio", op: "<=", value: 1.2 } }),
      metric({ name: `${n} concurrent, errors`, unit: "", value: errors("ours"), target: { of: "value", op: "==", value: 0 } }),
    ];
    if (w.refUrl)
      metrics.push(
        metric({ name: `reference: ${n} concurrent, wall-clock`, unit: "ms", value: wall("ref"), baseline: wall("direct"), show: "ratio" }),
        metric({ name: `reference: ${n} concurrent, errors`, unit: "", value: errors("ref") }),
      );
    return {
      conditions: {
        streams: n,
        rounds,
        upstream: ISSUE_UPSTREAM,
        ideal_ms: ISSUE_UPSTREAM.firstTokenDelayMs + (ISSUE_UPSTREAM.tokens - 1) * ISSUE_UPSTREAM.gapMs,
        wall_ms_each_round: Object.fromEntries(whos.map((who) => [who, runs[who].map((x) => round(x.wallMs, 1))])),
        error_samples: Object.fromEntries(whos.map((who) => [who, runs[who].map((x) => x.sample).filter(Boolean)])),
        figure: "median wall-clock over rounds (first request → last stream's end), all clients in the bench process; ratio = ours / direct",
        target: "≤ 1.2 × the same run's direct wall-clock, 0 errors",
      },
      metrics,
    };
  });
}
