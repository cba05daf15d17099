// The one seam between the store and a database driver. Two drivers: PGlite (embedded, for local
// runs and tests) and node-postgres (any real PostgreSQL, including Supabase).
import type pg from "pg";
import { makePrivateDir, tightenModes } from "./private-dir";

export interface SqlTx {
  /** One statement with $n parameters; rows come back with timestamps as ISO strings. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** A multi-statement script without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/** set_config(name, value, is_local) pairs: a role and JWT claims, as PostgREST sets them. */
export type LocalSettings = readonly (readonly [name: string, value: string])[];

export interface SqlClient extends SqlTx {
  /** Runs `fn` in BEGIN … COMMIT; any throw rolls back and is rethrown. */
  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T>;
  /**
   * One statement in a transaction of its own, after `set_config(name, value, true)` for each setting:
   * what `transaction` with a set_config statement and then `text` does, in one round trip. The
   * settings are transaction-local, so nothing outlives the statement; a failure rolls back both.
   */
  queryAs<T = Record<string, unknown>>(settings: LocalSettings, text: string, params?: unknown[]): Promise<T[]>;
  /**
   * True where the database lives in this process (PGlite, on this thread or in its worker thread): no
   * other instance serves its users, so a client that saw a reply end can only send again through here.
   */
  readonly inProcess?: boolean;
  close(): Promise<void>;
}

/**
 * Our type parsers, by type oid, for every driver: timestamptz (1184) as the API's ISO text, int8 (20:
 * counts and sums) as Number (they fit comfortably in a double, and the API speaks JSON numbers).
 */
const PARSERS = { 1184: timestamptzToIso, 20: Number };

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

const settingsStatements: string[] = [];
/** `select set_config($1, $2, true), …` for `n` settings (names and values both parameters); one string per n. */
const settingsStatement = (n: number): string =>
  (settingsStatements[n] ??= `select ${Array.from({ length: n }, (_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(", ")}`);

// ---- PGlite ----------------------------------------------------------------------------------

export interface PgliteOptions {
  /** Directory to persist to; omitted = in memory. */
  dataDir?: string | undefined;
  /** Run the database in a worker thread rather than on this thread's event loop. */
  thread?: boolean | undefined;
  /** A new database (not yet in `dataDir`) starts from this image (`dumpDataDir`, uncompressed), not initdb. */
  image?: Blob | undefined;
}

/** A PGlite client, which can also write its database out as an image (see PgliteOptions.image). */
export type PgliteClient = SqlClient & { dumpImage(): Promise<Blob> };

export async function createPgliteClient(opts: PgliteOptions = {}): Promise<PgliteClient> {
  // Imported lazily so a Lambda talking to PostgreSQL never loads the WASM build.
  const pglite = await import("@electric-sql/pglite");
  const { PGlite, protocol, parse } = pglite;
  if (opts.dataDir) makePrivateDir(opts.dataDir);
  const db: PgliteBackend = opts.thread
    ? await pgliteThread(opts.dataDir, opts.image, pglite)
    : await PGlite.create({
        ...(opts.dataDir ? { dataDir: opts.dataDir } : { startParams: [...PGlite.defaultStartParams, ...IN_MEMORY_SETTINGS] }),
        ...(opts.image ? { loadDataDir: opts.image } : {}),
        parsers: PARSERS,
      });
  if (opts.dataDir) tightenModes(opts.dataDir);
  // In memory there is nothing to sync to a file system after each batch.
  return Object.assign(pgliteClient(db, protocol.serialize, parse, { syncToFs: Boolean(opts.dataDir) }), { dumpImage: () => db.dumpDataDir("none") });
}

// In memory the files are in memory already: the default 128 MB buffer pool only copies pages again,
// and setting it up is a third of the CPU of a start from an image (620 ms to 410 ms here).
const IN_MEMORY_SETTINGS = ["-c", "shared_buffers=16MB"];

type Pglite = typeof import("@electric-sql/pglite");
type BackendMessage = import("@electric-sql/pglite").messages.BackendMessage;
type Serialize = Pglite["protocol"]["serialize"];
type Parse = Pglite["parse"];

/** What the driver needs from PGlite: PGlite itself, or the same backend in a worker thread. */
export interface PgliteBackend {
  execProtocol(message: Uint8Array, opts?: { syncToFs?: boolean }): Promise<{ messages: BackendMessage[] }>;
  serializers: Record<number, (x: any) => string>;
  parsers: Record<number, (x: string, typeId?: number) => unknown>;
  isInTransaction(): boolean | Promise<boolean>;
  dumpDataDir(compression: "none"): Promise<Blob>;
  close(): Promise<void>;
}

/**
 * PGlite in a worker thread (pglite-thread.mjs). The thread only runs protocol messages through the
 * WASM backend; everything else (statement cache, batching, ordering, serializing parameters and
 * parsing results) stays in this thread, so both variants share one driver. The response bytes are
 * transferred, not copied.
 */
async function pgliteThread(dataDir: string | undefined, image: Blob | undefined, { protocol: { Parser, serialize }, parse, types }: Pglite): Promise<PgliteBackend> {
  const { Worker } = await import("node:worker_threads");
  const bytes = image && new Uint8Array(await image.arrayBuffer());
  const worker = new Worker(new URL("./pglite-thread.mjs", import.meta.url), { workerData: { dataDir, image: bytes }, transferList: bytes ? [bytes.buffer] : [] });
  // One request at a time (the driver's queue orders them): one message to the thread, one answer back.
  let waiting: { resolve(v: Uint8Array | undefined): void; reject(e: Error): void } | undefined;
  let failure: Error | undefined;
  // Requests sent while the thread still starts PGlite wait in its port; the first is the array types' query below.
  worker.on("message", (m: { ok: boolean; data?: Uint8Array; error?: string }) => {
    const w = waiting;
    waiting = undefined;
    // An idle thread must not keep the process alive (PGlite in this thread would not either); one with
    // a request in hand must.
    worker.unref();
    if (m.ok) w?.resolve(m.data);
    else w?.reject(new Error(`PGlite thread: ${m.error}`));
  });
  // The thread is gone (start-up failure or crash): what is pending will not be answered.
  const fail = (e: Error) => {
    failure = e;
    waiting?.reject(e);
    waiting = undefined;
  };
  worker.on("error", fail);
  worker.on("exit", (code) => fail(new Error(`PGlite thread exited (${code})`)));
  const call = (msg: { op: string; bytes?: Uint8Array; syncToFs?: boolean }) =>
    new Promise<Uint8Array | undefined>((resolve, reject) => {
      if (failure) return reject(failure);
      waiting = { resolve, reject };
      worker.ref();
      worker.postMessage(msg);
    });
  const parser = new Parser();
  let inTransaction = false;
  const backend: PgliteBackend = {
    async execProtocol(message, { syncToFs = true } = {}) {
      const data = await call({ op: "exec", bytes: message, syncToFs });
      const messages: BackendMessage[] = [];
      let error: Error | undefined;
      parser.parse(data ?? new Uint8Array(0), (m) => {
        messages.push(m);
        if (m.name === "error") error ??= m as unknown as Error;
        else if (m.name === "readyForQuery") inTransaction = (m as unknown as { status: string }).status !== "I";
      });
      // As PGlite's execProtocol: the first error of the batch is thrown (the rest of it still ran).
      if (error) throw error;
      return { messages };
    },
    serializers: { ...types.serializers },
    parsers: { ...types.parsers, ...PARSERS },
    isInTransaction: () => inTransaction,
    dumpDataDir: async () => new Blob([(await call({ op: "dump" }))!]),
    async close() {
      await call({ op: "close" });
      await worker.terminate();
    },
  };
  // Array types, as PGlite registers them when it starts (its _initArrayTypes).
  const { messages } = await backend.execProtocol(
    serialize.query(`select b.oid, b.typarray from pg_catalog.pg_type a left join pg_catalog.pg_type b on b.oid = a.typelem
                      where a.typcategory = 'A' group by b.oid, b.typarray order by b.oid`),
    { syncToFs: false },
  );
  for (const { oid, typarray } of parse.parseResults(messages, backend.parsers)[0]!.rows as { oid: number; typarray: number }[]) {
    backend.serializers[typarray] = (x) => types.arraySerializer(x, backend.serializers[oid], typarray);
    backend.parsers[typarray] = (x) => types.arrayParser(x, backend.parsers[oid] as Parameters<typeof types.arrayParser>[1], typarray);
  }
  return backend;
}

/** Named prepared statements kept per client; beyond this, statements are parsed unnamed each time. */
const STATEMENT_CACHE = 500;
/** Serialized identities kept per client (see runAs); a full cache starts again empty. */
const IDENTITY_CACHE = 1000;

/**
 * PGlite's `query` costs six calls into the WASM backend (Parse, Describe, Bind, Describe, Execute,
 * Sync, each a separate round) and plans the statement again every time; its `transaction` adds a BEGIN
 * and a COMMIT round each. This client speaks the extended protocol to the same backend directly:
 *  - each statement text is parsed once into a named prepared statement (plan cached by PostgreSQL,
 *    re-planned by PostgreSQL itself when the role, RLS or the schema it depends on changes), its
 *    parameter types read once with Describe;
 *  - an execution is one batch: Bind + Describe + Execute + Sync;
 *  - BEGIN travels in the same batch as a transaction's first statement.
 * Parameters are still sent as protocol values (never spliced into SQL), serialized by their declared
 * type with PGlite's own serializers; rows are parsed by PGlite's own result parser and type parsers.
 * All calls go through one queue: a transaction holds it from BEGIN to COMMIT, as PGlite's does.
 */
export function pgliteClient(db: PgliteBackend, serialize: Serialize, parse: Parse, { syncToFs = true }: { syncToFs?: boolean } = {}): SqlClient {
  const sync = { syncToFs };
  const statements = new Map<string, { name: string; paramTypes: number[] }>();
  // The settings' serialized Bind … Execute by statement and settings: a user's identity is the same
  // bytes on each of their calls, and serializing a Bind costs more than the lookup.
  const identities = new Map<string, Uint8Array[]>();
  let queue: Promise<unknown> = Promise.resolve();
  /** Runs `fn` when every earlier call has finished. */
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };

