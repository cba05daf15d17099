// Figure 9: ours on the default start beside two gateways, in one run, against one upstream.
//
// Subjects, each a process of its own, all reading the same Groq stand-in (50 ms to the first token,
// then 300 tokens 1 ms apart):
// - direct: groq-sdk in the bench process (the baseline of every difference);
// - ours: `npm start` with its defaults (PGlite on disk under DATA_DIR, NODE_ENV=production);
// - ours with the other PGlite threading (PGLITE_THREAD), to show what the default is chosen from;
// - Portkey: the gateway from npm (`build/start-server.js --headless`, provider `groq`, custom host);
// - AI SDK: `streamText` on Hono (bench/reference-child.ts).
// Sequential: one conversation per subject growing over the rounds; each round runs every subject
// once, in an order that rotates; figures are medians of per-round differences to that round's direct
// call. Concurrent: N streams at once per subject (one conversation each for ours), wall-clock against
// N direct streams, with errors and, for ours, every reply read back complete through the API.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { call, createConversation, groqClient, inBatches, registerUser, streamViaApp, streamViaGroqSdk, streamViaPortkey, streamViaReference, type StreamTiming } from "../lib/client";
import { forkTs, type BenchChild } from "../lib/ipc";
import { metric, type Metric } from "../lib/report";
import { tokenText, type StreamScript } from "../lib/script";
import { startOurs, startPortkey, type OurServer, type ServerProcess } from "../lib/servers";
import { median, round } from "../lib/stats";
import { timed, type BenchOptions } from "./common";
import { ISSUE_UPSTREAM } from "./felt";

export const PROMPT = "Tell me about the history of the bicycle in three paragraphs.";
export const EXPECTED = Array.from({ length: ISSUE_UPSTREAM.tokens }, (_, i) => tokenText(i)).join("");

/** A way of getting one reply: `i` numbers the stream within a burst. */
export type Subject = {
  label: string;
  setup?: (n: number) => Promise<void>;
  stream: (i: number, timeoutMs: number) => Promise<StreamTiming>;
  stored?: () => Promise<number>;
  /** Ours: the conversation the rounds grow. */
  conversation?: () => string;
};

/**
 * What every start of ours shares beyond the defaults: the Groq stand-in as upstream, and no per-user
 * ceilings (budget, replies at once), because the bench opens every stream for one user where a
 * deployment would see them from many.
 */
export function ourSettings(groqUrl: string, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { NODE_ENV: "production", DATA_DIR: dataDir, GROQ_API_KEY: "gsk_bench", GROQ_BASE_URL: groqUrl, DAILY_TOKEN_BUDGET: "0", MAX_CONCURRENT_REPLIES: "0", ...extra };
}

/** Ours as a subject: its own user; one growing conversation for rounds, one per stream in bursts. */
export async function ourSubject(label: string, server: OurServer): Promise<Subject> {
  const token = await registerUser(server.api);
  let conversation: string | undefined;
  let burst: string[] = [];
  let checked: string[] = [];
  return {
    label,
    setup: async (n) => {
      if (n === 1) {
        conversation ??= await createConversation(server.api, token, "rounds");
        burst = [conversation];
        checked = [];
        return;
      }
      burst = await inBatches(Array.from({ length: n }), 8, () => createConversation(server.api, token));
      checked = burst;
    },
    stream: (i, timeoutMs) => streamViaApp(server.api, burst[i]!, token, PROMPT, { timeoutMs }),
    conversation: () => conversation!,
    // Each burst conversation's reply, complete and finished, read back through the API.
    stored: async () => {
      const ok = await inBatches(checked, 16, async (id) => {
        const r = await call(server.api, "GET", `/conversations/${id}/messages`, { token });
        const data = (r.body?.data ?? []) as { role: string; content: string; finish_reason: string | null }[];
        return r.status === 200 && data.some((m) => m.role === "assistant" && m.finish_reason === "end_turn" && m.content === EXPECTED);
      });
      return ok.filter(Boolean).length;
    },
  };
}

export interface Measured {
  /** Per subject label, one timing per round (same index = same round). */
  rounds: Record<string, StreamTiming[]>;
  /** Per subject label, one entry per burst. */
  bursts: Record<string, { wallMs: number; errors: number; stored: number | null; sample?: string }[]>;
}

function check(label: string, t: StreamTiming) {
  if (!t.ok || t.tokens !== ISSUE_UPSTREAM.tokens) throw new Error(`${label} stream failed (${t.tokens}/${ISSUE_UPSTREAM.tokens} tokens): ${t.error ?? "wrong token count"}`);
}

