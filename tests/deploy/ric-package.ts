// AWS's runtime interface client for Node.js (aws-lambda-ric on npm), the 4.x line that the nodejs24.x
// runtime runs: the code that loads a handler, calls it, and carries a streaming response to Lambda.
// It is not a devDependency: it needs Node >= 22 (our machines run 20) and its install script builds a
// native addon (autoconf, libcurl) that a fresh machine cannot build. Only its bundled JavaScript is
// used, on the Lambda Node binary (lambda-node.ts). So, like that binary, tests/deploy/global-setup.ts
// fetches the pinned package's tarball into a cache outside the repository (no install, no scripts)
// and derives from its index.mjs a module that exports the runtime's pieces (ricModuleSource).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const RIC_VERSION = "4.0.2";

const cacheDir = () => join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "conversation-api", `aws-lambda-ric-${RIC_VERSION}`);
const distIn = (dir: string) => join(dir, "package", "index.mjs");
/** Beside index.mjs, so what it resolves relative to itself resolves the same. */
const moduleIn = (dir: string) => join(dir, "package", "runtime-exports.mjs");

/** What the runner takes from the runtime (ric.ts types them). */
const EXPORTED = ["createRuntime", "setupGlobals", "UserFunctionLoader", "errorOnDeprecatedCallback", "HttpResponseStream"];
const ENTRY = "ignition();";

/**
 * index.mjs is one ES module whose last statement starts the runtime (`ignition()`: connect to the
 * Runtime API, load _HANDLER, loop on invocations). The same code with that statement replaced by an
 * export of its pieces lets a test start the runtime itself, against its own Runtime API.
 */
export function ricModuleSource(dist: string): string {
  const text = dist.trimEnd();
  if (!text.endsWith(`// dist/index.js\n${ENTRY}`)) throw new Error(`aws-lambda-ric ${RIC_VERSION}: index.mjs no longer ends with its entry point (${ENTRY})`);
  return `${text.slice(0, -ENTRY.length)}export { ${EXPORTED.join(", ")} };\n`;
}

/** Fetches and unpacks the package if it is not cached yet. Returns an error message instead of throwing. */
export async function installRic(): Promise<string | undefined> {
  const dir = cacheDir();
  if (existsSync(moduleIn(dir))) return undefined;
  const spec = `aws-lambda-ric@${RIC_VERSION}`;
  mkdirSync(dir, { recursive: true });
  const run = promisify(execFile);
  const failure = (e: unknown) => (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
  let tarball: string | undefined;
  try {
    tarball = (await run("npm", ["pack", "--silent", "--pack-destination", dir, spec], { timeout: 300_000 })).stdout.trim().split("\n").at(-1);
  } catch (e) {
    return `npm pack ${spec} failed: ${failure(e)}`;
  }
  if (!tarball) return `npm pack ${spec} named no tarball`;
  try {
    await run("tar", ["-xzf", join(dir, tarball), "-C", dir, "package/index.mjs", "package/package.json"]);
  } catch (e) {
    return `unpacking ${tarball} failed: ${failure(e)}`;
  }
  if (!existsSync(distIn(dir))) return `unpacking ${tarball} gave no ${distIn(dir)}`;
  try {
    writeFileSync(moduleIn(dir), ricModuleSource(readFileSync(distIn(dir), "utf8")));
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/** The runtime's module (ricModuleSource); throws (failing the test) when it is not there. */
export function ricModule(): string {
  const file = moduleIn(cacheDir());
  if (!existsSync(file)) throw new Error(`aws-lambda-ric ${RIC_VERSION} is missing at ${file} (see global-setup.ts): ${process.env.RIC_ERROR ?? "not installed"}`);
  return file;
}
