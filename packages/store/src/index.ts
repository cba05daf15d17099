import type { Store } from "@conversation-api/core";
import { migrate } from "./migrate";
import { sqlRpc } from "./rpc";
import { pgliteImageFile, readPgliteImage, writePgliteImage } from "./pglite-image";
import { createPgClient, createPgliteClient, isNewPgliteDir, type SqlClient } from "./sql";
import { createStore } from "./store";

export { createStore } from "./store";
export { sqlRpc, type Call, type Rpc, type RpcArgs } from "./rpc";
export { migrate } from "./migrate";
export { readMigrations, readSchema, type Migration } from "./migrations";
export { pgliteImageCacheDir, pgliteImageFile, readPgliteImage, writePgliteImage, type ImageKind } from "./pglite-image";
export { createPgClient, createPgliteClient, isNewPgliteDir, pgliteClient, type PgliteClient, timestamptzToIso, type PgOptions, type PgliteOptions, type SqlClient, type SqlTx } from "./sql";

export interface OpenStoreOptions {
  /** postgres://… — use PostgreSQL (e.g. Supabase). Wins over the PGlite options. */
  databaseUrl?: string | undefined;
  /** Persist an embedded PGlite database in this directory. */
  dataDir?: string | undefined;
  /** Embedded PGlite in memory (also the default when nothing else is given). */
  inMemory?: boolean | undefined;
  /** Apply the migrations in database/migrations/ this database has not had yet. Default true. */
  migrate?: boolean | undefined;
  /** PGlite in a worker thread (default: PGLITE_THREAD, "1" on, "0" off, else `pgliteThreadDefault`: on disk only). */
  pgliteThread?: boolean | undefined;
  /** PGlite: a new database starts from this image of a data directory (see PgliteOptions.image). */
  pgliteImage?: Blob | undefined;
  /**
   * PGlite: a directory of images (pglite-image.ts). A new database starts from the image of a migrated
   * one kept there, and the first new database without one leaves its image there once migrated.
   */
  pgliteImageCache?: string | undefined;
}

/**
 * Whether PGlite runs in a worker thread when PGLITE_THREAD says neither "1" nor "0": yes for a
 * database on disk (what `npm start` opens), so its statements, file writes included, run beside the
 * server's event loop instead of on it; measured in the same run at 100 concurrent streams (bench
 * figure 9, docs/performance.md). A database in memory (tests, throwaway stores) stays on the calling
 * thread, where a store opens faster.
 */
export const pgliteThreadDefault = (onDisk: boolean): boolean => onDisk;

export type SqlStore = Store & { sql: SqlClient };

/** The store over SQL: PGlite or a PostgreSQL server, through the connection `sql`. */
export const createSqlStore = (sql: SqlClient): Store => createStore(sqlRpc(sql));

export async function openStore(opts: OpenStoreOptions = {}): Promise<SqlStore> {
  const dataDir = opts.inMemory ? undefined : opts.dataDir;
  const env = process.env.PGLITE_THREAD;
  const thread = opts.pgliteThread ?? (env === "1" || (env !== "0" && pgliteThreadDefault(dataDir !== undefined)));
  if (opts.databaseUrl) return withStore(await createPgClient(opts.databaseUrl), opts.migrate !== false);
  const cached = opts.pgliteImageCache && opts.migrate !== false && isNewPgliteDir(dataDir) ? pgliteImageFile(opts.pgliteImageCache) : undefined;
  const image = opts.pgliteImage ?? (cached ? readPgliteImage(cached) : undefined);
  const sql = await createPgliteClient({ dataDir, thread, image });
  const store = await withStore(sql, opts.migrate !== false);
  // Best effort: a cache that cannot be written only means the next new database starts the long way.
  if (cached && !image) await sql.dumpImage().then((dump) => writePgliteImage(cached, dump)).catch(() => {});
  return store;
}

async function withStore(sql: SqlClient, migrating: boolean): Promise<SqlStore> {
  try {
    if (migrating) await migrate(sql);
  } catch (e) {
    await sql.close().catch(() => {});
    throw e;
  }
  return Object.assign(createSqlStore(sql), { sql });
}

/**
 * Starts loading node-postgres (a chunk of its own in a Lambda bundle) ahead of createPgClient, e.g.
 * while a cold start waits for its secrets.
 */
export const preloadPg = (): Promise<unknown> => import("pg");
