// Starts the real local runtime (HTTP server → API Gateway events → the Lambda handlers) in this test
// process, on a free loopback port, with an in-memory PGlite unless the suite asks otherwise.
import type { AddressInfo } from "node:net";
import { installAwsLambdaGlobal, createLocalServer, type ExtraRoutes, type Logger } from "@conversation-api/local";
import type { Deps } from "@conversation-api/functions";
import { openMemoryStore } from "./pglite-image";

export interface TestApp {
  url: string;
  api: string;
  /** What the runtime logged (access lines, handler failures): kept for assertions, never printed. */
  logs: { level: "info" | "warn" | "error"; message: string; error?: unknown }[];
  /** The dependencies this runtime hands its handlers (built from the environment startApp was given). */
  deps(): Promise<Deps>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Requests answered outside the route table, as `npm start` serves the playground. */
  extraRoutes?: ExtraRoutes;
  /** As a Function URL: a client disconnect is invisible to streaming handlers (LAMBDA_FAITHFUL). */
  hideDisconnects?: boolean;
  /** Replaces the capturing logger (then `logs` stays empty). */
  logger?: Logger;
}

const DEFAULT_ENV: Record<string, string> = {
  DATA_DIR: "memory://",
  OFFLINE_TOKEN_DELAY_MS: "0",
  JWT_SECRET: "test-secret-that-is-at-least-32-characters-long",
  // bcrypt's minimum cost: the tests register hundreds of throwaway accounts, and no test is about the
  // cost (a login still runs a real bcrypt comparison against a real hash).
  PASSWORD_HASH_COST: "4",
};

/**
 * The settings are this runtime's own: its dependencies are built from `env` over the process's
 * environment, which stays untouched, so runtimes with different settings can share one process.
 */
export async function startApp(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestApp> {
  installAwsLambdaGlobal();
  const { routes, depsSource, depsContext } = await import("@conversation-api/functions");
  const settings = { ...process.env, ...DEFAULT_ENV, ...env };
  // The in-memory database the settings choose, started from the migrated image (pglite-image.ts).
  const inMemory = settings.DATA_DIR!.startsWith("memory://") && !settings.DATABASE_URL && !settings.SUPABASE_URL;
  const deps = depsSource(settings, inMemory ? { openStore: openMemoryStore } : {});
  // Built here, inside the caller's beforeAll (its hook timeout), rather than inside the first test's
  // first request, where a busy machine could spend the test's whole timeout opening the database.
  // A failure (a suite that tests an unreachable database) is left for the requests to report.
  await deps().catch(() => {});
  const logs: TestApp["logs"] = [];
  const logger: Logger = options.logger ?? {
    info: (message) => void logs.push({ level: "info", message }),
    warn: (message) => void logs.push({ level: "warn", message }),
    error: (message, error) => void logs.push({ level: "error", message, error }),
  };
  const server = createLocalServer({
    routes,
    logger,
    hideDisconnects: options.hideDisconnects ?? false,
    context: depsContext(deps),
    ...(options.extraRoutes ? { extraRoutes: options.extraRoutes } : {}),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    api: `${url}/api/v1`,
    logs,
    deps,
    close: async () => {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await server.invocations();
      await deps.close();
    },
  };
}