  /** Parses `text` (once per text while the cache has room) and returns its statement name and parameter types. */
  async function prepare(text: string): Promise<{ name: string; paramTypes: number[] }> {
    const known = statements.get(text);
    if (known) return known;
    const name = statements.size < STATEMENT_CACHE ? `s${statements.size + 1}` : "";
    const describe = [serialize.parse({ name, text, types: [] }), serialize.describe({ type: "S", name }), serialize.sync()];
    const { messages } = await db.execProtocol(Buffer.concat(describe), { syncToFs: false });
    const statement = { name, paramTypes: parse.parseDescribeStatementResults(messages) };
    if (name) statements.set(text, statement);
    return statement;
  }

  /** Bind + Describe + Execute of a prepared statement, its parameters serialized by their declared types. */
  const execution = ({ name, paramTypes }: { name: string; paramTypes: number[] }, params: unknown[]): Uint8Array[] => {
    const values = params.map((v, i) => {
      if (v === null || v === undefined) return null;
      const toText = db.serializers[paramTypes[i]!];
      return toText ? toText(v) : String(v);
    });
    return [serialize.bind({ statement: name, values }), serialize.describe({ type: "P" }), serialize.execute({})];
  };

  /**
   * One statement and a Sync as one batch: the rows of its result. `prefix`: messages to send before it
   * in the same batch, asked for only once the statement has parsed (a parse error sends nothing).
   */
  async function run<T>(text: string, params: unknown[], prefix: () => Uint8Array[] = () => []): Promise<T[]> {
    const statement = await prepare(text);
    const { messages } = await db.execProtocol(Buffer.concat([...prefix(), ...execution(statement, params), serialize.sync()]), sync);
    return (parse.parseResults(messages, db.parsers).at(-1)?.rows ?? []) as T[];
  }

