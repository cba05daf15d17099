import {
  createOfflineProvider,
  prepareTokenKeys,
  type Config,
  type ModelProvider,
  type Store,
  type TokenSettings,
} from "@conversation-api/core";
import { openStore, preloadPg, type SqlClient } from "@conversation-api/store";
import { ConfigError } from "@conversation-api/core";
import { loadConfig, isMemoryDataDir, onLambda, tokenSettings, type AppConfig } from "./config";

export interface Deps {
  config: Config;
  store: Store;
  provider: ModelProvider;
  tokens: TokenSettings;
}

type Env = Record<string, string | undefined>;

export interface BuildOptions {
  /** Opens the store in place of the configured one (tests start theirs from a prepared database). */
  openStore?: (config: AppConfig) => Promise<Store>;
}

/**
 * Builds the dependencies one runtime shares across its invocations (database connections and SDK
 * clients are reused across requests) from `env`. A runtime builds them and hands them to the handlers
 * through the invocation's context (`provideDeps`); nothing here reads a module-level instance, so
 * several runtimes with different settings can share one process (tests do).
 */
export async function buildDeps(env: Env = process.env, options: BuildOptions = {}): Promise<Deps> {
  // Independent, so started together: the secrets (an SSM round trip) and the store driver's module
  // (which store is chosen by plain environment values, known before any secret arrives), and on
  // Lambda a node-postgres store's connection, whose address is one of those values.
  const driver = loadStoreDriver(env);
  const groq = groqBound(env) ? loadGroq() : undefined;
  groq?.catch(() => {}); // awaited below when the key is set, and reported then
  const early = options.openStore ? undefined : earlyPgStore(env);
  let config: AppConfig;
  try {
    config = await loadConfig(env);
  } catch (e) {
    void early?.store.then((s) => s.close()).catch(() => {});
    throw e;
  }
  await driver;
  let store: Store;
  if (early && !config.supabase && config.DATABASE_URL === early.url) store = await early.store;
  else {
    void early?.store.then((s) => s.close()).catch(() => {});
    store = await (options.openStore ?? openConfiguredStore)(config);
  }
  const provider = config.GROQ_API_KEY
    ? (await (groq ?? loadGroq())).createGroqProvider(config)
    : createOfflineProvider({ tokenDelayMs: config.OFFLINE_TOKEN_DELAY_MS });
  const tokens: TokenSettings = tokenSettings(config);
  if (onLambda()) await warmUp(early ? undefined : store, config, tokens);
  return { config, store, provider, tokens };
}

/**
 * On Lambda, a node-postgres store at the bound DATABASE_URL (when no SUPABASE_URL is bound), its
 * connection started at once: the TCP connection and PostgreSQL's start-up then overlap the SSM read
 * of the secrets instead of following it. buildDeps keeps it if the parsed configuration chooses the
 * same store, and closes it otherwise.
 */
function earlyPgStore(env: Env): { url: string; store: Promise<Store> } | undefined {
  const url = bound(env, "DATABASE_URL");
  if (!onLambda() || !url || bound(env, "SUPABASE_URL")) return undefined;
  const store = openStore({ databaseUrl: url, migrate: false }).then((s) => {
    connect(s);
    return s;
  });
  store.catch(() => {}); // buildDeps awaits it when it keeps it, and reports a failure then
  return { url, store };
}

/**
 * Opens a node-postgres store's first connection (its pool connects on the first query). Not awaited:
 * an unreachable database must not hold up the build (pg has no connect timeout); the first query
 * reports it.
 */
const connect = (store: Store) => void (store as { sql?: SqlClient }).sql?.query("select 1").catch(() => {});

/** A runtime's dependencies: built on first use and shared from then on. */
export interface DepsSource {
  (): Promise<Deps>;
  /** Closes what was built (the store); the next use builds afresh. */
  close(): Promise<void>;
}

/** Builds from `env` on first use; a failed build is retried by the next use (it answers with the error). */
export function depsSource(env: Env = process.env, options: BuildOptions = {}): DepsSource {
  let current: Promise<Deps> | undefined;
  const source = () =>
    (current ??= buildDeps(env, options).catch((e) => {
      current = undefined;
      throw e;
    }));
  return Object.assign(source, {
    async close() {
      const d = current;
      current = undefined;
      if (d) await (await d).store.close();
    },
  });
}

/** What a runtime adds to each invocation's context so the handlers use its dependencies. */
export interface DepsContext {
  provideDeps?: () => Promise<Deps>;
}

/** The context fields that hand `source` to the handlers (a runtime merges them into every context). */
export const depsContext = (source: () => Promise<Deps>): Required<DepsContext> => ({ provideDeps: source });

/**
 * The process's own dependencies, from its environment: the Lambda container's (its entry builds them
 * during init, below), and any caller's that injects none (`getDeps`).
 */
