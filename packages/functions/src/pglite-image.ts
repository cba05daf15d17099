// `npm start` keeps the image of an empty, migrated PGlite database (PGlite's dumpDataDir) in
// node_modules/.cache/conversation-api (the find-cache-directory convention: CACHE_DIR moves it, and
// nothing is cached where node_modules is not writable), for the store to start a new database from
// (OpenStoreOptions.pgliteImageCache). The file is named after the PGlite version and every migration's
// checksum, so a change to either makes a new one.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { readMigrations, type PgliteImageCache } from "@conversation-api/store";

/** The migrated database, or one fresh from initdb ("empty", for tests that build a schema themselves). */
export type ImageKind = "migrated" | "empty";
export type FileImageCache = PgliteImageCache & { file: string };

/** The cached image of `kind`, or undefined where nothing can be cached. */
export async function pgliteImageCache(kind: ImageKind = "migrated"): Promise<FileImageCache | undefined> {
  const { default: findCacheDirectory } = await import("find-cache-directory");
  const dir = findCacheDirectory({ name: "conversation-api" });
  if (!dir) return undefined;
  const version = pgliteVersion();
  if (kind === "empty") return fileImageCache(join(dir, `pglite-${version}-empty.tar`));
  const hash = createHash("sha256").update(version);
  for (const m of readMigrations()) hash.update(`\n${m.name}\n${m.checksum}`);
  return fileImageCache(join(dir, `pglite-${version}-${hash.digest("hex").slice(0, 16)}.tar`));
}

/** An image kept in `file`, written whole or not at all: another process may be reading or writing it. */
export function fileImageCache(file: string): FileImageCache {
  return {
    file,
    read: () => (existsSync(file) ? new Blob([readFileSync(file)]) : undefined),
    async write(image) {
      mkdirSync(dirname(file), { recursive: true });
      const partial = `${file}.${process.pid}`;
      writeFileSync(partial, Buffer.from(await image.arrayBuffer()));
      renameSync(partial, file);
    },
  };
}

function pgliteVersion(): string {
  // The package exports no package.json; its entry sits in dist/, one level below it.
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  return (JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")) as { version: string }).version;
}
