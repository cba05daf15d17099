// `npm start` exactly as a newcomer runs it: the npm CLI, the package's start script, a clean
// environment (no settings but those given), in its own process group so a test can signal npm alone.
// Its output is captured, never printed.
import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "./process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface NpmStart {
  url: string;
  api: string;
  /** The npm process itself. */
  npm: ChildProcess;
  output: () => string;
  /** Resolves once npm has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Ends whatever is left of the process group (a test that failed half-way); never throws. */
  kill(): Promise<void>;
}

/** Only what a shell would have, plus the settings given: nothing from the test runner leaks in. */
export function cleanEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...settings };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

/** `root`: the checkout to start (another worktree, for a same-run A/B of two versions); this one by default. */
export async function npmStart(settings: Record<string, string>, root = ROOT): Promise<NpmStart> {
  const port = await freePort();
  const npm = spawn("npm", ["start", "--silent"], {
    cwd: root,
    env: cleanEnv({ HOST: "127.0.0.1", OFFLINE_TOKEN_DELAY_MS: "0", ...settings, PORT: String(port) }),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  npm.stdout!.on("data", (c) => (out += c));
  npm.stderr!.on("data", (c) => (out += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    npm.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const kill = async () => {
    try {
      process.kill(-npm.pid!, "SIGKILL");
    } catch {
      // the group is gone already
    }
  };
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!out.includes("listening on")) return;
      npm.stdout!.off("data", check);
      resolve();
    };
    npm.stdout!.on("data", check);
    void exited.then(() => reject(new Error(`npm start exited:\n${out}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return { url, api: `${url}/api/v1`, npm, output: () => out, exited, kill };
}
