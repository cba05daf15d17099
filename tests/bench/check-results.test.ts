// bench/check-results.ts, which checks the JSON of CI's quick bench (a step of its own in .ci/run, which
// runs the bench end to end): what it accepts and what it must reject. No timing assertions.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { resultProblems } from "../../bench/check-results";
import type { Metric, Target } from "../../bench/lib/report";
import type { BenchResults } from "../../bench/run";
// Type-only, so the type check also covers the processes the bench starts (they are entry points).
import type * as _appChild from "../../bench/app-child";
import type * as _groqChild from "../../bench/groq-child";
import type * as _baselineServer from "../../bench/baseline-server";
import type * as _coldChild from "../../bench/cold-child";
import type * as _profileSummary from "../../bench/profile-summary";
import type * as _referenceChild from "../../bench/reference-child";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "bench-check-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: ROOT, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    // Only guards against a wedged child.
    const timer = setTimeout(() => child.kill("SIGKILL"), 100_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const metric = (name: string, value: number, target: Target | null = null): Metric => ({
  name,
  unit: "ms",
  value,
  baseline: null,
  added: null,
  ratio: null,
  show: null,
  target,
  status: "info",
});
const sound = (): BenchResults => ({
  schema: 1,
  mode: "quick",
  startedAt: new Date(0).toISOString(),
  durationMs: 1,
  machine: { nproc: 2, cpuModel: "x", node: process.version, platform: "linux", totalMemoryMiB: 1 },
  figures: {
    "2": { id: "2", title: "t", conditions: {}, durationMs: 1, metrics: [metric("per-token added p50", 1), metric("per-token added p99", 2)] },
    "8": { id: "8", title: "t", conditions: {}, durationMs: 1, metrics: [], skipped: "no PostgreSQL" },
  },
});

// The checker as CI runs it (a process, its exit code and what it prints), on the results of a quick run
// of figures 1 and 2 as the bench writes them.
describe("bench/check-results.ts", () => {
  it("accepts a sound file, and rejects it as a run of every figure", { timeout: 120_000 }, async () => {
    const out = join(dir, "results.json");
    const results = sound();
    delete results.figures["8"];
    results.figures["1"] = { id: "1", title: "t", conditions: {}, durationMs: 1, metrics: [metric("TTFT p50", 1, { of: "added", op: "<=", value: 1 }), metric("TTFT p99", 2)] };
    writeFileSync(out, JSON.stringify(results));
    const [ok, bad] = await Promise.all([run(["bench/check-results.ts", out, "--only", "1,2"]), run(["bench/check-results.ts", out])]);
    expect(ok.code, ok.output).toBe(0);
    expect(bad.code).toBe(1);
    expect(bad.output).toContain("figures are [1,2], not [1,10,11,2,3,4,5,6,7,8,9]");
  });
});

describe("resultProblems", () => {
  it("passes sound results (the PostgreSQL figure may be skipped)", () => {
    expect(resultProblems(sound(), "quick", ["2", "8"])).toEqual([]);
  });

  it("names each fault: a missing metric, a number that is not finite, a failed or skipped figure, a wrong target", () => {
    const r = sound();
    r.figures["2"]!.metrics = [metric("per-token added p50", Number.NaN)];
    r.figures["3"] = { id: "3", title: "t", conditions: {}, durationMs: 1, metrics: [], error: "boom" };
    r.figures["4"] = { id: "4", title: "t", conditions: {}, durationMs: 1, metrics: [], skipped: "why" };
    r.figures["1"] = { id: "1", title: "t", conditions: {}, durationMs: 1, metrics: [metric("TTFT p50", 1, { of: "added", op: "<=", value: 5 }), metric("TTFT p99", 1)] };
    expect(resultProblems(r, "full", ["1", "2", "3", "4", "8"])).toEqual([
      "mode is quick, not full",
      "figure 2: per-token added p50: value NaN is not a finite number",
      'figure 2 lacks "per-token added p99"',
      "figure 3 failed: boom",
      "figure 3 has no metrics",
      "figure 4 was skipped: why",
      'figure 1: TTFT p50: target {"of":"added","op":"<=","value":5}, not {"of":"added","op":"<=","value":1}',
    ]);
  });
  it("holds ours to the stricter of the absolute bound and Portkey's figure in the same run", () => {
    const r = sound();
    const peer = (name: string, of: "added" | "ratio", x: number, target: Target | null = null): Metric => ({ ...metric(name, x, target), [of]: x });
    const names = ["ours", "Portkey", "AI SDK"].flatMap((w) => [`${w}: first token added p50`, `${w}: 10 concurrent, errors`]);
    r.figures["9"] = {
      id: "9",
      title: "t",
      conditions: {},
      durationMs: 1,
      metrics: [
        ...names.map((n) => metric(n, 0)),
        metric("ours: 10 concurrent, replies stored", 10),
        peer("Portkey: end of reply added p50", "added", 2),
        peer("AI SDK: end of reply added p50", "added", 9),
        peer("Portkey: 10 concurrent vs direct", "ratio", 1.9),
        peer("AI SDK: 10 concurrent vs direct", "ratio", 4),
        // Portkey adds 2 ms, less than the absolute 3: the bound is 2. Its ratio 1.9 is above 1.5: the bound is 1.5.
        peer("ours: end of reply added p50", "added", 4, { of: "added", op: "<=", value: 3 }),
        peer("ours: 10 concurrent vs direct", "ratio", 1.2, { of: "ratio", op: "<=", value: 1.5 }),
      ],
    };
    expect(resultProblems(r, "quick", ["2", "8", "9"])).toEqual([
      'figure 9: ours: end of reply added p50: target {"of":"added","op":"<=","value":3}, not added <= 2 (the stricter of 3 and Portkey\'s)',
    ]);
  });
  it("holds ours to the stricter of +5 ms and both peers' first token in the same run", () => {
    const r = sound();
    const added = (name: string, x: number, target: Target | null = null): Metric => ({ ...metric(name, x, target), added: x });
    r.figures["9"] = {
      id: "9",
      title: "t",
      conditions: {},
      durationMs: 1,
      metrics: [
        // The AI SDK adds 4 ms, less than the absolute 5 and Portkey's 11: the bound is 4.
        added("ours: first token added p50", 3, { of: "added", op: "<=", value: 5 }),
        added("Portkey: first token added p50", 11),
        added("AI SDK: first token added p50", 4),
      ],
    };
    expect(resultProblems(r, "quick", ["2", "8", "9"]).filter((p) => p.includes("first token added p50: target"))).toEqual([
      'figure 9: ours: first token added p50: target {"of":"added","op":"<=","value":5}, not added <= 4 (the stricter of 5 and both peers\')',
    ]);
  });
});
