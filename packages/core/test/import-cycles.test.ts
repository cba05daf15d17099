// Core's modules import each other in one direction only: shared types sit in modules that import
// none of their users (chat/types.ts, reasoning-efforts.ts). madge reads the imports, type-only ones too.
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const madge = createRequire(import.meta.url).resolve("madge/bin/cli.js");
const src = fileURLToPath(new URL("../src", import.meta.url));

describe("packages/core/src", () => {
  it("has no import cycle", async () => {
    // madge exits 1 when it finds a cycle; the JSON on stdout says which.
    const { stdout } = await promisify(execFile)(process.execPath, [madge, "--circular", "--json", "--extensions", "ts", src]).catch(
      (e: { stdout?: string }) => ({ stdout: e.stdout ?? "" }),
    );
    expect(JSON.parse(stdout)).toEqual([]);
  });
});
