// The images of an empty, migrated PGlite database and of one fresh from initdb (packages/store's
// pglite-image.ts), in the cache `npm start` uses too. vitest's global setup makes them before the test
// files run, so they only read them: loading one skips initdb (and the migrations), most of what an
// in-memory database costs to start (seconds each on a busy machine).
import {
  createPgliteClient,
  openStore,
  pgliteImageCacheDir,
  pgliteImageFile,
  readPgliteImage,
  writePgliteImage,
  type ImageKind,
  type SqlClient,
  type SqlStore,
} from "@conversation-api/store";
import { existsSync } from "node:fs";

async function imageFile(kind: ImageKind): Promise<string> {
  const cache = await pgliteImageCacheDir();
  if (!cache) throw new Error("no cache directory for the PGlite images (is node_modules writable?)");
  return pgliteImageFile(cache, kind);
}

/** The migrated image's file, made (through the real migrations) when missing. */
export async function ensurePgliteImage(): Promise<string> {
  const file = await imageFile("migrated");
  if (!existsSync(file)) await (await openStore({ inMemory: true, pgliteImageCache: await pgliteImageCacheDir() })).close();
  return file;
}

/**
 * The file of an image of a database fresh from PGlite's initdb (nothing migrated), made when missing:
 * for tests that build a schema themselves, the same database initdb gives, without its seconds of CPU.
 */
export async function ensureEmptyPgliteImage(): Promise<string> {
  const file = await imageFile("empty");
  if (existsSync(file)) return file;
  const db = await createPgliteClient();
  try {
    await writePgliteImage(file, await db.dumpImage());
  } finally {
    await db.close();
  }
  return file;
}

const read = (file: string): Blob => {
  const image = readPgliteImage(file);
  if (!image) throw new Error(`${file} vanished`);
  return image;
};

let image: Promise<Blob> | undefined;
let emptyImage: Promise<Blob> | undefined;

/** The migrated image, read once per process. */
export function pgliteImage(): Promise<Blob> {
  image ??= ensurePgliteImage().then(read);
  return image;
}

/** The empty image (ensureEmptyPgliteImage), read once per process. */
export function emptyPgliteImage(): Promise<Blob> {
  emptyImage ??= ensureEmptyPgliteImage().then(read);
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
