// `npx tsx bench/ab.ts [--a DIR | --a-ref COMMIT] [--b DIR] [--env-a K=V,…] [--env-b K=V,…] [--rounds N]
//   [--concurrent N] [--bursts N] [--portkey] [--profile-b] [--list [--seconds N]]`
//
// A same-run A/B of two versions (or two settings) of `npm start`, for a machine that other work keeps
// busy: both servers run side by side against one Groq stand-in (figure 9's upstream), rounds
// interleave A, B and the direct call in rotating order, and every figure is a median of per-round
// differences, so load that comes and goes hits both sides alike. Besides latency it reports the CPU
// time each server's process group used per reply, which load on other cores hardly moves.
//
// --a-ref checks the commit out into a temporary worktree (sharing this checkout's node_modules) and
// removes it afterwards. --profile-b writes CPU profiles of B's processes into .bench/profiles/ab-b-*.
//
// --list measures `GET /conversations` instead (bench figure 4's list: a page of 20, autocannon with 10
// connections): per round, `--seconds` of requests to A and to B in rotating order; requests per second
// and CPU ms per request of each server's process group (and its main threads). Add
// `--env-a DATA_DIR=memory:// --env-b DATA_DIR=memory://` for figure 4's in-memory database.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "../tests/support/npm-start";
import { streamViaPortkey } from "./lib/client";
import { forkTs, monotonicMs } from "./lib/ipc";
import { listRounds } from "./lib/ab-list";
import { startOurs, startPortkey, type OurServer, type ServerProcess } from "./lib/servers";
import { median, round } from "./lib/stats";
import { ISSUE_UPSTREAM } from "./figures/felt";
import type { StreamScript } from "./lib/script";
import { added, burstErrors, burstStored, burstWall, directSubject, measureRounds, ourSettings, ourSubject, PROMPT, type Subject } from "./figures/peers";

const { values } = parseArgs({
  options: {
    a: { type: "string" },
    "a-ref": { type: "string" },
    b: { type: "string" },
    "env-a": { type: "string", default: "" },
    "env-b": { type: "string", default: "" },
    rounds: { type: "string", default: "12" },
    warmup: { type: "string", default: "2" },
    concurrent: { type: "string", default: "100" },
    bursts: { type: "string", default: "2" },
    portkey: { type: "boolean", default: false },
    "profile-b": { type: "boolean", default: false },
    list: { type: "boolean", default: false },
    seconds: { type: "string", default: "2" },
  },
});

const envOf = (s: string): Record<string, string> => Object.fromEntries(s.split(",").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
const log = (line: string) => console.error(`ab: ${line}`);

/** A checkout of `ref` beside this one, resolving packages from this checkout's node_modules except our own. */
function checkout(ref: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "ab-ref-"));
  execFileSync("git", ["worktree", "add", "--detach", dir, ref], { cwd: ROOT, stdio: "ignore" });
  const nm = join(dir, "node_modules");
  mkdirSync(join(nm, "@conversation-api"), { recursive: true });
  for (const name of readdirSync(join(ROOT, "node_modules"))) {
    if (name !== "@conversation-api") symlinkSync(join(ROOT, "node_modules", name), join(nm, name));
  }
  for (const pkg of readdirSync(join(dir, "packages"))) symlinkSync(join("..", "..", "packages", pkg), join(nm, "@conversation-api", pkg));
  return {
    dir,
    remove: () => execFileSync("git", ["worktree", "remove", "--force", dir], { cwd: ROOT, stdio: "ignore" }),
  };
}

/** CPU ms (user + system) used so far by a process group (Linux /proc): every thread, and main threads only. */
function groupCpu(group: number): { all: number; main: number } {
  const tick = 1000 / 100; // USER_HZ
  const ms = (stat: string) => {
    // fields after the name: state(0) ppid(1) pgrp(2) … utime(11) stime(12)
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { group: Number(f[2]), ms: (Number(f[11]) + Number(f[12])) * tick };
  };
  let all = 0;
  let main = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const p = ms(readFileSync(`/proc/${pid}/stat`, "utf8"));
      if (p.group !== group) continue;
      all += p.ms;
      main += ms(readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8")).ms;
    } catch {
      // gone meanwhile
    }
  }
  return { all, main };
}

