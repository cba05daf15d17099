import type { Store } from "@conversation-api/core";
import { migrate } from "./migrate";
import { sqlRpc } from "./rpc";
import { createPgClient, createPgliteClient, type SqlClient } from "./sql";
import { createStore } from "./store";

export { createStore } from "./store";
export { sqlRpc, type Call, type Rpc, type RpcArgs } from "./rpc";
export { migrate } from "./migrate";
export { readMigrations, readSchema, MIGRATIONS_URL, SCHEMA_URL, type Migration } from "./migrations";
export { createPgClient, createPgliteClient, pgliteClient, timestamptzToIso, type PgOptions, type PgliteOptions, type SqlClient, type SqlTx } from "./sql";

export interface OpenStoreOptions {
  /** postgres://… — use PostgreSQL (e.g. Supabase). Wins over the PGlite options. */
  databaseUrl?: string | undefined;
  /** Persist an embedded PGlite database in this directory. */
  dataDir?: string | undefined;
  /** Embedded PGlite in memory (also the default when nothing else is given). */
  inMemory?: boolean | undefined;
  /** Apply the migrations in database/migrations/ this database has not had yet. Default true. */
  migrate?: boolean | undefined;
  /** PGlite in a worker thread (default: PGLITE_THREAD, "1" for on). */
  pgliteThread?: boolean | undefined;
  /** PGlite in memory: start from this data directory image (see PgliteOptions.image). */
  pgliteImage?: Blob | undefined;
}

export type SqlStore = Store & { sql: SqlClient };

/** The store over SQL: PGlite or a PostgreSQL server, through the connection `sql`. */
export const createSqlStore = (sql: SqlClient): Store => createStore(sqlRpc(sql));

export async function openStore(opts: OpenStoreOptions = {}): Promise<SqlStore> {
  const sql = opts.databaseUrl
    ? await createPgClient(opts.databaseUrl)
    : await createPgliteClient({ dataDir: opts.inMemory ? undefined : opts.dataDir, thread: opts.pgliteThread ?? process.env.PGLITE_THREAD === "1", image: opts.pgliteImage });
  try {
    if (opts.migrate !== false) await migrate(sql);
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