/** Rounds: every subject once per round, rotating order; warm-up rounds are discarded. */
export async function measureRounds(groq: BenchChild, subjects: Subject[], n: number, warmup: number, after?: (label: string, t: StreamTiming) => Promise<void>): Promise<Record<string, StreamTiming[]>> {
  const out: Record<string, StreamTiming[]> = Object.fromEntries(subjects.map((s) => [s.label, []]));
  for (const s of subjects) await s.setup?.(1);
  for (let i = 0; i < warmup + n; i++) {
    await groq.request("enqueue", { ...ISSUE_UPSTREAM, count: subjects.length } satisfies StreamScript);
    // Every subject takes every place in turn; the next cycle runs reversed (who follows whom changes too).
    const order = subjects.map((_, k) => subjects[(i + k) % subjects.length]!);
    if (Math.floor(i / subjects.length) % 2) order.reverse();
    for (const s of order) {
      const t = await s.stream(0, 60_000);
      check(s.label, t);
      if (i >= warmup) {
        out[s.label]!.push(t);
        await after?.(s.label, t);
      }
    }
  }
  return out;
}

/** Bursts of `n` streams at once per subject, `rounds` times, rotating which subject goes first. */
export async function measureBursts(groq: BenchChild, subjects: Subject[], n: number, rounds: number): Promise<Measured["bursts"]> {
  const out: Measured["bursts"] = Object.fromEntries(subjects.map((s) => [s.label, []]));
  for (let r = 0; r < rounds; r++) {
    for (const s of subjects.map((_, k) => subjects[(r + k) % subjects.length]!)) {
      await s.setup?.(n);
      await groq.request("enqueue", { ...ISSUE_UPSTREAM, count: n } satisfies StreamScript);
      const t0 = performance.now();
      const rs = await Promise.all(Array.from({ length: n }, (_, i) => s.stream(i, 120_000)));
      const wallMs = performance.now() - t0;
      const bad = rs.filter((x) => !x.ok || x.tokens !== ISSUE_UPSTREAM.tokens);
      const stored = s.stored ? await s.stored() : null;
      out[s.label]!.push({ wallMs, errors: bad.length, stored, ...(bad[0] ? { sample: bad[0].error ?? `${bad[0].tokens} tokens` } : {}) });
    }
  }
  return out;
}

export const added = (rs: Record<string, StreamTiming[]>, label: string, f: (t: StreamTiming) => number) => median(rs[label]!.map((t, i) => f(t) - f(rs.direct![i]!)));
export const burstWall = (b: Measured["bursts"], label: string) => median(b[label]!.map((x) => x.wallMs));
export const burstErrors = (b: Measured["bursts"], label: string) => b[label]!.reduce((a, x) => a + x.errors, 0);
export const burstStored = (b: Measured["bursts"], label: string) => b[label]!.reduce((a, x) => a + (x.stored ?? 0), 0);

export function directSubject(groqUrl: string): Subject {
  const client = groqClient(groqUrl);
  return { label: "direct", stream: () => streamViaGroqSdk(client, PROMPT) };
}

/** The PGlite threading the default start (a database on disk) uses when PGLITE_THREAD is unset, and its opposite. */
export async function threadingOf(): Promise<{ defaultOn: boolean; alternative: string }> {
  const { pgliteThreadDefault } = await import("@conversation-api/store");
  const on = pgliteThreadDefault(true);
  return { defaultOn: on, alternative: on ? "0" : "1" };
}