  /**
   * The settings and the statement as one batch with a single Sync: without BEGIN, everything up to
   * the Sync is one implicit transaction (PostgreSQL's extended-query protocol), so set_config(…, true)
   * holds for the statement and ends with it, and an error anywhere rolls back all of it.
   */
  async function runAs<T>(settings: LocalSettings, text: string, params: unknown[]): Promise<T[]> {
    const set = await prepare(settingsStatement(settings.length));
    const key = set.name && JSON.stringify([set.name, settings]);
    let prefix = key ? identities.get(key) : undefined;
    if (!prefix) {
      prefix = execution(set, settings.flat());
      if (identities.size >= IDENTITY_CACHE) identities.clear();
      if (key) identities.set(key, prefix);
    }
    const bytes = prefix;
    return run<T>(text, params, () => bytes);
  }

  async function script(text: string, prefix: Uint8Array[] = []): Promise<void> {
    await db.execProtocol(Buffer.concat([...prefix, serialize.query(text)]), sync);
  }

  return {
    inProcess: true,
    query: (text, params = []) => exclusive(() => run(text, params)),
    queryAs: (settings, text, params = []) => exclusive(() => runAs(settings, text, params)),
    exec: (text) => exclusive(() => script(text)),
    transaction: <T>(fn: (tx: SqlTx) => Promise<T>) =>
      exclusive(async () => {
        let begun = false;
        let closed = false;
        // BEGIN rides with the first statement; a transaction that sends nothing sends no BEGIN.
        const begin = (): Uint8Array[] => {
          if (begun) return [];
          begun = true;
          return [serialize.query("BEGIN")];
        };
        const open = () => {
          if (closed) throw new Error("Transaction is closed");
        };
        const tx: SqlTx = {
          query: async (text, params = []) => (open(), run(text, params, begin)),
          exec: async (text) => (open(), script(text, begin())),
        };
        try {
          const result = await fn(tx);
          closed = true;
          if (begun) {
            const { messages } = await db.execProtocol(serialize.query("COMMIT"), sync);
            // COMMIT of a transaction in which a statement failed (and the error was caught) rolls back.
            if (parse.parseResults(messages, db.parsers).at(-1)?.command === "ROLLBACK") throw new Error("Transaction aborted: a statement in it failed");
          }
          return result;
        } catch (e) {
          closed = true;
          if (await db.isInTransaction()) await script("ROLLBACK");
          throw e;
        }
      }),
    close: () => exclusive(() => db.close()),
  };
}

