// Request/response over a forked child's IPC channel. The runner forks each server it measures (app,
// Groq stand-in, baseline) so that the subject owns its process: the app's shared deps read the
// environment once per process, and cold start needs a fresh one anyway.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

export type Handlers = Record<string, (arg: any) => unknown>;

/** Child side: answer the parent's requests; exit when the parent goes away (never outlive the bench). */
export function serveIpc(handlers: Handlers): void {
  if (!process.send) throw new Error("serveIpc: not started with an IPC channel");
  process.on("disconnect", () => process.exit(0));
  process.on("message", (msg: { id: number; cmd: string; arg?: unknown }) => {
    const handler = handlers[msg.cmd];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${msg.cmd}`);
        return handler(msg.arg);
      })
      .then(
        (value): Reply => ({ id: msg.id, ok: true, value }),
        (e: unknown): Reply => ({ id: msg.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
      )
      .then((reply) =>
        // "stop" handlers release their resources; the process ends once the reply is on its way.
        process.send!(reply, () => {
          if (msg.cmd === "stop") process.exit(0);
        }),
      );
  });
}

const live = new Set<ChildProcess>();
let hooked = false;
function killLeftovers(): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

export interface BenchChild {
  proc: ChildProcess;
  /** What the child announced once it was up (see `announceReady`). */
  ready: Promise<unknown>;
  request<T = unknown>(cmd: string, arg?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks the child to stop, then kills it if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface ForkOptions {
  env?: Record<string, string | undefined>;
  /** Extra node flags (tsx's loader is always added). */
  execArgv?: string[];
  args?: string[];
}

/** Forks `bench/<file>` under tsx with an IPC channel. */
export function forkTs(file: string, opts: ForkOptions = {}): BenchChild {
  if (!hooked) {
    hooked = true;
    process.once("exit", killLeftovers);
  }
  const path = fileURLToPath(new URL(`../${file}`, import.meta.url));
  const proc = fork(path, opts.args ?? [], {
    execArgv: ["--import", "tsx", ...(opts.execArgv ?? [])],
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  live.add(proc);
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  const failAll = (why: string) => {
    for (const [, p] of pending) {
      clearTimeout(p.timer);
      p.reject(new Error(why));
    }
    pending.clear();
  };
  let announce!: { resolve: (v: unknown) => void; reject: (e: Error) => void };
  const ready = new Promise<unknown>((resolve, reject) => (announce = { resolve, reject }));
  ready.catch(() => {});
  const readyTimer = setTimeout(() => announce.reject(new Error(`${file} did not start within 60 s`)), 60_000);
  proc.on("message", (m: Reply) => {
    if (m.id === 0) {
      clearTimeout(readyTimer);
      if (m.ok) announce.resolve(m.value);
      else announce.reject(new Error(`${file}: ${m.error}`));
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(`${file}: ${m.error}`));
  });
  proc.on("exit", (code, signal) => {
    live.delete(proc);
    clearTimeout(readyTimer);
    announce.reject(new Error(`${file} exited before it was ready (code ${code}, signal ${signal})`));
    failAll(`${file} exited (code ${code}, signal ${signal})`);
  });
  proc.on("error", (e) => failAll(`${file}: ${e.message}`));

  const request = <T>(cmd: string, arg?: unknown, timeoutMs = 120_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (!proc.connected) return reject(new Error(`${file} is not running`));
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${file}: "${cmd}" timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      proc.send({ id, cmd, arg });
    });

  const stop = async (graceMs = 5_000): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    await request("stop", undefined, graceMs).catch(() => {});
    const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { proc, ready, request, stop };
}

/** Child side: tell the parent we are up, with whatever it needs (a URL). */
export function announceReady(value: unknown): void {
  process.send!({ id: 0, ok: true, value } satisfies Reply);
}

/** CLOCK_MONOTONIC in ms: unlike performance.now(), comparable between processes on one machine. */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