export function peersFigure(opts: BenchOptions) {
  const n = opts.quick ? 10 : 100;
  return timed("9", `Peers in one run: ours on the default start, Portkey, AI SDK (issue upstream, ${n} concurrent)`, async () => {
    const { defaultOn, alternative } = await threadingOf();
    const altLabel = `ours, PGLITE_THREAD=${alternative}`;
    const groq = forkTs("groq-child.ts");
    const groqUrl = (await groq.ready) as string;
    const dirs = [mkdtempSync(join(tmpdir(), "bench-ours-")), mkdtempSync(join(tmpdir(), "bench-ours-alt-"))];
    const servers: ServerProcess[] = [];
    let ref: BenchChild | undefined;
    try {
      // One at a time: each start migrates a fresh database, which is the busiest thing either does.
      const ours = await startOurs(ourSettings(groqUrl, dirs[0]!));
      servers.push(ours);
      const alt = await startOurs(ourSettings(groqUrl, dirs[1]!, { PGLITE_THREAD: alternative }));
      servers.push(alt);
      const portkey = await startPortkey();
      servers.push(portkey);
      ref = forkTs("reference-child.ts", { env: { GROQ_BASE_URL: groqUrl } });
      const refUrl = (await ref.ready) as string;
      const subjects: Subject[] = [
        directSubject(groqUrl),
        await ourSubject("ours", ours),
        await ourSubject(altLabel, alt),
        { label: "Portkey", stream: (_, timeoutMs) => streamViaPortkey(portkey.url, groqUrl, PROMPT, { timeoutMs }) },
        { label: "AI SDK", stream: (_, timeoutMs) => streamViaReference(refUrl, PROMPT, { timeoutMs }) },
      ];
      const roundsN = opts.quick ? 3 : 15;
      const warmup = opts.quick ? 1 : 3;
      opts.log(`figure 9: ${roundsN} rounds × ${subjects.length} subjects`);
      const rs = await measureRounds(groq, subjects, roundsN, warmup);
      const burstRounds = opts.quick ? 1 : 3;
      opts.log(`figure 9: ${burstRounds} × ${n} concurrent streams per subject`);
      const bs = await measureBursts(groq, subjects, n, burstRounds);

      const ttft = (label: string) => added(rs, label, (t) => t.ttft);
      const end = (label: string) => added(rs, label, (t) => t.total);
      const ratio = (label: string) => burstWall(bs, label) / burstWall(bs, "direct");
      const peers = ["Portkey", "AI SDK"];
      const bestPeerTtft = Math.min(...peers.map(ttft));
      const metrics: Metric[] = [];
      const firstTokenTarget = Math.min(5, bestPeerTtft);
      const endTarget = Math.min(3, end("Portkey"));
      const concurrentTarget = Math.min(1.5, ratio("Portkey"));
      for (const label of ["ours", altLabel]) {
        const main = label === "ours";
        metrics.push(
          metric({ name: `${label}: first token added p50`, unit: "ms", value: median(rs[label]!.map((x) => x.ttft)), baseline: median(rs.direct!.map((x) => x.ttft)), added: ttft(label), show: "added", target: main ? { of: "added", op: "<=", value: round(firstTokenTarget, 2) } : null, ...(main ? { aim: "+5 ms and ahead of both peers" } : {}) }),
          metric({ name: `${label}: end of reply added p50`, unit: "ms", value: median(rs[label]!.map((x) => x.total)), baseline: median(rs.direct!.map((x) => x.total)), added: end(label), show: "added", target: main ? { of: "added", op: "<=", value: round(endTarget, 2) } : null, ...(main ? { aim: "+3 ms and Portkey's" } : {}) }),
          metric({ name: `${label}: ${n} concurrent vs direct`, unit: "ms", value: burstWall(bs, label), baseline: burstWall(bs, "direct"), show: "ratio", target: main ? { of: "ratio", op: "<=", value: round(concurrentTarget, 3) } : null, ...(main ? { aim: "1.5× and Portkey's" } : {}) }),
          metric({ name: `${label}: ${n} concurrent, errors`, unit: "", value: burstErrors(bs, label), target: main ? { of: "value", op: "==", value: 0 } : null }),
          metric({ name: `${label}: ${n} concurrent, replies stored`, unit: "", value: burstStored(bs, label), baseline: n * burstRounds, show: "ratio", target: main ? { of: "value", op: "==", value: n * burstRounds } : null }),
        );
      }
      for (const label of peers) {
        metrics.push(
          metric({ name: `${label}: first token added p50`, unit: "ms", value: median(rs[label]!.map((x) => x.ttft)), baseline: median(rs.direct!.map((x) => x.ttft)), added: ttft(label), show: "added" }),
          metric({ name: `${label}: end of reply added p50`, unit: "ms", value: median(rs[label]!.map((x) => x.total)), baseline: median(rs.direct!.map((x) => x.total)), added: end(label), show: "added" }),
          metric({ name: `${label}: ${n} concurrent vs direct`, unit: "ms", value: burstWall(bs, label), baseline: burstWall(bs, "direct"), show: "ratio" }),
          metric({ name: `${label}: ${n} concurrent, errors`, unit: "", value: burstErrors(bs, label) }),
        );
      }
      const perRound = (label: string, f: (t: StreamTiming) => number) => rs[label]!.map((t, i) => round(f(t) - f(rs.direct![i]!), 2));
      return {
        conditions: {
          upstream: { first_token_delay_ms: ISSUE_UPSTREAM.firstTokenDelayMs, tokens: ISSUE_UPSTREAM.tokens, inter_token_gap_ms: ISSUE_UPSTREAM.gapMs },
          rounds: roundsN,
          warmup_rounds: warmup,
          method: "one conversation per subject growing over the rounds; each round runs every subject once, order rotating; added = median of per-round differences to that round's direct call",
          concurrent: `${n} streams at once per subject (ours: one conversation each), ${burstRounds} round(s), median wall-clock / direct's; stored = replies read back complete through the API`,
          ours: "npm start (the npm CLI and the start script), NODE_ENV=production, PGlite on disk in a temp DATA_DIR, DAILY_TOKEN_BUDGET=0 and MAX_CONCURRENT_REPLIES=0 (one user opens every stream)",
          pglite_thread_default: defaultOn,
          portkey: "@portkey-ai/gateway 1.15.2, build/start-server.js --headless, x-portkey-provider: groq, x-portkey-custom-host: the stand-in",
          ai_sdk: "AI SDK 6 streamText + @ai-sdk/groq, toUIMessageStreamResponse, on Hono + @hono/node-server",
          first_token_added_each_round_ms: Object.fromEntries(subjects.slice(1).map((s) => [s.label, perRound(s.label, (t) => t.ttft)])),
          end_added_each_round_ms: Object.fromEntries(subjects.slice(1).map((s) => [s.label, perRound(s.label, (t) => t.total)])),
          concurrent_wall_ms_each_round: Object.fromEntries(subjects.map((s) => [s.label, bs[s.label]!.map((x) => round(x.wallMs, 1))])),
          error_samples: Object.fromEntries(subjects.map((s) => [s.label, bs[s.label]!.map((x) => x.sample).filter(Boolean)])),
        },
        metrics,
      };
    } finally {
      await Promise.all([...servers.map((s) => s.stop()), ref?.stop()]);
      await groq.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
}
