// `tsx bench/check-results.ts FILE [--only 1,4]`: checks the JSON a bench run wrote (`--out`): every
// figure asked for is there, measured, with finite numbers, the names and targets the issue asks for.
// No timing is judged: figures are for people comparing runs, not for a shared machine to fail on.
// CI runs it on the quick bench's output (.ci/run); tests/bench/check-results.test.ts checks it.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { FIGURE_IDS, type BenchResults, type FigureId, type Target } from "./lib/report";

/** Metric names each figure must have. */
const NAMES: Record<FigureId, string[]> = {
  "1": ["TTFT p50", "TTFT p99"],
  "2": ["per-token added p50", "per-token added p99"],
  "3": ["errors", "completed replies stored", "peak RSS", "memory per stream"],
  "4": ["GET /conversations throughput (PGlite)", "GET /conversations latency p99", "POST /conversations throughput"],
  "5": ["bundle messages-stream", "cold start + 1 invocation p50", "stream function duration per reply p50 (warm)", "stream function peak memory"],
  "6": [
    "first token, 0 stored messages p50",
    "first token, 20 stored messages p50",
    "first token, 100 stored messages p50",
    "end of 300-token reply p50",
    "per token, streaming phase p50",
    "reference: first token p50",
    "reference: end of 300-token reply p50",
    "reference: per token, streaming phase p50",
  ],
  "7": ["10 concurrent, wall-clock", "10 concurrent, errors", "reference: 10 concurrent, wall-clock"],
  "8": ["GET /conversations throughput (PostgreSQL)"],
  // The peers in the same run: ours on the default start, Portkey, the AI SDK.
  "9": ["ours", "Portkey", "AI SDK"].flatMap((who) => [
    `${who}: first token added p50`,
    `${who}: end of reply added p50`,
    `${who}: 10 concurrent vs direct`,
    `${who}: 10 concurrent, errors`,
  ]).concat(["ours: 10 concurrent, replies stored"]),
  "10": [
    "local PostgreSQL: first token added p50",
    "PostgreSQL 4 ms away: first token added p50",
    "PostgreSQL 4 ms away: end of reply added p50",
    "PostgreSQL 4 ms away: reply stored after end of stream, max",
  ],
  "11": ["native: per token"],
};

/** Figures that need PostgreSQL's binaries, so may be skipped where they are missing. */
const NEEDS_POSTGRES: readonly FigureId[] = ["8", "10"];

/** The targets, as the table judges them. */
const TARGETS: [FigureId, string, Target][] = [
  ["1", "TTFT p50", { of: "added", op: "<=", value: 1 }],
  ["6", "first token, 100 stored messages p50", { of: "added", op: "<=", value: 2 }],
  ["6", "end of 300-token reply p50", { of: "added", op: "<=", value: 2 }],
  ["7", "10 concurrent, wall-clock", { of: "ratio", op: "<=", value: 1.2 }],
  ["4", "GET /conversations throughput (PGlite)", { of: "value", op: ">=", value: 2000 }],
  ["5", "bundle messages-stream", { of: "value", op: "<=", value: 300 }],
  ["5", "cold start + 1 invocation p50", { of: "value", op: "<=", value: 120 }],
];