/**
 * Bursts of `n` streams at once per subject, rotating who goes first; for ours, the CPU its processes
 * used while the streams ran (setup and read-back excluded).
 */
async function bursts(subjects: Subject[], groups: Record<string, number>, n: number, times: number) {
  const out: Record<string, { wallMs: number; errors: number; stored: number | null; cpu: { all: number; main: number } | null }[]> = Object.fromEntries(subjects.map((s) => [s.label, []]));
  for (let r = 0; r < times; r++) {
    for (const s of subjects.map((_, k) => subjects[(r + k) % subjects.length]!)) {
      await s.setup?.(n);
      await groq.request("enqueue", { ...ISSUE_UPSTREAM, count: n } satisfies StreamScript);
      const g = groups[s.label];
      const c0 = g ? groupCpu(g) : null;
      const t0 = performance.now();
      const rs = await Promise.all(Array.from({ length: n }, (_, i) => s.stream(i, 120_000)));
      const wallMs = performance.now() - t0;
      const c1 = g ? groupCpu(g) : null;
      const errors = rs.filter((x) => !x.ok || x.tokens !== ISSUE_UPSTREAM.tokens).length;
      const stored = s.stored ? await s.stored() : null;
      out[s.label]!.push({ wallMs, errors, stored, cpu: c0 && c1 ? { all: c1.all - c0.all, main: c1.main - c0.main } : null });
    }
  }
  return out;
}

