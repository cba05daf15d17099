// The app under test, alone in its process: the real local runtime (HTTP server → API Gateway /
// Function URL events → the Lambda handlers) on a loopback port. Configuration arrives as environment
// variables, set by the runner before this process started, because the shared deps read them once.
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
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
let loopDelay: IntervalHistogram | undefined;
const sample = () => {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
};

// --profile: a CPU profile of just the measured window (the runner brackets it), not start-up.
let profiler: Session | undefined;

serveIpc({
  url: () => url,
  "profile-start": async () => {
    profiler = new Session();
    profiler.connect();
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.setSamplingInterval", { interval: 100 });
    await profiler.post("Profiler.start");
  },
  "profile-stop": async (file: string) => {
    if (!profiler) throw new Error("profile-stop without profile-start");
    const { profile } = await profiler.post("Profiler.stop");
    profiler.disconnect();
    profiler = undefined;
    mkdirSync(file.slice(0, file.lastIndexOf("/")), { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
    return file;
  },
  memory: () => {
    globalThis.gc?.();
    return { rss: process.memoryUsage.rss(), heapUsed: process.memoryUsage().heapUsed };
  },
  // Peak RSS while a scenario runs: sampled every 10 ms (cheap: one syscall-free read of the RSS).
  "sample-start": () => {
    peakRss = process.memoryUsage.rss();
    clearInterval(sampler);
    sampler = setInterval(sample, 10);
    loopDelay?.disable();
    loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    return peakRss;
  },
  "sample-stop": () => {
    clearInterval(sampler);
    sample();
    loopDelay?.disable();
    // How long the event loop went without turning (ms): what every open stream waited at worst.
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    const delay = loopDelay ? { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) } : null;
    return { peakRss, rss: process.memoryUsage.rss(), loopDelayMs: delay };
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
