// Figure 5's fresh process, as Lambda's runtime would start one: install the `awslambda` global, import
// one handler bundle, serve one Function URL invocation into an in-memory response stream, report.
// Compiled by the runner with esbuild into plain .mjs (no tsx loader in the measured process).
//
// env: BENCH_BUNDLE (file), BENCH_EVENT (JSON of the event); prints one JSON line and exits.
// BENCH_FULL_BODY=1 adds the first reply's whole body (text after the prelude) as `body`.
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";

const started = performance.now(); // ms since the process's time origin: Node's own bootstrap

const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
(globalThis as Record<string, unknown>).awslambda = {
  streamifyResponse(handler: Record<symbol, unknown>) {
    handler[STREAMING] = "response";
    return handler;
  },
  HttpResponseStream: {
    // The runtime writes the prelude just before the first body byte; writing it now is equivalent here.
    from(stream: Writable, prelude: unknown) {
      stream.write(JSON.stringify(prelude));
      stream.write(new Uint8Array(8));
      return stream;
    },
  },
};

/** An in-memory response stream, as the runtime hands one to a streamified handler. */
function responseStream(): { stream: Writable; chunks: Buffer[]; finished: Promise<void> } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      cb();
    },
  });
  (stream as Writable & { setContentType?: unknown }).setContentType = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    stream.once("finish", resolve);
    stream.once("error", reject);
  });
  return { stream, chunks, finished };
}

const event = JSON.parse(process.env.BENCH_EVENT ?? "{}");
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? "bench",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:bench",
  memoryLimitInMB: "1024",
  awsRequestId: crypto.randomUUID(),
  logGroupName: "/aws/lambda/bench",
  logStreamName: "bench",
  getRemainingTimeInMillis: () => 60_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

const t0 = performance.now();
const mod = (await import(pathToFileURL(process.env.BENCH_BUNDLE!).href)) as { handler: (e: unknown, s: Writable, c: unknown) => Promise<unknown> };
const imported = performance.now();

async function invoke(ev: unknown) {
  const { stream, chunks, finished } = responseStream();
  await mod.handler(ev, stream, { ...context, awsRequestId: crypto.randomUUID() });
  if (!stream.writableEnded) stream.end();
  await finished;
  const body = Buffer.concat(chunks);
  const nul = body.indexOf(Buffer.alloc(8));
  const prelude = nul >= 0 ? JSON.parse(body.subarray(0, nul).toString("utf8")) : null;
  const text = nul >= 0 ? body.subarray(nul + 8).toString("utf8") : body.toString("utf8");
  return {
    statusCode: (prelude?.statusCode as number | undefined) ?? null,
    bytes: body.length,
    completed: text.includes("event: message_stop") || text.includes("data: ok"),
    tail: text.slice(-200),
    ...(process.env.BENCH_FULL_BODY === "1" ? { body: text } : {}),
  };
}

const first = await invoke(event);
const done = performance.now();
// CPU the process used up to here (user + system, ms): steadier than wall time on a busy machine.
const cpu = process.cpuUsage();
const cpuMs = (cpu.user + cpu.system) / 1000;
// The main thread's alone (Node 23.9+), where the cold path runs: JIT, GC and thread-pool helpers excluded.
const threadCpu = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.();
const threadCpuMs = threadCpu ? (threadCpu.user + threadCpu.system) / 1000 : undefined;

// Warm replies after the cold one (BENCH_WARM of them, with BENCH_WARM_EVENT): each one's duration, as
// Lambda bills a streaming invocation (handler start → stream end), and the process's peak RSS.
const warmEvent = process.env.BENCH_WARM_EVENT ? JSON.parse(process.env.BENCH_WARM_EVENT) : event;
const warmMs: number[] = [];
let warmOk = true;
let warmError: string | undefined;
for (let i = 0; i < Number(process.env.BENCH_WARM ?? 0); i++) {
  const w0 = performance.now();
  // A new request each time, as Lambda would send: ids derived from the request id must not repeat.
  const now = Date.now();
  const r = await invoke({ ...warmEvent, requestContext: { ...warmEvent.requestContext, requestId: crypto.randomUUID(), time: new Date(now).toISOString(), timeEpoch: now } });
  warmMs.push(performance.now() - w0);
  if (r.statusCode !== 200 || !r.completed) {
    warmOk = false;
    warmError ??= `status ${r.statusCode}: ${r.tail}`;
  }
}

process.stdout.write(
  JSON.stringify({
    bootstrapMs: started,
    importMs: imported - t0,
    invokeMs: done - imported,
    totalMs: done,
    cpuMs,
    threadCpuMs,
    ...first,
    warmMs,
    warmOk,
    warmError,
    // KiB on Linux: the high-water mark of the whole process, cold start included.
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    // Whether Node's own fetch implementation (undici, with node:http2) was loaded: a bundle brings its
    // own (stacks/bundling.ts, LAMBDA_INJECT), so nothing should. Node's list of its loaded internals.
    undiciLoaded: ((process as { moduleLoadList?: string[] }).moduleLoadList ?? []).some((m) => m.includes("undici")),
    // performance.mark()s the bundle made, if any (ms since the time origin): where a cold start's time goes.
    marks: performance.getEntriesByType("mark").map((m) => [m.name, Math.round(m.startTime * 100) / 100]),
  }) + "\n",
  // Lambda would freeze here; the pg pool and keep-alive sockets would otherwise hold the process open.
  () => process.exit(0),
);
