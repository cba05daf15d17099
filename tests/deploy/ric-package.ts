// AWS's published runtime interface client (aws-lambda-ric on npm), whose HttpResponseStream our local
// shim is compared with. It is not a devDependency: its install script builds a native addon (autoconf,
// libcurl) that a fresh machine cannot build, and only its JavaScript is read. So, like the Lambda
// Node binary, tests/deploy/global-setup.ts fetches one pinned version into a cache outside the
// repository, with its scripts off.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const RIC_VERSION = "3.3.0";

const cacheDir = () => join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "conversation-api", `aws-lambda-ric-${RIC_VERSION}`);
const distIn = (dir: string) => join(dir, "node_modules", "aws-lambda-ric", "dist", "index.mjs");

/** Installs the package if it is not cached yet. Returns an error message instead of throwing. */
export function installRic(): string | undefined {
  const dir = cacheDir();
  if (existsSync(distIn(dir))) return undefined;
  const spec = `aws-lambda-ric@${RIC_VERSION}`;
  const r = spawnSync(
    "npm",
    ["install", "--prefix", dir, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--ignore-scripts", "--omit=optional", spec],
    { encoding: "utf8", timeout: 300_000 },
  );
  if (r.status !== 0 || !existsSync(distIn(dir))) return `npm install ${spec} failed: ${r.error?.message ?? r.stderr?.trim()}`;
  return undefined;
}

/** The package's dist/index.mjs; throws (failing the test) when it is not there. */
export function ricDist(): string {
  const file = distIn(cacheDir());
  if (!existsSync(file)) throw new Error(`aws-lambda-ric ${RIC_VERSION} is missing at ${file} (see global-setup.ts): ${process.env.RIC_ERROR ?? "not installed"}`);
  return file;
}