const rounds = Number(values.rounds);
const warmup = Number(values.warmup);
const n = Number(values.concurrent);
const burstN = Number(values.bursts);
const ref = values["a-ref"] ? checkout(values["a-ref"]) : undefined;
const dirA = ref?.dir ?? resolve(values.a ?? ROOT);
const dirB = resolve(values.b ?? ROOT);
const groq = forkTs("groq-child.ts");
const groqUrl = (await groq.ready) as string;
const dataDirs = [mkdtempSync(join(tmpdir(), "ab-a-")), mkdtempSync(join(tmpdir(), "ab-b-"))];
const servers: ServerProcess[] = [];
try {
  const profileEnv: Record<string, string> = {};
  if (values["profile-b"]) {
    const dir = resolve(`.bench/profiles/ab-b-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    // --cpu-prof is not allowed in NODE_OPTIONS: a preload profiles each process instead.
    profileEnv.NODE_OPTIONS = `--import=${new URL("./lib/cpu-profile-preload.mjs", import.meta.url).href}`;
    profileEnv.CPU_PROFILE_DIR = dir;
    log(`profiles of B: ${dir}`);
  }
  const a: OurServer = await startOurs(ourSettings(groqUrl, dataDirs[0]!, envOf(values["env-a"]!)), dirA);
  servers.push(a);
  const b: OurServer = await startOurs(ourSettings(groqUrl, dataDirs[1]!, { ...envOf(values["env-b"]!), ...profileEnv }), dirB);
  servers.push(b);
  if (values.list) {
    log(`A: ${dirA} ${values["env-a"]}`);
    log(`B: ${dirB} ${values["env-b"]}`);
    await listRounds({ A: a, B: b }, { A: () => groupCpu(a.group), B: () => groupCpu(b.group) }, rounds, warmup, Number(values.seconds), log);
  } else {
    const subjects: Subject[] = [directSubject(groqUrl), await ourSubject("A", a), await ourSubject("B", b)];
    if (values.portkey) {
      const portkey = await startPortkey();
      servers.push(portkey);
      subjects.push({ label: "Portkey", stream: (_, timeoutMs) => streamViaPortkey(portkey.url, groqUrl, PROMPT, { timeoutMs }) });
    }
    log(`A: ${dirA} ${values["env-a"]}`);
    log(`B: ${dirB} ${values["env-b"]}`);
    log(`${rounds} rounds (+${warmup} warm-up) × ${subjects.length} subjects`);
    await measureRounds(groq, subjects, 0, warmup);
    const cpu0 = { A: groupCpu(a.group), B: groupCpu(b.group) };
    const roundsFrom = monotonicMs();
    // When each measured request reached the stand-in: first token added = reaching it later + the token's way back.
    const reached: Record<string, number[]> = Object.fromEntries(subjects.map((x) => [x.label, []]));
    const rs = await measureRounds(groq, subjects, rounds, 0, async (label, t) => {
      const [arrived] = await groq.request<number[]>("arrivals", 1);
      reached[label]!.push(arrived! - t.startedAt);
    });
    log(`rounds window (CLOCK_MONOTONIC ms, for profile-summary): ${Math.floor(roundsFrom)}-${Math.ceil(monotonicMs())}`);
    const cpu1 = { A: groupCpu(a.group), B: groupCpu(b.group) };
    log(`${burstN} × ${n} concurrent per subject`);
    const burstsFrom = monotonicMs();
    const bs = await bursts(subjects, { A: a.group, B: b.group }, n, burstN);
    log(`bursts window (CLOCK_MONOTONIC ms, for profile-summary): ${Math.floor(burstsFrom)}-${Math.ceil(monotonicMs())}`);

    const cpuPerReply = (xs: (typeof bs)[string], k: "all" | "main") => xs.reduce((t, x) => t + (x.cpu?.[k] ?? 0), 0) / (n * xs.length);
    const rows: Record<string, unknown>[] = [];
    for (const label of subjects.slice(1).map((s) => s.label)) {
      const ours = label === "A" || label === "B";
      const k = label as "A" | "B";
      rows.push({
        subject: label,
        "first token +ms": round(added(rs, label, (t) => t.ttft), 2),
        "reached Groq +ms": round(median(reached[label]!.map((x, i) => x - reached.direct![i]!)), 2),
        "end +ms": round(added(rs, label, (t) => t.total), 2),
        [`${n} conc ×`]: round(burstWall(bs, label) / burstWall(bs, "direct"), 3),
        errors: burstErrors(bs, label),
        stored: ours ? `${burstStored(bs, label)}/${n * burstN}` : "",
        // CPU per reply: every thread of the process group, and its main threads (the event loop).
        "cpu/reply seq": ours ? round((cpu1[k].all - cpu0[k].all) / rounds, 2) : "",
        "main/reply seq": ours ? round((cpu1[k].main - cpu0[k].main) / rounds, 2) : "",
        "cpu/reply conc": ours ? round(cpuPerReply(bs[label]!, "all"), 2) : "",
        "main/reply conc": ours ? round(cpuPerReply(bs[label]!, "main"), 2) : "",
      });
    }
    console.table(rows);
    // The paired figure: per round, B minus A (both against the same upstream, a moment apart).
    const paired = (f: (t: { ttft: number; total: number }) => number) => round(median(rs.B!.map((t, i) => f(t) - f(rs.A![i]!))), 2);
    console.log(`B − A per round, median: first token ${paired((t) => t.ttft)} ms, end ${paired((t) => t.total)} ms`);
    console.log(`first token added per round A: ${rs.A!.map((t, i) => round(t.ttft - rs.direct![i]!.ttft, 1)).join(" ")}`);
    console.log(`first token added per round B: ${rs.B!.map((t, i) => round(t.ttft - rs.direct![i]!.ttft, 1)).join(" ")}`);
    console.log(`end added per round A: ${rs.A!.map((t, i) => round(t.total - rs.direct![i]!.total, 1)).join(" ")}`);
    console.log(`end added per round B: ${rs.B!.map((t, i) => round(t.total - rs.direct![i]!.total, 1)).join(" ")}`);
    console.log(`concurrent wall ms: ${Object.entries(bs).map(([k, v]) => `${k} ${v.map((x) => round(x.wallMs, 0)).join("/")}`).join(", ")}`);
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  await groq.stop();
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
  ref?.remove();
}
