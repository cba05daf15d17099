// The servers the peer figures start as OS processes of their own: ours exactly as `npm start` runs it
// (the npm CLI, the start script, its defaults), and the Portkey gateway from its npm package. Their
// output is captured (never printed) and shown only when one fails to start.
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { npmStart, ROOT } from "../../tests/support/npm-start";
import { freePort } from "../../tests/support/process";

export interface ServerProcess {
  url: string;
  /** What the process printed last, for error messages. */
  output(): string;
  /** Sends SIGTERM, then SIGKILL to what is left after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface OurServer extends ServerProcess {
  api: string;
  /** The process group npm leads (npm, and the server it started). */
  group: number;
}

const started = new Set<() => void>();
let hooked = false;
/** Whatever happens to the bench, the processes it started go with it. */
function track(kill: () => void): () => void {
  if (!hooked) {
    hooked = true;
    process.once("exit", () => {
      for (const k of started) k();
    });
  }
  started.add(kill);
  return () => started.delete(kill);
}

/**
 * `npm start` with the settings given on top of its defaults (PGlite on disk under DATA_DIR, the
 * signing key generated there), in a clean environment like a newcomer's shell; `root` names another
 * checkout to start instead of this one (bench/ab.ts).
 */
export async function startOurs(settings: Record<string, string>, root?: string): Promise<OurServer> {
  const s = await npmStart(settings, root);
  const untrack = track(() => {
    try {
      process.kill(-s.npm.pid!, "SIGKILL");
    } catch {
      // gone already
    }
  });
  // Each request's log line goes to a pipe nobody reads but us: keep only the start of it.
  const head = s.output();
  s.npm.stdout!.removeAllListeners("data");
  s.npm.stderr!.removeAllListeners("data");
  let tail = "";
  const keep = (c: Buffer) => (tail = (tail + c.toString()).slice(-4000));
  s.npm.stdout!.on("data", keep);
  s.npm.stderr!.on("data", keep);
  return {
    url: s.url,
    api: s.api,
    group: s.npm.pid!,
    output: () => `${head}\n…\n${tail}`,
    stop: async (graceMs = 8_000) => {
      try {
        process.kill(-s.npm.pid!, "SIGTERM");
      } catch {
        // gone already
      }
      const timer = setTimeout(() => void s.kill(), graceMs);
      await s.exited;
      clearTimeout(timer);
      await s.kill();
      untrack();
    },
  };
}

/** The Portkey gateway (`@portkey-ai/gateway`, `build/start-server.js --headless`) on a free port. */
export async function startPortkey(): Promise<ServerProcess> {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve("@portkey-ai/gateway/package.json"));
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ["--import", fileURLToPath(new URL("../portkey-preload.mjs", import.meta.url)), join(pkg, "build/start-server.js"), "--headless", `--port=${port}`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const untrack = track(() => child.exitCode === null && child.kill("SIGKILL"));
  let out = "";
  const keep = (c: Buffer) => (out = (out + c.toString()).slice(-8000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const check = () => out.includes("Ready for connections") && resolve();
    child.stdout!.on("data", check);
    void exited.then(() => reject(new Error(`Portkey gateway exited before it was ready:\n${out}`)));
    setTimeout(() => reject(new Error(`Portkey gateway did not start within 60 s:\n${out}`)), 60_000).unref();
  });
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    stop: async (graceMs = 5_000) => {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      untrack();
    },
  };
}
