import type { Store } from "@conversation-api/core";
import { migrate } from "./migrate";
import { sqlRpc } from "./rpc";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createPgClient, createPgliteClient, type PgliteClient, type SqlClient } from "./sql";
import { createStore } from "./store";

export { createStore } from "./store";
export { sqlRpc, type Call, type Rpc, type RpcArgs } from "./rpc";
export { migrate } from "./migrate";
export { readMigrations, readSchema, type Migration } from "./migrations";
export { createPgClient, createPgliteClient, pgliteClient, type PgliteClient, timestamptzToIso, type PgOptions, type PgliteOptions, type SqlClient, type SqlTx } from "./sql";

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
  /** PGlite: a new database starts from the migrated image kept here; the first without one leaves it. */
  pgliteImageCache?: PgliteImageCache | undefined;
}

/** Where the image of an empty, migrated PGlite database is kept (PgliteOptions.image). */
export type PgliteImageCache = { read(): Blob | undefined; write(image: Blob): Promise<void> };

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
  // PostgreSQL's PG_VERSION marks a data directory that holds a database already.
  const isNew = !dataDir || !existsSync(join(dataDir, "PG_VERSION"));
  const cache = !opts.databaseUrl && opts.migrate !== false && isNew ? opts.pgliteImageCache : undefined;
  const image = opts.pgliteImage ?? cache?.read();
  const sql = opts.databaseUrl ? await createPgClient(opts.databaseUrl) : await createPgliteClient({ dataDir, thread, image });
  try {
    if (opts.migrate !== false) await migrate(sql);
  } catch (e) {
    await sql.close().catch(() => {});
    throw e;
  }
  // Best effort: a cache that cannot be written only means the next new database starts the long way.
  if (cache && !image) await (sql as PgliteClient).dumpImage().then((dump) => cache.write(dump)).catch(() => {});
  return Object.assign(createSqlStore(sql), { sql });
}

/**
 * Starts loading node-postgres (a chunk of its own in a Lambda bundle) ahead of createPgClient, e.g.
 * while a cold start waits for its secrets.
 */
export const preloadPg = (): Promise<unknown> => import("pg");
