// A new PGlite database starts from an image of an empty, migrated one (PGlite's dumpDataDir) when one
// is cached: initdb and the migrations are most of what a new database costs (5 s of CPU here), loading
// the image a fifth of that. The image is named after the PGlite version and every migration's checksum,
// so a change to either makes a new one; it lives in node_modules/.cache/conversation-api (the
// find-cache-directory convention: CACHE_DIR moves it, and nothing is cached where node_modules is not
// writable).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { readMigrations } from "./migrations";

export type ImageKind = "migrated" | "empty";

/** Where images are cached, or undefined where nothing can be. */
export async function pgliteImageCacheDir(): Promise<string | undefined> {
  const { default: findCacheDirectory } = await import("find-cache-directory");
  return findCacheDirectory({ name: "conversation-api" });
}

function pgliteVersion(): string {
  // The package exports no package.json; its entry sits in dist/, one level below it.
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  const pkg = join(dirname(entry), "..", "package.json");
  return (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
}

/** The image's file in `cache`: the migrated database, or one fresh from initdb ("empty"). */
export function pgliteImageFile(cache: string, kind: ImageKind = "migrated"): string {
  const version = pgliteVersion();
  if (kind === "empty") return join(cache, `pglite-${version}-empty.tar`);
  const hash = createHash("sha256").update(version);
  for (const m of readMigrations()) hash.update(`\n${m.name}\n${m.checksum}`);
  return join(cache, `pglite-${version}-${hash.digest("hex").slice(0, 16)}.tar`);
}

/** The cached image, if there is one. */
export function readPgliteImage(file: string): Blob | undefined {
  return existsSync(file) ? new Blob([readFileSync(file)]) : undefined;
}

/** Writes an image whole or not at all: another process may be reading or writing the same file. */
export async function writePgliteImage(file: string, image: Blob): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}`;
  writeFileSync(partial, Buffer.from(await image.arrayBuffer()));
  renameSync(partial, file);
}
