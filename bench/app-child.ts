// The app under test, alone in its process: the real local runtime (HTTP server → API Gateway /
// Function URL events → the Lambda handlers) on a loopback port. Configuration arrives as environment
// variables, set by the runner before this process started, because the shared deps read them once.
import type { AddressInfo } from "node:net";
import { createLocalServer, installAwsLambdaGlobal, silentLogger } from "@conversation-api/local";
import { announceReady, serveIpc } from "./lib/ipc";

installAwsLambdaGlobal();
const functions = await import("@conversation-api/functions");
// Open the database (and run the migration) now rather than inside the first measured request.
await functions.getDeps();

// Logging one line per request to a terminal is a development nicety, not part of what is measured.
const server = createLocalServer({ routes: functions.routes, logger: silentLogger });
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

let peakRss = 0;
let sampler: NodeJS.Timeout | undefined;
const sample = () => {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
};

serveIpc({
  url: () => url,
  memory: () => {
    globalThis.gc?.();
    return { rss: process.memoryUsage.rss(), heapUsed: process.memoryUsage().heapUsed };
  },
  // Peak RSS while a scenario runs: sampled every 10 ms (cheap: one syscall-free read of the RSS).
  "sample-start": () => {
    peakRss = process.memoryUsage.rss();
    clearInterval(sampler);
    sampler = setInterval(sample, 10);
    return peakRss;
  },
  "sample-stop": () => {
    clearInterval(sampler);
    sample();
    return { peakRss, rss: process.memoryUsage.rss() };
  },
  cpu: () => process.cpuUsage(),
  stop: async () => {
    clearInterval(sampler);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await functions.shutdown();
  },
});
announceReady(url);
