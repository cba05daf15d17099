// Keeps `npm run bench` from rotting: runs the quick bench end to end (real processes on 127.0.0.1)
// and checks that its JSON has every figure with finite numbers. No timing assertions: figures
// are for people comparing runs, not for a shared CI machine to pass or fail on.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { BenchResults } from "../../bench/run";
// Type-only, so `npm test`'s tsc also checks the processes the bench starts (they are entry points).
import type * as _appChild from "../../bench/app-child";
import type * as _groqChild from "../../bench/groq-child";
import type * as _baselineServer from "../../bench/baseline-server";
import type * as _coldChild from "../../bench/cold-child";
import type * as _profileSummary from "../../bench/profile-summary";
import type * as _referenceChild from "../../bench/reference-child";
import type * as _delayProxyChild from "../../bench/delay-proxy-child";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "bench-quick-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runQuickBench(out: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", "--quick", "--out", out], {
      cwd: ROOT,
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    // The bench has its own deadline; this one only guards against a wedged child.
    const timer = setTimeout(() => child.kill("SIGKILL"), 440_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("npm run bench -- --quick", () => {
  it("measures every figure and writes them as JSON", { timeout: 460_000 }, async () => {
    const out = join(dir, "results.json");
    const { code, output } = await runQuickBench(out);
    expect(code, output).toBe(0);
    // The one table.
    expect(output).toMatch(/figure\s+value\s+baseline\s+ratio\/added\s+target\s+verdict/);

    const results = JSON.parse(readFileSync(out, "utf8")) as BenchResults;
    expect(results.schema).toBe(1);
    expect(results.mode).toBe("quick");
    expect(results.machine.nproc).toBeGreaterThan(0);
    expect(results.machine.node).toBe(process.version);
    expect(Object.keys(results.figures).sort()).toEqual(["1", "10", "11", "2", "3", "4", "5", "6", "7", "8", "9"]);
    for (const [id, figure] of Object.entries(results.figures)) {
      expect(figure.error, `figure ${id}`).toBeUndefined();
      // Only the PostgreSQL figures may be skipped, and only where the binaries are missing.
      if (figure.skipped) {
        expect(["8", "10"]).toContain(id);
        continue;
      }
      expect(figure.metrics.length, `figure ${id}`).toBeGreaterThan(0);
      for (const m of figure.metrics) {
        const what = `figure ${id}: ${m.name}`;
        expect(Number.isFinite(m.value), what).toBe(true);
        for (const x of [m.baseline, m.added, m.ratio]) if (x !== null) expect(Number.isFinite(x), what).toBe(true);
        expect(["pass", "fail", "info"], what).toContain(m.status);
      }
    }
    // The figures the issue asks for are there, with their targets.
    const names = (id: keyof BenchResults["figures"]) => results.figures[id]!.metrics.map((m) => m.name);
    expect(names("1")).toEqual(expect.arrayContaining(["TTFT p50", "TTFT p99"]));
    expect(names("2")).toEqual(expect.arrayContaining(["per-token added p50", "per-token added p99"]));
    expect(names("3")).toEqual(expect.arrayContaining(["errors", "completed replies stored", "peak RSS", "memory per stream"]));
    expect(names("4")).toEqual(expect.arrayContaining(["GET /conversations throughput (PGlite)", "GET /conversations latency p99", "POST /conversations throughput"]));
    expect(names("5")).toEqual(
      expect.arrayContaining(["bundle messages-stream", "cold start + 1 invocation p50", "stream function duration per reply p50 (warm)", "stream function peak memory"]),
    );
    expect(names("6")).toEqual(
      expect.arrayContaining([
        "first token, 0 stored messages p50",
        "first token, 20 stored messages p50",
        "first token, 100 stored messages p50",
        "end of 300-token reply p50",
        "per token, streaming phase p50",
        "reference: first token p50",
        "reference: end of 300-token reply p50",
        "reference: per token, streaming phase p50",
      ]),
    );
    expect(names("7")).toEqual(expect.arrayContaining(["10 concurrent, wall-clock", "10 concurrent, errors", "reference: 10 concurrent, wall-clock"]));
    if (!results.figures["8"]!.skipped) expect(names("8")).toContain("GET /conversations throughput (PostgreSQL)");
    // The peers, in the same run: ours on the default start, the other PGlite threading, Portkey, the AI SDK.
    for (const who of ["ours", "Portkey", "AI SDK"])
      expect(names("9")).toEqual(expect.arrayContaining([`${who}: first token added p50`, `${who}: end of reply added p50`, `${who}: 10 concurrent vs direct`, `${who}: 10 concurrent, errors`]));
    expect(names("9")).toEqual(expect.arrayContaining(["ours: 10 concurrent, replies stored"]));
    expect(names("9").some((n) => n.startsWith("ours, PGLITE_THREAD="))).toBe(true);
    if (!results.figures["10"]!.skipped)
      expect(names("10")).toEqual(
        expect.arrayContaining(["local PostgreSQL: first token added p50", "PostgreSQL 4 ms away: first token added p50", "PostgreSQL 4 ms away: end of reply added p50", "PostgreSQL 4 ms away: reply stored after end of stream, max"]),
      );
    expect(names("11")).toContain("native: per token");
    // The targets, as the table judges them.
    const target = (id: keyof BenchResults["figures"], name: string) => results.figures[id]!.metrics.find((m) => m.name === name)!.target;
    expect(results.figures["1"]!.metrics[0]!.target).toEqual({ of: "added", op: "<=", value: 1 });
    expect(target("6", "first token, 100 stored messages p50")).toEqual({ of: "added", op: "<=", value: 2 });
    expect(target("6", "end of 300-token reply p50")).toEqual({ of: "added", op: "<=", value: 2 });
    expect(target("7", "10 concurrent, wall-clock")).toEqual({ of: "ratio", op: "<=", value: 1.2 });
    expect(target("4", "GET /conversations throughput (PGlite)")).toEqual({ of: "value", op: ">=", value: 2000 });
    expect(target("5", "bundle messages-stream")).toEqual({ of: "value", op: "<=", value: 300 });
    expect(target("5", "cold start + 1 invocation p50")).toEqual({ of: "value", op: "<=", value: 120 });
    // Same-run targets: the bound is the stricter of the absolute one and the peer's figure.
    const peer = (name: string) => results.figures["9"]!.metrics.find((m) => m.name === name)!;
    expect(target("9", "ours: end of reply added p50")!.value).toBeCloseTo(Math.min(3, peer("Portkey: end of reply added p50").added!), 1);
    expect(target("9", "ours: 10 concurrent vs direct")!.value).toBeCloseTo(Math.min(1.5, peer("Portkey: 10 concurrent vs direct").ratio!), 2);
  });
});
