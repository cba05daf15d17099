// Figure 11: what each wire format's encoder costs per token, against our native SSE encoder, in the
// bench process (CPU-bound, no I/O). Every encoder in packages/functions/src/wire/encoders.ts is
// measured, whatever formats it holds. One reply = message_start, 300 text deltas of a short word each
// (as the issue upstream sends), then the closing events, produced by core's ReplyEvents exactly as the
// reply loop produces them; the encoded text is kept (its length summed) so nothing is optimised
// away. Rounds interleave the encoders; the figure is the median over rounds of µs per token.
import { ReplyEvents } from "@conversation-api/core";
import { encoders, type EncoderFactory } from "../../packages/functions/src/wire/encoders";
import { metric, type Metric } from "../lib/report";
import { tokenText } from "../lib/script";
import { median, round } from "../lib/stats";
import { timed, type BenchOptions } from "./common";

const TOKENS = 300;

function replies(factory: EncoderFactory, count: number): number {
  let bytes = 0;
  for (let r = 0; r < count; r++) {
    const encode = factory();
    const events = new ReplyEvents((e) => void (bytes += encode(e).length));
    events.start({ id: "00000000-0000-4000-8000-000000000000", conversation_id: "00000000-0000-4000-8000-000000000001", model: "llama-3.1-8b-instant", input_tokens: 12 });
    for (let i = 0; i < TOKENS; i++) events.text(tokenText(i));
    events.finish("end_turn", TOKENS);
  }
  return bytes;
}

export function encodingFigure(opts: BenchOptions) {
  return timed("11", "Encoding: µs per token of each wire format's encoder vs native (in-process)", async () => {
    const names = Object.keys(encoders);
    if (!names.includes("native")) throw new Error("wire/encoders.ts has no `native` encoder");
    const perRound = opts.quick ? 50 : 400;
    const rounds = opts.quick ? 5 : 15;
    const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    const bytes: Record<string, number> = {};
    // Warm-up: every encoder compiled and optimised before anything is timed.
    for (const name of names) replies(encoders[name]!, perRound);
    for (let k = 0; k < rounds; k++) {
      for (const name of names.map((_, i) => names[(k + i) % names.length]!)) {
        const t0 = performance.now();
        bytes[name] = replies(encoders[name]!, perRound);
        samples[name]!.push(((performance.now() - t0) * 1000) / (perRound * TOKENS));
      }
    }
    const native = median(samples.native!);
    const metrics: Metric[] = [metric({ name: "native: per token", unit: "µs", value: native })];
    for (const name of names.filter((n) => n !== "native")) {
      metrics.push(metric({ name: `${name}: per token`, unit: "µs", value: median(samples[name]!), baseline: native, show: "added", target: { of: "added", op: "<=", value: 2 } }));
    }
    return {
      conditions: {
        encoders: names,
        reply: `message_start, ${TOKENS} text deltas, closing events (core's ReplyEvents)`,
        replies_per_round: perRound,
        rounds,
        bytes_per_reply: Object.fromEntries(names.map((n) => [n, Math.round(bytes[n]! / perRound)])),
        per_token_us_each_round: Object.fromEntries(names.map((n) => [n, samples[n]!.map((x) => round(x, 3))])),
        includes: "the reply's event production (ReplyEvents) and the encoder; the same production for every encoder, so the difference is the encoder's",
      },
      metrics,
    };
  });
}
