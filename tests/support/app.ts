// Starts the real local runtime (HTTP server → API Gateway events → the Lambda handlers) in this test
// process, on a free loopback port, with an in-memory PGlite unless the suite asks otherwise.
import type { AddressInfo } from "node:net";
import { installAwsLambdaGlobal, createLocalServer, silentLogger, type Logger } from "@conversation-api/local";

export interface TestApp {
  url: string;
  api: string;
  close(): Promise<void>;
}

const DEFAULT_ENV: Record<string, string> = {
  DATA_DIR: "memory://",
  OFFLINE_TOKEN_DELAY_MS: "0",
  JWT_SECRET: "test-secret-that-is-at-least-32-characters-long",
};

/** Environment is read once per process by the handlers' shared deps, and vitest gives each file its own process. */
export async function startApp(env: Record<string, string> = {}, opts: { hideDisconnects?: boolean; logger?: Logger } = {}): Promise<TestApp> {
  for (const [k, v] of Object.entries({ ...DEFAULT_ENV, ...env })) process.env[k] = v;
  installAwsLambdaGlobal();
  const { routes, shutdown } = await import("@conversation-api/functions");
  const server = createLocalServer({ routes, hideDisconnects: opts.hideDisconnects ?? false, ...(opts.logger ? { logger: opts.logger } : {}) });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    api: `${url}/api/v1`,
    close: async () => {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await shutdown();
    },
  };
}
