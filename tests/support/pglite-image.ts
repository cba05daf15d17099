// An empty, migrated PGlite database as an image (PGlite's dumpDataDir): loading one skips initdb and
// the migrations, most of what an in-memory database costs to start (seconds each on a busy machine).
// Made once and kept in node_modules/.cache under a name that changes with the migrations and the
// PGlite version; vitest's global setup makes it before the test files run, so they only read it.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { migrate, openStore, pgliteClient, readMigrations, type SqlStore } from "@conversation-api/store";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CACHE = join(ROOT, "node_modules", ".cache", "conversation-api");

function imageFile(): string {
  const pkg = join(ROOT, "node_modules", "@electric-sql", "pglite", "package.json");
  const { version } = JSON.parse(readFileSync(pkg, "utf8")) as { version: string };
  const hash = createHash("sha256").update(version);
  for (const m of readMigrations()) hash.update(`\n${m.name}\n${m.checksum}`);
  return join(CACHE, `pglite-${version}-${hash.digest("hex").slice(0, 16)}.tar`);
}

/** The image's file, made (through the real migrations) when missing. */
export async function ensurePgliteImage(): Promise<string> {
  const file = imageFile();
  if (existsSync(file)) return file;
  const { PGlite, protocol, parse } = await import("@electric-sql/pglite");
  const db = await PGlite.create();
  try {
    await migrate(pgliteClient(db, protocol.serialize, parse, { syncToFs: false }));
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

/** The image, read once per process. */
export function pgliteImage(): Promise<Blob> {
  image ??= ensurePgliteImage().then((file) => new Blob([readFileSync(file)]));
  return image;
}

/** A fresh, migrated in-memory PGlite store of its own, started from the image. */
export async function openMemoryStore(): Promise<SqlStore> {
  return openStore({ inMemory: true, pgliteImage: await pgliteImage() });
}