/** What is wrong with `results` for a `mode` run of the figures `only` (none: the results are sound). */
export function resultProblems(results: BenchResults, mode: BenchResults["mode"], only: readonly FigureId[] = FIGURE_IDS): string[] {
  const problems: string[] = [];
  if (results.schema !== 1) problems.push(`schema is ${String(results.schema)}, not 1`);
  if (results.mode !== mode) problems.push(`mode is ${String(results.mode)}, not ${mode}`);
  if (!(results.machine?.nproc > 0)) problems.push("machine.nproc is missing");
  if (!results.machine?.node) problems.push("machine.node is missing");
  const present = Object.keys(results.figures ?? {}).sort();
  if (present.join() !== [...only].sort().join()) problems.push(`figures are [${present}], not [${[...only].sort()}]`);
  for (const id of only) {
    const figure = results.figures?.[id];
    if (!figure) continue;
    if (figure.error !== undefined) problems.push(`figure ${id} failed: ${figure.error}`);
    // Only the PostgreSQL figures may be skipped (where the binaries are missing).
    if (figure.skipped !== undefined) {
      if (!NEEDS_POSTGRES.includes(id)) problems.push(`figure ${id} was skipped: ${figure.skipped}`);
      continue;
    }
    if (!figure.metrics?.length) {
      problems.push(`figure ${id} has no metrics`);
      continue;
    }
    for (const m of figure.metrics) {
      const what = `figure ${id}: ${m.name}`;
      if (!Number.isFinite(m.value)) problems.push(`${what}: value ${m.value} is not a finite number`);
      for (const [k, x] of [["baseline", m.baseline], ["added", m.added], ["ratio", m.ratio]] as const)
        if (x !== null && !Number.isFinite(x)) problems.push(`${what}: ${k} ${x} is not a finite number`);
      if (!["pass", "fail", "info"].includes(m.status)) problems.push(`${what}: status ${m.status}`);
    }
    const names = new Set(figure.metrics.map((m) => m.name));
    for (const name of NAMES[id]) if (!names.has(name)) problems.push(`figure ${id} lacks "${name}"`);
  }
  for (const [id, name, target] of TARGETS) {
    const m = results.figures?.[id]?.metrics?.find((x) => x.name === name);
    if (m && JSON.stringify(m.target) !== JSON.stringify(target)) problems.push(`figure ${id}: ${name}: target ${JSON.stringify(m.target)}, not ${JSON.stringify(target)}`);
  }
  // Same-run targets: the bound is the stricter of the absolute one and the peer's figure.
  const peers = results.figures?.["9"]?.metrics;
  const peer = (name: string) => peers?.find((m) => m.name === name);
  for (const [ours, portkey, of, bound] of [
    ["ours: end of reply added p50", "Portkey: end of reply added p50", "added", 3],
    ["ours: 10 concurrent vs direct", "Portkey: 10 concurrent vs direct", "ratio", 1.5],
  ] as const) {
    const m = peer(ours);
    const p = peer(portkey)?.[of];
    if (!m || p === undefined || p === null) continue;
    const want = Math.min(bound, p);
    if (!m.target || m.target.of !== of || Math.abs(m.target.value - want) > 0.05 * Math.max(1, want))
      problems.push(`figure 9: ${ours}: target ${JSON.stringify(m.target)}, not ${of} <= ${want} (the stricter of ${bound} and Portkey's)`);
  }
  // First token: ahead of both peers, and within the absolute bound.
  const first = peer("ours: first token added p50");
  const peerFirst = ["Portkey", "AI SDK"].map((who) => peer(`${who}: first token added p50`)?.added);
  if (first && peerFirst.every((x) => typeof x === "number")) {
    const want = Math.min(5, ...(peerFirst as number[]));
    if (!first.target || first.target.of !== "added" || Math.abs(first.target.value - want) > 0.05 * Math.max(1, want))
      problems.push(`figure 9: ours: first token added p50: target ${JSON.stringify(first.target)}, not added <= ${want} (the stricter of 5 and both peers')`);
  }
  return problems;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { only: { type: "string" }, mode: { type: "string", default: "quick" } } });
  const file = positionals[0];
  if (!file) {
    console.error("usage: tsx bench/check-results.ts FILE [--mode quick|full] [--only 1,4]");
    process.exit(2);
  }
  const only = values.only ? (values.only.split(",").map((s) => s.trim()) as FigureId[]) : FIGURE_IDS;
  const problems = resultProblems(JSON.parse(readFileSync(file, "utf8")) as BenchResults, values.mode as BenchResults["mode"], only);
  for (const p of problems) console.error(`bench results: ${p}`);
  if (problems.length) process.exit(1);
  console.log(`bench results: ${file} has every figure asked for`);
}
