// The images of an empty, migrated PGlite database and of one fresh from initdb, in the cache `npm start`
// uses too (packages/functions/src/pglite-image.ts). vitest's global setup makes them before the test
// files run, so they only read them: loading one skips initdb (and the migrations), most of what an
// in-memory database costs to start (seconds each on a busy machine).
import { createPgliteClient, openStore, type SqlClient, type SqlStore } from "@conversation-api/store";
import { existsSync } from "node:fs";
import { pgliteImageCache, type FileImageCache, type ImageKind } from "../../packages/functions/src/pglite-image";

async function cacheOf(kind: ImageKind): Promise<FileImageCache> {
  const cache = await pgliteImageCache(kind);
  if (!cache) throw new Error("no cache directory for the PGlite images (is node_modules writable?)");
  return cache;
}

/** The migrated image's file, made (through the real migrations) when missing. */
export async function ensurePgliteImage(): Promise<string> {
  const cache = await cacheOf("migrated");
  if (!existsSync(cache.file)) await (await openStore({ inMemory: true, pgliteImageCache: cache })).close();
  return cache.file;
}

/**
 * The file of an image of a database fresh from PGlite's initdb (nothing migrated), made when missing:
 * for tests that build a schema themselves, the same database initdb gives, without its seconds of CPU.
 */
export async function ensureEmptyPgliteImage(): Promise<string> {
  const cache = await cacheOf("empty");
  if (existsSync(cache.file)) return cache.file;
  const db = await createPgliteClient();
  try {
    await cache.write(await db.dumpImage());
  } finally {
    await db.close();
  }
  return cache.file;
}

async function read(kind: ImageKind, ensure: () => Promise<string>): Promise<Blob> {
  await ensure();
  const image = (await cacheOf(kind)).read();
  if (!image) throw new Error(`the ${kind} PGlite image vanished`);
  return image;
}

let image: Promise<Blob> | undefined;
let emptyImage: Promise<Blob> | undefined;

/** The migrated image, read once per process. */
export function pgliteImage(): Promise<Blob> {
  image ??= read("migrated", ensurePgliteImage);
  return image;
}

/** The empty image (ensureEmptyPgliteImage), read once per process. */
export function emptyPgliteImage(): Promise<Blob> {
  emptyImage ??= read("empty", ensureEmptyPgliteImage);
  return emptyImage;
}

/** A database of its own fresh from initdb (nothing migrated), in memory, started from the empty image. */
export async function openEmptyPglite(): Promise<SqlClient> {
  return createPgliteClient({ image: await emptyPgliteImage() });
}

/** A fresh, migrated in-memory PGlite store of its own, started from the image. */
export async function openMemoryStore(): Promise<SqlStore> {
  return openStore({ inMemory: true, pgliteImage: await pgliteImage() });
}
