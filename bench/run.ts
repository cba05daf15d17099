// `npm run bench [-- --quick] [-- --concurrency N] [-- --only 1,4] [-- --out FILE] [-- --profile] [-- --no-reference]`
//
// Measures the stream path, concurrency, handler throughput and cold start, each against a baseline
// measured in the same run (machines are shared and noisy, so ratios and differences are what compare
// across runs). Prints one table and writes the same numbers as JSON (default .bench/results.json,
// .bench/results-quick.json for --quick). Everything runs on 127.0.0.1 and stops by itself.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { coldStartFigure } from "./figures/cold-start";
import type { BenchOptions } from "./figures/common";
import { concurrencyFigure } from "./figures/concurrency";
import { startStreamApp, streamFigures } from "./figures/stream";
import { concurrentFigure, feltFigure, startWorld, worldFrom } from "./figures/felt";
import { listOnPostgresFigure, throughputFigure } from "./figures/throughput";
import { peersFigure } from "./figures/peers";
import { remoteDatabaseFigure } from "./figures/remote-db";
import { encodingFigure } from "./figures/encoding";
import { FIGURE_IDS, machine, renderConditions, renderTable, type BenchResults, type FigureId } from "./lib/report";

export type { BenchResults, FigureResult, Metric } from "./lib/report";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    concurrency: { type: "string" },
    only: { type: "string" },
    out: { type: "string" },
    profile: { type: "boolean", default: false },
    "no-reference": { type: "boolean", default: false },
    strict: { type: "boolean", default: false },
  },
});

const quick = values.quick ?? false;
const concurrency = Number(values.concurrency ?? (quick ? 50 : 1000));
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000) throw new Error("--concurrency must be an integer in 1..10000");
const only = new Set((values.only ?? FIGURE_IDS.join(",")).split(",").map((s) => s.trim()) as FigureId[]);
const out = resolve(values.out ?? (quick ? ".bench/results-quick.json" : ".bench/results.json"));

// Bounded: whatever happens, the bench ends (children are killed on exit).
const deadlineMs = quick ? 420_000 : 1_800_000;
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${deadlineMs / 1000} s; giving up`);
  process.exit(2);
}, deadlineMs);
watchdog.unref();

const log = (line: string) => console.error(`bench: ${line}`);
const opts: BenchOptions = { quick, concurrency, profile: values.profile ?? false, log };

const t0 = performance.now();
const results: BenchResults = { schema: 1, mode: quick ? "quick" : "full", startedAt: new Date().toISOString(), durationMs: 0, machine: machine(), figures: {} };

// Figures 1–2 share one app process. Quick mode lets figures 3 and 4 reuse it too (an app process takes
// ~3 s to start); the full run gives each of them a fresh one.
const needApp = only.has("1") || only.has("2") || (quick && ["3", "4", "6", "7"].some((id) => only.has(id as FigureId)));
const streamApp = needApp ? startStreamApp(opts) : undefined;
streamApp?.catch(() => {});
const shared = quick ? streamApp : undefined;
try {
  if (streamApp && (only.has("1") || only.has("2"))) {
    log("figures 1–2: stream overhead");
    const [f1, f2] = await streamFigures(opts, streamApp);
    if (only.has("1")) results.figures["1"] = f1;
    if (only.has("2")) results.figures["2"] = f2;
  }
  if (!quick) await streamApp?.then((s) => s.stop()).catch(() => {});
  if (only.has("3")) {
    log(`figure 3: ${concurrency} concurrent streams`);
    results.figures["3"] = await concurrencyFigure(opts, shared);
  }
  if (only.has("4")) {
    log("figure 4: handler throughput");
    results.figures["4"] = await throughputFigure(opts, shared);
  }
  if (only.has("6") || only.has("7")) {
    // Quick mode keeps the figures 1–4 app; the full run gives figures 6–7 fresh processes.
    const withReference = !values["no-reference"];
    const world = shared ? worldFrom(opts, shared, withReference) : startWorld(opts, "fig6-7", withReference);
    world.catch(() => {});
    try {
      if (only.has("6")) {
        log("figure 6: first token vs stored messages, end of reply, per token (with the AI SDK reference)");
        results.figures["6"] = await feltFigure(opts, world);
      }
      if (only.has("7")) {
        log("figure 7: concurrent streams vs direct (with the AI SDK reference)");
        results.figures["7"] = await concurrentFigure(opts, world);
      }
    } finally {
      await world.then((w) => w.stop()).catch(() => {});
    }
  }
} finally {
  await streamApp?.then((s) => s.stop()).catch(() => {});
}
if (only.has("11")) {
  log("figure 11: encoders per token");
  results.figures["11"] = await encodingFigure(opts);
}
if (only.has("9")) {
  log("figure 9: peers on the default start (Portkey, AI SDK)");
  results.figures["9"] = await peersFigure(opts);
}
if (only.has("10")) {
  log("figure 10: the database across a network");
  results.figures["10"] = await remoteDatabaseFigure(opts);
}
if (only.has("8")) {
  log("figure 8: GET /conversations on PostgreSQL");
  results.figures["8"] = await listOnPostgresFigure(opts);
}
if (only.has("5")) {
  log("figure 5: bundles and cold start");
  results.figures["5"] = await coldStartFigure(opts);
}
results.durationMs = Math.round(performance.now() - t0);

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
console.log(renderTable(results));
console.log();
console.log(renderConditions(results));
console.log(`\nresults: ${out}`);

const figures = Object.values(results.figures);
const errored = figures.some((f) => f.error);
const failed = figures.some((f) => f.metrics.some((m) => m.status === "fail"));
process.exit(errored ? 1 : values.strict && failed ? 3 : 0);
