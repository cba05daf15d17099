// `npx tsx bench/profile-summary.ts .bench/profiles/<file>.cpuprofile [top] [from-to]`: self and
// inclusive time per function (file:line) from a V8 CPU profile, e.g. one written by `npm run bench --
// --profile`. from-to: only the samples in that window, in CLOCK_MONOTONIC ms (what bench/ab.ts prints
// for its bursts; V8 stamps samples on the same clock).
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg, windowArg] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-summary <file.cpuprofile> [top]");
const top = Number(topArg ?? 40);
const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const [from, to] = windowArg ? windowArg.split("-").map((x) => Number(x) * 1000) : [-Infinity, Infinity];
const selfUs = new Map<number, number>();
let at = p.startTime;
let windowUs = 0;
p.samples.forEach((id, i) => {
  at += p.timeDeltas[i] ?? 0;
  if (at < from! || at > to!) return;
  windowUs += p.timeDeltas[i] ?? 0;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
});
const key = (n: Node) => {
  const url = n.callFrame.url.replace(/^file:\/\//, "").replace(process.cwd() + "/", "");
  return `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
};
const self = new Map<string, number>();
const incl = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  self.set(key(n), (self.get(key(n)) ?? 0) + us);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = key(byId.get(cur)!);
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + us);
  }
}
const total = windowArg ? windowUs : p.endTime - p.startTime;
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (of ${(total / 1000).toFixed(0)} ms profiled)`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
};
show("self time", self);
show("inclusive time", incl);

// Self time by area, so a profile answers "where does the time go" in one glance.
const AREAS: [string, (url: string, fn: string) => boolean][] = [
  ["idle", (_u, f) => f === "(idle)"],
  ["profiler itself (start/stop)", (u, f) => f === "dispatch" || u.includes("node:inspector")],
  ["garbage collector", (_u, f) => f === "(garbage collector)"],
  ["PGlite (WASM PostgreSQL in this thread)", (u) => u.includes("pglite") || u.startsWith("wasm://wasm/022a") || u.startsWith("wasm://wasm/0012") || u.startsWith("wasm://wasm/1592")],
  ["socket writes (writev/write syscalls)", (_u, f) => f === "writev" || f === "writeUtf8String" || f === "writeLatin1String" || f === "writeBuffer"],
  ["groq-sdk (SSE parse, request build)", (u) => u.includes("groq-sdk")],
  ["undici / fetch (HTTP client)", (u) => u.includes("undici") || u.includes("webstreams")],
  ["bcrypt", (u) => u.includes("bcrypt")],
  ["jose / JWT", (u) => u.includes("jose")],
  ["zod", (u) => u.includes("zod")],
  ["middy", (u) => u.includes("@middy")],
  ["our code: packages/core", (u) => u.includes("packages/core")],
  ["our code: packages/functions", (u) => u.includes("packages/functions")],
  ["our code: packages/store", (u) => u.includes("packages/store")],
  ["our code: packages/local (runtime)", (u) => u.includes("packages/local")],
  ["node streams / http / net", (u) => u.startsWith("node:internal/streams") || u.startsWith("node:_http") || u.startsWith("node:net") || u.startsWith("node:internal/stream_base") || u.startsWith("node:events")],
  ["other node internals", (u) => u.startsWith("node:")],
];
const areas = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const area = AREAS.find(([, test]) => test(n.callFrame.url, n.callFrame.functionName))?.[0] ?? "other (program, wasm glue, natives)";
  areas.set(area, (areas.get(area) ?? 0) + us);
}
const busy = total - (areas.get("idle") ?? 0) - (areas.get("profiler itself (start/stop)") ?? 0);
console.log(`\nself time by area (busy = ${(busy / 1000).toFixed(0)} ms, excluding idle and the profiler's own start/stop)`);
for (const [k, us] of [...areas].sort((a, b) => b[1] - a[1])) {
  const share = k === "idle" || k.startsWith("profiler") ? "" : `${((100 * us) / busy).toFixed(1).padStart(5)}% of busy`;
  console.log(`${(us / 1000).toFixed(1).padStart(9)} ms  ${share.padEnd(14)}  ${k}`);
}
