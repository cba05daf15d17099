// Figure 10: the database across a network. Ours on the default start (NODE_ENV=production) with
// DATABASE_URL on PostgreSQL 15 (the tests' throwaway server), twice in the same run: straight to it on
// loopback, and through a TCP proxy adding 2 ms each way (bench/delay-proxy-child.ts), a 4 ms round
// trip as between Lambda and a database in the same AWS region. Same rounds and bursts as figure 9.
// After each measured reply, the database itself is polled (a separate connection, no proxy) until
// that reply's whole text is stored and finished: how long after the client saw the end it is durable.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { forkTs, monotonicMs, type BenchChild } from "../lib/ipc";
import { metric, type Metric } from "../lib/report";
import { startOurs, type ServerProcess } from "../lib/servers";
import { median, round } from "../lib/stats";
import type { StreamTiming } from "../lib/client";
import { timed, type BenchOptions } from "./common";
import { added, burstErrors, burstStored, burstWall, directSubject, EXPECTED, measureBursts, measureRounds, ourSettings, ourSubject, type Subject } from "./peers";

const DELAY_MS = 2;
/** The default FLUSH_INTERVAL_MS (packages/core/src/config.ts): the window a reply may be in flight. */
const FLUSH_INTERVAL_MS = 250;

export function remoteDatabaseFigure(opts: BenchOptions) {
  const n = opts.quick ? 10 : 100;
  return timed("10", `The database across a network: PostgreSQL 15 local vs ${2 * DELAY_MS} ms away (issue upstream)`, async () => {
    const { postgresAvailable, startPostgres } = await import("@conversation-api/store/test/pg-server");
    if (!postgresAvailable()) return { conditions: {}, metrics: [], skipped: "PostgreSQL binaries (initdb/pg_ctl) or the postgres OS user not found; install postgresql-15 to measure this figure" };
    const server = await startPostgres();
    const groq = forkTs("groq-child.ts");
    const proxy = forkTs("delay-proxy-child.ts", { env: { TARGET_PORT: String(server.port), DELAY_MS: String(DELAY_MS) } });
    const dirs = [mkdtempSync(join(tmpdir(), "bench-pg-local-")), mkdtempSync(join(tmpdir(), "bench-pg-remote-"))];
    const apps: ServerProcess[] = [];
    const db = new pg.Client({ connectionString: server.url });
    try {
      const [groqUrl, proxyPort] = (await Promise.all([groq.ready, proxy.ready])) as [string, number];
      const remoteUrl = server.url.replace(`:${server.port}/`, `:${proxyPort}/`);
      // One at a time: the first migrates the database, the second finds it migrated.
      const local = await startOurs(ourSettings(groqUrl, dirs[0]!, { DATABASE_URL: server.url }));
      apps.push(local);
      const remote = await startOurs(ourSettings(groqUrl, dirs[1]!, { DATABASE_URL: remoteUrl }));
      apps.push(remote);
      await db.connect();
      const LOCAL = "local PostgreSQL";
      const REMOTE = `PostgreSQL ${2 * DELAY_MS} ms away`;
      const subjects: Subject[] = [directSubject(groqUrl), await ourSubject(LOCAL, local), await ourSubject(REMOTE, remote)];
      const roundsN = opts.quick ? 3 : 15;
      const warmup = opts.quick ? 1 : 3;
      const replies: Record<string, number> = { [LOCAL]: warmup, [REMOTE]: warmup };
      const lag: Record<string, number[]> = { [LOCAL]: [], [REMOTE]: [] };
      const byLabel = Object.fromEntries(subjects.map((s) => [s.label, s]));
      // Polls until the conversation holds one more complete reply: ms after the client's end of stream.
      const durable = async (label: string, t: StreamTiming) => {
        if (label === "direct") return;
        const want = ++replies[label]!;
        const id = byLabel[label]!.conversation!();
        const end = t.startedAt + t.total;
        for (const give = monotonicMs() + 10_000; monotonicMs() < give; ) {
          const r = await db.query("select count(*)::int as n from messages where conversation_id = $1 and role = 'assistant' and finish_reason = 'end_turn' and content = $2", [id, EXPECTED]);
          if (r.rows[0].n >= want) return void lag[label]!.push(Math.max(0, monotonicMs() - end));
          await new Promise((r) => setTimeout(r, 1));
        }
        lag[label]!.push(Number.POSITIVE_INFINITY);
      };
      const rs = await measureRounds(groq, subjects, roundsN, warmup, durable);
      const burstRounds = opts.quick ? 1 : 2;
      const bs = await measureBursts(groq, subjects, n, burstRounds);
      const ttft = (label: string) => added(rs, label, (t) => t.ttft);
      const end = (label: string) => added(rs, label, (t) => t.total);
      const metrics: Metric[] = [];
      for (const label of [LOCAL, REMOTE]) {
        const remoteRow = label === REMOTE;
        metrics.push(
          metric({ name: `${label}: first token added p50`, unit: "ms", value: median(rs[label]!.map((x) => x.ttft)), baseline: median(rs.direct!.map((x) => x.ttft)), added: ttft(label), show: "added", target: remoteRow ? { of: "added", op: "<=", value: round(ttft(LOCAL) + 1, 2) } : null, ...(remoteRow ? { aim: "local's + 1 ms" } : {}) }),
          metric({ name: `${label}: end of reply added p50`, unit: "ms", value: median(rs[label]!.map((x) => x.total)), baseline: median(rs.direct!.map((x) => x.total)), added: end(label), show: "added", target: remoteRow ? { of: "added", op: "<=", value: round(end(LOCAL) + 1, 2) } : null, ...(remoteRow ? { aim: "unchanged: local's + 1 ms" } : {}) }),
          metric({ name: `${label}: reply stored after end of stream, max`, unit: "ms", value: Math.max(...lag[label]!), target: { of: "value", op: "<=", value: FLUSH_INTERVAL_MS }, aim: "one flush interval" }),
          metric({ name: `${label}: ${n} concurrent vs direct`, unit: "ms", value: burstWall(bs, label), baseline: burstWall(bs, "direct"), show: "ratio" }),
          metric({ name: `${label}: ${n} concurrent, errors`, unit: "", value: burstErrors(bs, label), target: { of: "value", op: "==", value: 0 } }),
          metric({ name: `${label}: ${n} concurrent, replies stored`, unit: "", value: burstStored(bs, label), target: { of: "value", op: "==", value: n * burstRounds } }),
        );
      }
      return {
        conditions: {
          database: "PostgreSQL 15 (packages/store/test/pg-server.ts: initdb in a temp dir, --no-sync) on loopback; remote = through bench/delay-proxy-child.ts",
          delay_ms_each_way: DELAY_MS,
          rounds: roundsN,
          warmup_rounds: warmup,
          ours: "npm start, NODE_ENV=production, DATABASE_URL, DAILY_TOKEN_BUDGET=0, MAX_CONCURRENT_REPLIES=0",
          stored_after_end_ms: Object.fromEntries(Object.entries(lag).map(([k, v]) => [k, { p50: round(median(v), 1), max: round(Math.max(...v), 1) }])),
          stored: "polled every ~1 ms on a separate connection: the conversation's complete, finished replies; lag from the client's end of stream",
          concurrent: `${n} streams at once per subject, ${burstRounds} round(s)`,
          concurrent_wall_ms_each_round: Object.fromEntries(subjects.map((s) => [s.label, bs[s.label]!.map((x) => round(x.wallMs, 1))])),
        },
        metrics,
      };
    } finally {
      await db.end().catch(() => {});
      await Promise.all([...apps.map((a) => a.stop()), proxy.stop(), groq.stop()]);
      await server.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
}