export const processDeps = depsSource();

/** The dependencies an invocation runs with: its runtime's, else the process's own (on Lambda). */
export const depsOf = (context: DepsContext | undefined): Promise<Deps> => (context?.provideDeps ?? processDeps)();

/** The process's own dependencies (the Lambda container's; scripts that run the handlers in-process). */
export const getDeps = (): Promise<Deps> => processDeps();

/**
 * The Groq provider's module: groq-sdk with our stream reader, ~50 kB, a chunk of its own in a Lambda
 * bundle. Evaluated while the secrets are read when a key is bound (whether it is set, only the secret
 * says), instead of before init starts; a function whose key is not bound never loads it.
 */
const loadGroq = () => import("./providers/groq");
const groqBound = (env: Env) => Boolean(env.GROQ_API_KEY ?? env.SST_Secret_value_GROQ_API_KEY);

/** A plain value as the environment holds it before the configuration is loaded: set, or bound by SST. */
const bound = (env: Env, name: string): string | undefined => env[name] ?? env[`SST_Parameter_value_${name}`];

/** The chunk of the driver openConfiguredStore will choose (a no-op where it is already loaded). */
function loadStoreDriver(env: Env): Promise<unknown> {
  const load = bound(env, "SUPABASE_URL") ? import("@conversation-api/store/supabase") : bound(env, "DATABASE_URL") ? preloadPg() : Promise.resolve();
  return load.catch(() => {}); // openConfiguredStore reports a failure, with its context
}

/**
 * Work the first request would do, done while the container initialises: a node-postgres store opens
 * its connection (`store`: one whose connection earlyPgStore has not started yet), the token keys are
 * imported (WebCrypto), and, when the Groq SDK or the PostgREST client will need it, `fetch` runs its
 * request path once, while the connection is being made. In a Lambda bundle that is node-fetch's
 * (stacks/bundling.ts); unbundled it is Node's undici, compiled on first use (15-25 ms). Never fails.
 */
function warmUp(store: Store | undefined, config: AppConfig, tokens: TokenSettings): Promise<void> {
  if (store) connect(store);
  const keys = prepareTokenKeys(tokens);
  // A data: URL runs fetch's own machinery (Request, Headers, Response, body streams) with no network.
  const fetched = config.GROQ_API_KEY || config.supabase ? fetch("data:,").then((r) => r.arrayBuffer()).catch(() => {}) : undefined;
  return Promise.all([keys, fetched]).then(() => {});
}

/**
 * Supabase (PostgREST, per-user tokens) when SUPABASE_URL is set — the deployed setup; else PostgreSQL
 * at DATABASE_URL; else embedded PGlite. Each driver is imported only when chosen, so a Lambda bundle
 * never loads the others. On AWS the schema is applied at deploy time (docs/deploy.md), not on a cold start.
 */
async function openConfiguredStore(config: AppConfig): Promise<Store> {
  if (config.supabase) {
    const { createSupabaseStore } = await import("@conversation-api/store/supabase");
    return createSupabaseStore(config.supabase);
  }
  if (onLambda() && !config.DATABASE_URL && !isMemoryDataDir(config.DATA_DIR))
    throw new ConfigError(["SUPABASE_URL: required on AWS (npx sst secrets set SUPABASE_URL ...), or set DATABASE_URL"]);
  if (config.DATABASE_URL) return openStore({ databaseUrl: config.DATABASE_URL, migrate: !onLambda() });
  // Off Lambda, a new PGlite database starts from a cached image of a migrated one (`npm start` with a
  // new DATA_DIR or in memory: seconds instead of initdb and every migration).
  const pgliteImageCache = onLambda() ? undefined : await (await import("./pglite-image")).pgliteImageCache();
  return openStore({ ...(isMemoryDataDir(config.DATA_DIR) ? { inMemory: true } : { dataDir: config.DATA_DIR }), pgliteImageCache });
}

/** Closes the process's own dependencies. */
export const shutdown = (): Promise<void> => processDeps.close();

// The Lambda entry: build during the init phase: the module's load waits (top-level await) for the SSM read
// of the secrets, the store's setup and the warm-up below, so they run before the first request
// instead of inside its latency, and with the init phase's CPU: an on-demand function initialises with
// a full vCPU, while a 1024 MB one is invoked with about 0.6 of one. The wait is bounded, far inside
// the init phase's 10 s: past it the build goes on in the background. A failure is not fatal here: the
// first request retries and answers it as a structured error.
const INIT_WAIT_MS = 3_000;
if (onLambda()) {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([getDeps().catch(() => {}), new Promise((r) => (timer = setTimeout(r, INIT_WAIT_MS)))]);
  clearTimeout(timer);
}
