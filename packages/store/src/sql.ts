// The one seam between the store and a database driver. Two drivers: PGlite (embedded, for local
// runs and tests) and node-postgres (any real PostgreSQL, including Supabase).
import { mkdirSync } from "node:fs";
import type pg from "pg";

export interface SqlTx {
  /** One statement with $n parameters; rows come back with timestamps as ISO strings. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** A multi-statement script without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface SqlClient extends SqlTx {
  /** Runs `fn` in BEGIN … COMMIT; any throw rolls back and is rethrown. */
  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const INT8 = 20;
const TIMESTAMPTZ = 1184;

/**
 * PostgreSQL prints timestamptz as e.g. `2024-05-01 12:00:00.123456+02` (in the session time zone);
 * the API wants `2024-05-01T10:00:00.123Z`. Values that are not ordinary timestamps (infinity, BC)
 * pass through unchanged.
 */
export function timestamptzToIso(text: string): string {
  // Fast path for the common case, a UTC session: "YYYY-MM-DD HH:MM:SS[.ffffff]+00". Every row carries
  // timestamps, so this runs several times per row returned.
  // jsonb renders the same instant as "YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00".
  const sep = text.charCodeAt(10);
  const utc = text.endsWith("+00") ? 3 : text.endsWith("+00:00") ? 6 : 0;
  if (utc && text.length >= 19 + utc && (sep === 32 || sep === 84)) {
    const frac = text.charCodeAt(19) === 46 ? text.slice(20, -utc) : "";
    return `${text.slice(0, 10)}T${text.slice(11, 19)}.${(frac + "000").slice(0, 3)}Z`;
  }
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d(?::?\d\d)?(?::?\d\d)?)$/.exec(text);
  if (!m) return text;
  const ms = (m[3] ?? "").padEnd(3, "0").slice(0, 3);
  let zone = m[4]!;
  if (zone !== "Z") {
    // JS understands ±HH:MM only; sub-minute offsets exist only for pre-1900 local mean time.
    const digits = zone.slice(1).replace(/:/g, "");
    zone = `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || "00"}`;
  }
  const d = new Date(`${m[1]}T${m[2]}.${ms}${zone}`);
  return Number.isNaN(d.getTime()) ? text : d.toISOString();
}

/** Counts and sums fit comfortably in a double; the API speaks JSON numbers. */
const int8ToNumber = (text: string): number => Number(text);

// ---- PGlite ----------------------------------------------------------------------------------

export interface PgliteOptions {
  /** Directory to persist to; omitted = in memory. */
  dataDir?: string | undefined;
}

export async function createPgliteClient(opts: PgliteOptions = {}): Promise<SqlClient> {
  // Imported lazily so a Lambda talking to PostgreSQL never loads the WASM build.
  const { PGlite } = await import("@electric-sql/pglite");
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const db = await PGlite.create({
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    parsers: { [TIMESTAMPTZ]: timestamptzToIso, [INT8]: int8ToNumber },
  });
  type Queryable = Pick<typeof db, "query" | "exec">;
  const wrap = (q: Queryable): SqlTx => ({
    async query<T>(text: string, params: unknown[] = []) {
      return (await q.query<T>(text, params)).rows;
    },
    async exec(script: string) {
      await q.exec(script);
    },
  });
  return {
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    close: () => db.close(),
  };
}

// ---- node-postgres ---------------------------------------------------------------------------

export interface PgOptions {
  /** Pool size. Keep it small on Lambda: one container serves one request at a time. */
  max?: number | undefined;
  ssl?: pg.PoolConfig["ssl"];
}

export async function createPgClient(databaseUrl: string, opts: PgOptions = {}): Promise<SqlClient> {
  const { default: pgModule } = await import("pg");
  // Per-pool parsers rather than pg.types.setTypeParser, which would change every pool in the process.
  const types = {
    getTypeParser: ((oid: number, format?: "text" | "binary") => {
      if (oid === TIMESTAMPTZ) return timestamptzToIso;
      if (oid === INT8) return int8ToNumber;
      return pgModule.types.getTypeParser(oid, format);
    }) as pg.CustomTypesConfig["getTypeParser"],
  };
  const pool = new pgModule.Pool({
    connectionString: databaseUrl,
    max: opts.max ?? 5,
    ...(opts.ssl !== undefined ? { ssl: opts.ssl } : {}),
    types,
  });
  // An idle client losing its connection emits 'error' on the pool; unhandled, that kills the
  // process. The pool discards the client and the next query reconnects.
  pool.on("error", () => {});

  const wrap = (q: pg.Pool | pg.PoolClient): SqlTx => ({
    async query<T>(text: string, params: unknown[] = []) {
      return (await q.query(text, params)).rows as T[];
    },
    async exec(script: string) {
      // No parameters → simple query protocol, which accepts several statements.
      await q.query(script);
    },
  });

  return {
    ...wrap(pool),
    async transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query("begin");
        const result = await fn(wrap(client));
        await client.query("commit");
        return result;
      } catch (e) {
        try {
          await client.query("rollback");
        } catch (rollbackError) {
          // The connection is unusable; make the pool destroy it rather than hand it out again.
          broken = rollbackError as Error;
        }
        throw e;
      } finally {
        client.release(broken ?? false);
      }
    },
    close: () => pool.end(),
  };
}
