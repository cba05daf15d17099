// The runner (stream-runner.ts), bundled and started as a Lambda sandbox would start the runtime: a
// fresh process on the Lambda Node binary, with a clean environment plus what the function is given.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { LAMBDA_TARGET } from "../../stacks/bundling";
import type { LambdaNode } from "./lambda-node";
import { ricModule } from "./ric-package";

const execFileAsync = promisify(execFile);

export async function buildRunner(outfile: string): Promise<void> {
  await build({
    entryPoints: [fileURLToPath(new URL("./stream-runner.ts", import.meta.url))],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: LAMBDA_TARGET,
    logLevel: "silent",
  });
}

/** Runs the runner; its stdout. Throws with its output when it fails. */
export async function runRunner(node: LambdaNode, runner: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(node.path, [runner, ...args], {
      encoding: "utf8",
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", RIC_MODULE: ricModule(), ...env },
    });
    return stdout;
  } catch (e) {
    const err = e as { code?: unknown; stdout?: string; stderr?: string };
    throw new Error(`runner failed (${String(err.code)}):\n${err.stdout ?? ""}\n${err.stderr ?? ""}`);
  }
}

/** What the runner's Runtime API received for one invocation (body: base64 of every byte). */
export interface Invocation {
  requestId: string;
  kind: "response" | "error" | "init-error";
  contentType?: string | undefined;
  responseMode?: string | undefined;
  body: string;
  errorType?: string | undefined;
}
