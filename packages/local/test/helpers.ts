import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { installAwsLambdaGlobal } from "../src/awslambda-shim";
import { createLocalServer, type LocalServer, type LocalServerOptions } from "../src/server";
import { silentLogger, type Logger } from "../src/logger";

// As in main.ts: the global exists before any fixture handler module is imported.
installAwsLambdaGlobal();

export interface Running {
  url: string;
  server: LocalServer;
  errors: string[];
  close(): Promise<void>;
}

/** Starts a local server on 127.0.0.1, an ephemeral port, collecting what it logs as errors. */
export async function start(options: Omit<LocalServerOptions, "logger">): Promise<Running> {
  const errors: string[] = [];
  const logger: Logger = { ...silentLogger, error: (m) => void errors.push(m) };
  const server = createLocalServer({ ...options, logger });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** node:http client, for what fetch cannot express (a header sent twice on separate lines). */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: OutgoingHttpHeaders; body?: Buffer | string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? "GET", headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}
