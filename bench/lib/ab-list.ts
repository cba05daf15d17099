// bench/ab.ts --list: figure 4's list request (a page of 20 conversations, 10 connections) against two
// servers, round by round in rotating order, with the CPU each server's process group used per request.
import autocannon from "autocannon";
import { createConversation, inBatches, registerUser } from "./client";
import type { OurServer } from "./servers";
import { median, round } from "./stats";

type Cpu = { all: number; main: number };
type Label = "A" | "B";

const CONNECTIONS = 10;

/** A run of whole seconds (autocannon's clock ticks once a second: a run of N requests ends on a tick, not when they are done). */
function cannon(url: string, token: string, seconds: number): Promise<{ total: number; rps: number; bad: number }> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, pipelining: 1, duration: seconds, timeout: 10, headers: { authorization: `Bearer ${token}` } }, (err, r) => {
      if (err) return reject(err);
      resolve({ total: r.requests.total, rps: r.requests.total / r.duration, bad: r.non2xx + r.errors + r.timeouts });
    });
  });
}

export async function listRounds(servers: Record<Label, OurServer>, cpu: Record<Label, () => Cpu>, rounds: number, warmup: number, seconds: number, log: (line: string) => void) {
  const labels: Label[] = ["A", "B"];
  const targets = {} as Record<Label, { url: string; token: string }>;
  for (const k of labels) {
    const api = servers[k].api;
    const token = await registerUser(api);
    await inBatches(Array.from({ length: 20 }), 4, (_, i) => createConversation(api, token, `conversation ${i}`));
    targets[k] = { url: `${api}/conversations`, token };
  }
  const samples: Record<Label, { rps: number; all: number; main: number; bad: number }[]> = { A: [], B: [] };
  log(`list: ${rounds} rounds (+${warmup} warm-up) × ${seconds} s each`);
  for (let r = 0; r < warmup + rounds; r++) {
    for (const k of r % 2 ? [...labels].reverse() : labels) {
      const c0 = cpu[k]();
      const run = await cannon(targets[k].url, targets[k].token, seconds);
      const c1 = cpu[k]();
      if (r >= warmup) samples[k].push({ rps: run.rps, all: (c1.all - c0.all) / run.total, main: (c1.main - c0.main) / run.total, bad: run.bad });
    }
  }
  const m = (k: Label, f: (x: (typeof samples)[Label][number]) => number) => round(median(samples[k].map(f)), 3);
  console.table(labels.map((k) => ({ subject: k, "req/s": round(m(k, (x) => x.rps), 0), "cpu ms/req": m(k, (x) => x.all), "main ms/req": m(k, (x) => x.main), non2xx: samples[k].reduce((t, x) => t + x.bad, 0) })));
  const paired = (f: (x: (typeof samples)[Label][number]) => number) => round(median(samples.B.map((x, i) => f(x) / f(samples.A[i]!))), 3);
  console.log(`B / A per round, median: req/s ${paired((x) => x.rps)}, cpu/req ${paired((x) => x.all)}, main/req ${paired((x) => x.main)}`);
  for (const k of labels) console.log(`req/s per round ${k}: ${samples[k].map((x) => round(x.rps, 0)).join(" ")}`);
}