// ---- node-postgres ---------------------------------------------------------------------------

export interface PgOptions {
  /** Pool size. Keep it small on Lambda: one container serves one request at a time. */
  max?: number | undefined;
}

export async function createPgClient(databaseUrl: string, opts: PgOptions = {}): Promise<SqlClient> {
  const { default: pgModule } = await import("pg");
  // node-postgres's own value preparation and literal quoting (its module exports them as `utils`).
  const utils = (pgModule as unknown as { utils: PgUtils }).utils;
  // Per-pool parsers rather than pg.types.setTypeParser, which would change every pool in the process.
  const ours: Record<number, unknown> = PARSERS;
  const getTypeParser = (oid: number, format?: "text" | "binary") => ours[oid] ?? pgModule.types.getTypeParser(oid, format);
  const types = { getTypeParser: getTypeParser as pg.CustomTypesConfig["getTypeParser"] };
  const pool = new pgModule.Pool({ connectionString: databaseUrl, max: opts.max ?? 5, types });
  // An idle client losing its connection emits 'error' on the pool; unhandled, that kills the
  // process. The pool discards the client and the next query reconnects.
  pool.on("error", () => {});

  const wrap = (q: pg.Pool | pg.PoolClient): SqlTx => ({
    query: async <T>(text: string, params: unknown[] = []) => (await q.query(text, params)).rows as T[],
    // No parameters → simple query protocol, which accepts several statements.
    exec: async (script: string) => void (await q.query(script)),
  });

  async function transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("begin");
      const result = await fn(wrap(client));
      await client.query("commit");
      return result;
    } catch (e) {
      // A failed rollback leaves the connection unusable; make the pool destroy it rather than hand it out again.
      broken = await client.query("rollback").then(() => undefined, (rollbackError: Error) => rollbackError);
      throw e;
    } finally {
      client.release(broken ?? false);
    }
  }

  return {
    ...wrap(pool),
    transaction,
    async queryAs<T>(settings: LocalSettings, text: string, params: unknown[] = []): Promise<T[]> {
      // One simple-protocol query holding both statements: PostgreSQL runs a multi-statement query
      // string as one implicit transaction, so the settings are local to it (as in `transaction`).
      // Its values go in as literals, quoted exactly as libpq's PQescapeLiteral does; a value
      // that cannot (a NUL byte, binary) or a statement whose text the splice cannot be sure of
      // takes the parameterised path: the same statements in a transaction, three round trips more.
      const set = inlineParams(settingsStatement(settings.length), settings.flat(), utils);
      const statement = inlineParams(text, params, utils);
      if (set === null || statement === null)
        return transaction(async (tx) => {
          await tx.query(settingsStatement(settings.length), settings.flat());
          return tx.query<T>(text, params);
        });
      const results = (await pool.query(`${set};\n${statement}`)) as unknown as pg.QueryResult | pg.QueryResult[];
      return (Array.isArray(results) ? results.at(-1)!.rows : results.rows) as T[];
    },
    close: () => pool.end(),
  };
}

