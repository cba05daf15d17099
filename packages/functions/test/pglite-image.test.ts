// Where `npm start` keeps the image a new PGlite database starts from: named after the PGlite version
// and the migrations, in node_modules/.cache/conversation-api, written whole or not at all.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { fileImageCache, pgliteImageCache } from "../src/pglite-image";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "image-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("keeps the images under node_modules/.cache, named after the PGlite version and, for the migrated one, the migrations", async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, "node_modules/@electric-sql/pglite/package.json"), "utf8")) as { version: string };
  const cacheDir = join(ROOT, "node_modules", ".cache", "conversation-api");
  const migrated = (await pgliteImageCache())!.file;
  expect(migrated.startsWith(cacheDir)).toBe(true);
  expect(migrated.slice(cacheDir.length + 1)).toMatch(new RegExp(`^pglite-${version.replace(/\./g, "\\.")}-[0-9a-f]{16}\\.tar$`));
  expect((await pgliteImageCache("empty"))!.file).toBe(join(cacheDir, `pglite-${version}-empty.tar`));
  // The global setup made both, through the same names.
  expect(existsSync(migrated)).toBe(true);
});

it("reads nothing before an image is written, then the bytes written, leaving no partial file", async () => {
  const cache = fileImageCache(join(dir, "nested", "image.tar"));
  expect(cache.read()).toBeUndefined();
  await cache.write(new Blob([new Uint8Array([1, 2, 3])]));
  expect(new Uint8Array(await cache.read()!.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
  expect(readdirSync(join(dir, "nested"))).toEqual(["image.tar"]);
});
