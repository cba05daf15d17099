// Starts the real local runtime (HTTP server → API Gateway events → the Lambda handlers) in this test
// process, on a free loopback port, with an in-memory PGlite unless the suite asks otherwise.
import type { AddressInfo } from "node:net";
import { installAwsLambdaGlobal, createLocalServer, type ExtraRoutes, type Logger } from "@conversation-api/local";

export interface TestApp {
  url: string;
  api: string;
  /** What the runtime logged (access lines, handler failures): kept for assertions, never printed. */
  logs: { level: "info" | "warn" | "error"; message: string; error?: unknown }[];
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
};

/** Environment is read once per process by the handlers' shared deps, and vitest gives each file its own process. */
export async function startApp(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestApp> {
  for (const [k, v] of Object.entries({ ...DEFAULT_ENV, ...env })) process.env[k] = v;
  installAwsLambdaGlobal();
  const { routes, shutdown } = await import("@conversation-api/functions");
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
    ...(options.extraRoutes ? { extraRoutes: options.extraRoutes } : {}),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    api: `${url}/api/v1`,
    logs,
    close: async () => {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await shutdown();
    },
  };
}