interface PgUtils {
  /** What node-postgres sends for a parameter value: text, a Buffer (bytea) or null. */
  prepareValue(value: unknown): string | Buffer | null;
  escapeLiteral(text: string): string;
}

/**
 * `text` with each `$n` replaced by the n-th value as a quoted literal, or null where that is not
 * certainly the same statement: `$` outside a plain parameter (dollar quoting), E'' or U&'' strings,
 * block comments, backslashes, and values node-postgres would not send as text or that contain a NUL byte. A quoted
 * literal is of unknown type until its context decides, exactly as an untyped parameter is.
 */
export function inlineParams(text: string, params: readonly unknown[], utils: PgUtils): string | null {
  // A backslash in the statement itself could end a literal early where standard_conforming_strings is off.
  if (text.includes("\\")) return null;
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      if (c === "'" && /[a-z0-9_&]/i.test(text[i - 1] ?? "")) return null; // E'…', U&'…', B'…', X'…'
      const end = text.indexOf(c, i + 1);
      if (end === -1) return null;
      i = end; // a doubled quote ('' or "") just starts the next quoted run
    } else if (c === "-" && text[i + 1] === "-") {
      const end = text.indexOf("\n", i);
      if (end === -1) break;
      i = end;
    } else if (c === "/" && text[i + 1] === "*") {
      return null;
    } else if (c === "$") {
      const m = /^\$(\d+)(?![\w$])/.exec(text.slice(i, i + 12));
      if (!m || /[\w$]/.test(text[i - 1] ?? "")) return null;
      const n = Number(m[1]);
      if (n < 1 || n > params.length) return null;
      const v = params[n - 1];
      const prepared = v === null || v === undefined ? null : utils.prepareValue(v);
      if (prepared !== null && (typeof prepared !== "string" || prepared.includes("\0"))) return null;
      out += `${text.slice(from, i)}${prepared === null ? "NULL" : utils.escapeLiteral(prepared)}`;
      i += m[0].length - 1;
      from = i + 1;
    }
  }
  return out + text.slice(from);
}
