// Micro-benchmark of the per-token path alone, in one process: the SSE bridge (packages/functions
// http.ts) → Middy's pipeline → the local runtime's response stream → a loopback socket → a client
// that only counts bytes. It reports CPU time per token (process.cpuUsage, less sensitive to a loaded
// machine than wall-clock) for the bridge as it is and for the one-push-per-write bridge it replaced.
// `npx tsx bench/micro-sse.ts [tokens=20000] [perTurn=1,4] [rounds=5]`
import { createServer, request } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { bridge } from "../packages/functions/src/http";
import { FunctionUrlSink } from "../packages/local/src/function-url-sink";
import { LambdaResponseStream } from "../packages/local/src/response-stream";

type Run = (write: (chunk: string) => void, signal: AbortSignal) => Promise<unknown>;

function legacyBridge(run: Run): Readable {
  const gone = new AbortController();
  let finished: Promise<unknown> = Promise.resolve();
  const out = new Readable({
    read() {},
    destroy(err, callback) {
      gone.abort();
      finished.then(() => callback(err), callback);
    },
  });
  finished = run((chunk) => void (out.destroyed || out.push(chunk)), gone.signal).finally(() => out.destroyed || out.push(null));
  return out;
}

const [tokens = 20000, rounds = 5] = [Number(process.argv[2] ?? 20000), Number(process.argv[4] ?? 5)];
const perTurnList = (process.argv[3] ?? "1,4").split(",").map(Number);
const frame = (i: number) => `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" tok${i}"}}\n\n`;

const current = (run: Run): Readable => bridge(run).body;
let impl: (run: Run) => Readable = current;
let perTurn = 1;
const server = createServer((_req, res) => {
  res.socket?.setNoDelay(true);
  const sink = new FunctionUrlSink(res);
  const stream = new LambdaResponseStream(sink);
  sink.attach(stream);
  const body = impl(async (write) => {
    for (let i = 0; i < tokens; ) {
      // Tokens arrive per upstream read: `perTurn` of them in one turn of the event loop.
      for (let k = 0; k < perTurn && i < tokens; k++, i++) write(frame(i));
      await new Promise((r) => setImmediate(r));
    }
  });
  void pipeline(body, stream);
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const port = (server.address() as { port: number }).port;

const once = () =>
  new Promise<number>((resolve, reject) => {
    const cpu = process.cpuUsage();
    request({ port, host: "127.0.0.1", path: "/" }, (res) => {
      res.on("data", () => {});
      res.on("end", () => {
        const u = process.cpuUsage(cpu);
        resolve(((u.user + u.system) / tokens));
      });
    })
      .on("error", reject)
      .end();
  });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const pt of perTurnList) {
  perTurn = pt;
  const res: Record<string, number[]> = { legacy: [], current: [] };
  for (let r = 0; r < rounds + 1; r++) {
    for (const [name, fn] of [["legacy", legacyBridge], ["current", current]] as const) {
      impl = fn;
      const v = await once();
      if (r > 0) res[name]!.push(v); // round 0 warms up
    }
  }
  const l = median(res.legacy!), c = median(res.current!);
  console.log(`${pt} token(s) per turn: CPU per token (server + client, one process) legacy ${l.toFixed(2)} µs, current ${c.toFixed(2)} µs, ratio ${(c / l).toFixed(2)}×`);
}
server.close();
