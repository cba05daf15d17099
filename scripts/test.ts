// `npm test`: the type check and the test run at the same time, not one after the other: tsc is one
// thread, and the test run leaves room beside it (much of its time is spent waiting on sockets and
// child processes). Arguments go to vitest (`npm test -- --reporter=json`). The type check's output is
// printed after the tests' so the two never interleave; either failing fails the whole.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
/** A package's command-line entry, by its path inside the package (not every package exports it). */
const bin = (pkg: string, path: string) => join(dirname(require.resolve(`${pkg}/package.json`)), path);

const typecheck = new Promise<{ code: number; output: string }>((resolve) => {
  const tsc = spawn(process.execPath, [bin("typescript", "bin/tsc"), "--noEmit", "-p", "tsconfig.json"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  tsc.stdout.on("data", (d) => (output += d));
  tsc.stderr.on("data", (d) => (output += d));
  tsc.on("close", (code) => resolve({ code: code ?? 1, output }));
});

const tests = await new Promise<number>((resolve) => {
  const vitest = spawn(process.execPath, [bin("vitest", "vitest.mjs"), "run", ...process.argv.slice(2)], { stdio: "inherit" });
  vitest.on("close", (code) => resolve(code ?? 1));
});

const { code, output } = await typecheck;
if (output) process.stdout.write(output);
console.log(code === 0 ? "typecheck: no errors" : "typecheck: failed");
process.exit(tests || code);
