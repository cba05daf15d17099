// The bench's output: one row per measured number, grouped by figure, printed as a table and written
// as JSON so runs (and versions) can be compared.
import { cpus, totalmem } from "node:os";
import { fmt, round } from "./stats";

export type FigureId = "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "10" | "11";
export const FIGURE_IDS: readonly FigureId[] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"];

export type Status = "pass" | "fail" | "info";

export interface Target {
  /** Which number the target applies to: the subject's own value, what it adds to the baseline, or value / baseline. */
  of: "value" | "added" | "ratio";
  op: "<=" | ">=" | "==";
  value: number;
}

export interface Metric {
  name: string;
  unit: string;
  /** The subject's number. */
  value: number;
  /** The same number for the baseline measured in the same run, when there is one. */
  baseline: number | null;
  /** value − baseline (latencies, sizes). */
  added: number | null;
  /** value / baseline (throughput, latency). */
  ratio: number | null;
  /** Which of added / ratio the table shows. */
  show: "added" | "ratio" | null;
  target: Target | null;
  status: Status;
  /** Optional internal aim, shown next to the target. */
  aim?: string;
}

export interface FigureResult {
  id: FigureId;
  title: string;
  /** How the figure was measured: sample counts, delays, sizes, what the baseline was. */
  conditions: Record<string, unknown>;
  metrics: Metric[];
  /** Set when the figure could not be measured (its metrics are then missing). */
  error?: string;
  /** Set when the figure was deliberately not measured (e.g. no PostgreSQL binaries): why. */
  skipped?: string;
  durationMs: number;
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  node: string;
  platform: string;
  totalMemoryMiB: number;
}

export interface BenchResults {
  schema: 1;
  mode: "quick" | "full";
  startedAt: string;
  durationMs: number;
  machine: Machine;
  figures: Partial<Record<FigureId, FigureResult>>;
}

export function machine(): Machine {
  return {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    totalMemoryMiB: Math.round(totalmem() / 2 ** 20),
  };
}

export interface MetricInput {
  name: string;
  unit: string;
  value: number;
  baseline?: number | null;
  show?: "added" | "ratio" | null;
  target?: Target | null;
  aim?: string;
  /** Overrides the added value (e.g. a median of paired differences rather than a difference of medians). */
  added?: number | null;
}

export function metric(m: MetricInput): Metric {
  const baseline = m.baseline ?? null;
  const added = m.added !== undefined ? m.added : baseline === null ? null : m.value - baseline;
  const ratio = baseline === null || baseline === 0 ? null : m.value / baseline;
  const target = m.target ?? null;
  let status: Status = "info";
  if (target) {
    const x = target.of === "added" ? added : target.of === "ratio" ? ratio : m.value;
    const ok =
      x !== null &&
      Number.isFinite(x) &&
      (target.op === "<=" ? x <= target.value : target.op === ">=" ? x >= target.value : x === target.value);
    status = ok ? "pass" : "fail";
  }
  return {
    name: m.name,
    unit: m.unit,
    value: round(m.value, 4),
    baseline: baseline === null ? null : round(baseline, 4),
    added: added === null ? null : round(added, 4),
    ratio: ratio === null ? null : round(ratio, 4),
    show: m.show ?? (added !== null ? "added" : null),
    target,
    status,
    ...(m.aim ? { aim: m.aim } : {}),
  };
}

const opText = (op: Target["op"]) => (op === "==" ? "=" : op === "<=" ? "≤" : "≥");
const targetText = (m: Metric) => {
  if (!m.target) return m.aim ? `(aim ${m.aim})` : "—";
  const t = m.target;
  const text = t.of === "ratio" ? `${opText(t.op)} ${fmt(t.value, "", 2)}× baseline` : `${t.of === "added" ? "added " : ""}${opText(t.op)} ${fmt(t.value, m.unit)}`;
  return `${text}${m.aim ? ` (aim ${m.aim})` : ""}`;
};

const compareText = (m: Metric) => {
  if (m.show === "ratio" && m.ratio !== null) return `${fmt(m.ratio, "", 2)}×`;
  if (m.show === "added" && m.added !== null) return `${m.added >= 0 ? "+" : ""}${fmt(m.added, m.unit)}`;
  return "—";
};

const verdict = (m: Metric) => (m.status === "pass" ? "met" : m.status === "fail" ? "MISSED" : "—");

/** The one table: figure, value, baseline, ratio/added, target, pass/fail. */
export function renderTable(results: BenchResults): string {
  const rows: string[][] = [["figure", "value", "baseline", "ratio/added", "target", "verdict"]];
  for (const id of FIGURE_IDS) {
    const f = results.figures[id];
    if (!f) continue;
    if (f.error) rows.push([`${id}. ${f.title}`, "ERROR", "—", "—", "—", "error"]);
    if (f.skipped) rows.push([`${id}. ${f.title}`, "skipped", "—", "—", "—", "skipped"]);
    for (const m of f.metrics) {
      rows.push([`${id}. ${m.name}`, fmt(m.value, m.unit), m.baseline === null ? "—" : fmt(m.baseline, m.unit), compareText(m), targetText(m), verdict(m)]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...r[c]!].length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  const sep = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join("\n");
}

export function renderConditions(results: BenchResults): string {
  const m = results.machine;
  const out = [`machine: ${m.nproc} cores, ${m.cpuModel}, ${m.totalMemoryMiB} MiB, node ${m.node} (${m.platform}); mode ${results.mode}; ${fmt(results.durationMs / 1000, "s", 1)} total`];
  for (const id of FIGURE_IDS) {
    const f = results.figures[id];
    if (!f) continue;
    out.push(`${id}. ${f.title} (${fmt(f.durationMs / 1000, "s", 1)}): ${JSON.stringify(f.conditions)}`);
    if (f.error) out.push(`   error: ${f.error}`);
    if (f.skipped) out.push(`   skipped: ${f.skipped}`);
  }
  return out.join("\n");
}
