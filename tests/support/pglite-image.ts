// An empty, migrated PGlite database as an image (PGlite's dumpDataDir): loading one skips initdb and
// the migrations, most of what an in-memory database costs to start (seconds each on a busy machine).
// Made once and kept in node_modules/.cache under a name that changes with the migrations and the
// PGlite version; vitest's global setup makes it before the test files run, so they only read it.
// Beside it, the image of a database fresh from initdb, for tests that build a schema themselves.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPgliteClient, migrate, openStore, pgliteClient, readMigrations, type SqlClient, type SqlStore } from "@conversation-api/store";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CACHE = join(ROOT, "node_modules", ".cache", "conversation-api");

function imageFile(migrated: boolean): string {
  const pkg = join(ROOT, "node_modules", "@electric-sql", "pglite", "package.json");
  const { version } = JSON.parse(readFileSync(pkg, "utf8")) as { version: string };
  if (!migrated) return join(CACHE, `pglite-${version}-empty.tar`);
  const hash = createHash("sha256").update(version);
  for (const m of readMigrations()) hash.update(`\n${m.name}\n${m.checksum}`);
  return join(CACHE, `pglite-${version}-${hash.digest("hex").slice(0, 16)}.tar`);
}

/** The migrated image's file, made (through the real migrations) when missing. */
export const ensurePgliteImage = () => ensureImage(true);

/**
 * The file of an image of a database fresh from PGlite's initdb (nothing migrated), made when missing:
 * for tests that build a schema themselves, the same database initdb gives, without its seconds of CPU.
 */
export const ensureEmptyPgliteImage = () => ensureImage(false);

async function ensureImage(migrated: boolean): Promise<string> {
  const file = imageFile(migrated);
  if (existsSync(file)) return file;
  const { PGlite, protocol, parse } = await import("@electric-sql/pglite");
  const db = await PGlite.create();
  try {
    if (migrated) await migrate(pgliteClient(db, protocol.serialize, parse, { syncToFs: false }));
    const image = await db.dumpDataDir("none");
    mkdirSync(CACHE, { recursive: true });
    // Whole or not at all: another process may be reading or making the same file.
    const partial = `${file}.${process.pid}`;
    writeFileSync(partial, Buffer.from(await image.arrayBuffer()));
    renameSync(partial, file);
  } finally {
    await db.close();
  }
  return file;
}

let image: Promise<Blob> | undefined;
let emptyImage: Promise<Blob> | undefined;

/** The migrated image, read once per process. */
export function pgliteImage(): Promise<Blob> {
  image ??= ensurePgliteImage().then((file) => new Blob([readFileSync(file)]));
  return image;
}

/** The empty image (ensureEmptyPgliteImage), read once per process. */
export function emptyPgliteImage(): Promise<Blob> {
  emptyImage ??= ensureEmptyPgliteImage().then((file) => new Blob([readFileSync(file)]));
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
