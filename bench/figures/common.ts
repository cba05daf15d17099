import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { BenchChild } from "../lib/ipc";
import type { FigureId, FigureResult, Metric } from "../lib/report";

export interface BenchOptions {
  quick: boolean;
  /** Streams opened at once in figure 3. */
  concurrency: number;
  /** Write a CPU profile of the app process for figures 1–2 into .bench/profiles. */
  profile: boolean;
  log: (line: string) => void;
}

export const JWT_SECRET = "bench-secret-that-is-at-least-32-characters-long";

/**
 * Environment of every app process the bench starts: in-memory PGlite, no offline delay, and no per-user
 * ceilings (budget, streams at once): the figures measure the server under many streams, which the
 * bench opens for one user where a deployment would see them from many.
 */
export function appEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATA_DIR: "memory://",
    JWT_SECRET,
    OFFLINE_TOKEN_DELAY_MS: "0",
    DAILY_TOKEN_BUDGET: "0",
    MAX_CONCURRENT_REPLIES: "0",
    ...extra,
  };
}

export async function timed(
  id: FigureId,
  title: string,
  fn: () => Promise<{ conditions: Record<string, unknown>; metrics: Metric[]; skipped?: string }>,
): Promise<FigureResult> {
  const t0 = performance.now();
  try {
    const { conditions, metrics, skipped } = await fn();
    return { id, title, conditions, metrics, ...(skipped ? { skipped } : {}), durationMs: Math.round(performance.now() - t0) };
  } catch (e) {
    return { id, title, conditions: {}, metrics: [], error: e instanceof Error ? (e.stack ?? e.message) : String(e), durationMs: Math.round(performance.now() - t0) };
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs `fn` with the app process's CPU profiler on when --profile is given (inspector, in-process:
 * only this window, not start-up); the profile lands in .bench/profiles/<name>-<time>.cpuprofile.
 */
export async function profiled<T>(opts: BenchOptions, app: BenchChild, name: string, fn: () => Promise<T>): Promise<T> {
  if (!opts.profile) return fn();
  await app.request("profile-start");
  try {
    return await fn();
  } finally {
    const file = await app.request<string>("profile-stop", resolve(`.bench/profiles/${name}-${Date.now()}.cpuprofile`));
    opts.log(`profile: ${file}`);
  }
}

/** Node flags for a process: a CPU profile in .bench/profiles when --profile is given. */
export function profileArgs(opts: BenchOptions, name: string): string[] {
  if (!opts.profile) return [];
  // One directory per process: tsx's loader thread writes a profile of its own beside the main thread's.
  const dir = `.bench/profiles/${name}-${Date.now()}`;
  mkdirSync(dir, { recursive: true });
  return ["--cpu-prof", `--cpu-prof-dir=${dir}`];
}
