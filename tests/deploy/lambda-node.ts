// The Node binary of the Lambda runtime we deploy on (nodejs24.x), from the npm registry's
// node-linux-<arch> package, installed by tests/deploy/global-setup.ts into a cache directory outside
// the repository (once; later runs reuse it). No fallback: a test that needs it fails when it is
// missing, instead of quietly running on another Node.
//
// The stack deploys arm64 (Graviton). This machine's architecture is used here (x64 on most CI
// runners): the bundles are plain JavaScript, so the architecture changes nothing they do, and the
// runtime's Node version is what the test pins.
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const LAMBDA_NODE_MAJOR = 24;

export interface LambdaNode {
  path: string;
  version: string;
}

const cacheDir = () => join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "conversation-api", `node-${LAMBDA_NODE_MAJOR}`);
const packageName = () => `node-${process.platform}-${process.arch}`;
const binaryIn = (dir: string) => join(dir, "node_modules", packageName(), "bin", "node");

/**
 * Installs the binary if it is not cached yet. Returns an error message instead of throwing. Async, so
 * that the global setup fetches it while it makes the database images.
 */
export async function installLambdaNode(): Promise<string | undefined> {
  if (process.platform !== "linux") return `no Linux Node binary runs on ${process.platform}; run the deploy tests on Linux`;
  const dir = cacheDir();
  if (existsSync(binaryIn(dir))) return undefined;
  const spec = `${packageName()}@${LAMBDA_NODE_MAJOR}`;
  try {
    await promisify(execFile)("npm", ["install", "--prefix", dir, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", spec], { timeout: 300_000 });
  } catch (e) {
    return `npm install ${spec} failed: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`;
  }
  return existsSync(binaryIn(dir)) ? undefined : `npm install ${spec} installed no ${binaryIn(dir)}`;
}

/** The installed binary; throws (failing the test) when it is not there. */
export function lambdaNode(): LambdaNode {
  const bin = binaryIn(cacheDir());
  if (!existsSync(bin)) throw new Error(`Node ${LAMBDA_NODE_MAJOR} for the Lambda tests is missing at ${bin} (see global-setup.ts): ${process.env.LAMBDA_NODE_ERROR ?? "not installed"}`);
  const v = spawnSync(bin, ["--version"], { encoding: "utf8" });
  if (v.status !== 0) throw new Error(`${bin} does not run: ${v.stderr}`);
  return { path: bin, version: v.stdout.trim() };
}
