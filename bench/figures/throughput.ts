// Figure 4: buffered handler throughput on the local runtime with PGlite (GET and POST /conversations),
// driven by autocannon from the bench process, against a bare node:http server in its own process that
// answers with bodies of the same size. Baseline and subject runs alternate, round by round.
import autocannon from "autocannon";
import { forkTs, type BenchChild } from "../lib/ipc";
import { metric, type Metric } from "../lib/report";
import { median, round } from "../lib/stats";
import { call, createConversation, inBatches, registerUser } from "../lib/client";
import { appEnv, profiled, timed, type BenchOptions } from "./common";

interface Run {
  rps: number;
  p50: number;
  p99: number;
  bad: number;
}

const CONNECTIONS = 10;

/** A run of `seconds` (whole seconds: autocannon's clock ticks once a second) or of `amount` requests. */
function cannon(url: string, opts: { method: "GET" | "POST"; token: string; body?: string | undefined; seconds?: number; amount?: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: opts.method,
        connections: CONNECTIONS,
        pipelining: 1,
        ...(opts.amount ? { amount: opts.amount } : { duration: opts.seconds ?? 1 }),
        timeout: 10,
        headers: { authorization: `Bearer ${opts.token}`, ...(opts.body ? { "content-type": "application/json" } : {}) },
        ...(opts.body ? { body: opts.body } : {}),
      },
      (err, r) => {
        if (err) return reject(err);
        resolve({ rps: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, bad: r.non2xx + r.errors + r.timeouts });
      },
    );
  });
}

/** `shared`: an app process already running (quick mode reuses figures 1–2's); else a fresh one. */
export function throughputFigure(opts: BenchOptions, shared?: Promise<{ url: string; app: BenchChild }>) {
  return timed("4", `Handler throughput (autocannon, ${CONNECTIONS} connections)`, async () => {
    let app: BenchChild | undefined;
    let bare: BenchChild | undefined;
    try {
      if (!shared) app = forkTs("app-child.ts", { env: appEnv() });
      bare = forkTs("baseline-server.ts");
      const [appUrl, bareUrl] = (await Promise.all([shared ? shared.then((s) => s.url) : app!.ready, bare.ready])) as [string, string];
      const subject = app ?? (await shared!).app;
      const api = `${appUrl}/api/v1`;
      // One account whose list is a full page (20 conversations), another that the POSTs fill up.
      const lister = await registerUser(api);
      await inBatches(Array.from({ length: 20 }), 4, (_, i) => createConversation(api, lister, `conversation ${i}`));
      const creator = await registerUser(api);
      const postBody = JSON.stringify({ title: "bench conversation" });
      const list = await call(api, "GET", "/conversations", { token: lister });
      const created = await call(api, "POST", "/conversations", { token: creator, body: postBody });
      if (list.status !== 200 || created.status !== 201) throw new Error(`setup: list ${list.status}, create ${created.status}`);
      const sizes = await bare.request<{ get: number; post: number }>("bodies", { get: JSON.stringify(list.body), post: JSON.stringify(created.body) });

      const seconds = opts.quick ? 1 : 3;
      const rounds = opts.quick ? 1 : 3;
      // Every autocannon run lasts at least a second, so quick mode skips the warm-up runs.
      const warmupRequests = opts.quick ? 0 : 2000;
      const targets = {
        list: { app: `${api}/conversations`, bare: `${bareUrl}/api/v1/conversations`, method: "GET" as const, token: lister },
        create: { app: `${api}/conversations`, bare: `${bareUrl}/api/v1/conversations`, method: "POST" as const, token: creator, body: postBody },
      };
      const runs = { list: { app: [] as Run[], bare: [] as Run[] }, create: { app: [] as Run[], bare: [] as Run[] } };
      for (const [name, t] of Object.entries(targets) as [keyof typeof targets, (typeof targets)[keyof typeof targets]][]) {
        const body = "body" in t ? t.body : undefined;
        if (warmupRequests > 0) {
          await cannon(t.app, { method: t.method, token: t.token, body, amount: warmupRequests });
          await cannon(t.bare, { method: t.method, token: t.token, body, amount: warmupRequests });
        }
        await profiled(opts, subject, `fig4-${name}-app`, async () => {
          for (let r = 0; r < rounds; r++) {
            // Alternate which goes first, so a slow patch of the machine is shared.
            const order = r % 2 === 0 ? (["bare", "app"] as const) : (["app", "bare"] as const);
            for (const which of order) runs[name][which].push(await cannon(t[which], { method: t.method, token: t.token, body, seconds }));
          }
        });
      }

      const summary = (rs: Run[]) => ({ rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), bad: rs.reduce((a, r) => a + r.bad, 0) });
      const s = {
        list: { app: summary(runs.list.app), bare: summary(runs.list.bare) },
        create: { app: summary(runs.create.app), bare: summary(runs.create.bare) },
      };
      const rows = (label: string, x: { app: ReturnType<typeof summary>; bare: ReturnType<typeof summary> }, rpsTarget?: number): Metric[] => [
        metric({ name: `${label} throughput${label.startsWith("GET") ? " (PGlite)" : ""}`, unit: "req/s", value: x.app.rps, baseline: x.bare.rps, show: "ratio", target: rpsTarget ? { of: "value", op: ">=", value: rpsTarget } : null }),
        metric({ name: `${label} latency p99`, unit: "ms", value: x.app.p99, baseline: x.bare.p99, show: "added" }),
        metric({ name: `${label} non-2xx/errors`, unit: "", value: x.app.bad, target: { of: "value", op: "==", value: 0 } }),
      ];
      return {
        conditions: {
          load_generator: `autocannon ${CONNECTIONS} connections, pipelining 1, in the bench process`,
          rounds,
          seconds_per_run: seconds,
          warmup_requests: warmupRequests,
          figure: "median over rounds; baseline/subject runs alternate",
          baseline: "bare node:http server (own process) answering with the same bytes: no routing, auth, validation or database",
          app_process: shared ? "shared with figures 1–2 (quick mode)" : "fresh",
          subject: "local runtime (own process): API Gateway event → Middy (JWT auth, zod validation) → PGlite in memory; request logging off",
          body_bytes: sizes,
          list_page: "20 conversations (default limit)",
          latency_p50_ms: { list: { app: s.list.app.p50, bare: s.list.bare.p50 }, create: { app: s.create.app.p50, bare: s.create.bare.p50 } },
          baseline_bad_responses: { list: s.list.bare.bad, create: s.create.bare.bad },
          req_per_s_each_round: {
            list: { app: runs.list.app.map((r) => round(r.rps, 0)), bare: runs.list.bare.map((r) => round(r.rps, 0)) },
            create: { app: runs.create.app.map((r) => round(r.rps, 0)), bare: runs.create.bare.map((r) => round(r.rps, 0)) },
          },
        },
        metrics: [...rows("GET /conversations", s.list, 2000), ...rows("POST /conversations", s.create)],
      };
    } finally {
      await Promise.all([app?.stop(), bare?.stop()]);
    }
  });
}

/**
 * Figure 8: GET /conversations on PostgreSQL (the tests' throwaway PostgreSQL 15 server, loopback, via
 * DATABASE_URL) against the same bare baseline. Skipped, saying why, when the binaries are missing.
 */
export function listOnPostgresFigure(opts: BenchOptions) {
  return timed("8", `GET /conversations on PostgreSQL (autocannon, ${CONNECTIONS} connections)`, async () => {
    const { postgresAvailable, startPostgres } = await import("@conversation-api/store/test/pg-server");
    if (!postgresAvailable()) return { conditions: {}, metrics: [], skipped: "PostgreSQL binaries (initdb/pg_ctl) or the postgres OS user not found; install postgresql-15 to measure this figure" };
    const pg = await startPostgres();
    let app: BenchChild | undefined;
    let bare: BenchChild | undefined;
    try {
      app = forkTs("app-child.ts", { env: appEnv({ DATABASE_URL: pg.url }) });
      bare = forkTs("baseline-server.ts");
      const [appUrl, bareUrl] = (await Promise.all([app.ready, bare.ready])) as [string, string];
      const api = `${appUrl}/api/v1`;
      const lister = await registerUser(api);
      await inBatches(Array.from({ length: 20 }), 4, (_, i) => createConversation(api, lister, `conversation ${i}`));
      const list = await call(api, "GET", "/conversations", { token: lister });
      if (list.status !== 200) throw new Error(`setup: list ${list.status}`);
      await bare.request("bodies", { get: JSON.stringify(list.body), post: "{}" });
      const seconds = opts.quick ? 1 : 3;
      const rounds = opts.quick ? 1 : 3;
      const target = { app: `${api}/conversations`, bare: `${bareUrl}/api/v1/conversations` };
      if (!opts.quick) {
        await cannon(target.app, { method: "GET", token: lister, amount: 2000 });
        await cannon(target.bare, { method: "GET", token: lister, amount: 2000 });
      }
      const runs = { app: [] as Run[], bare: [] as Run[] };
      await profiled(opts, app, "fig8-list-postgres-app", async () => {
        for (let r = 0; r < rounds; r++) {
          const order = r % 2 === 0 ? (["bare", "app"] as const) : (["app", "bare"] as const);
          for (const which of order) runs[which].push(await cannon(target[which], { method: "GET", token: lister, seconds }));
        }
      });
      const rps = (rs: Run[]) => median(rs.map((x) => x.rps));
      const p99 = (rs: Run[]) => median(rs.map((x) => x.p99));
      return {
        conditions: {
          store: "PostgreSQL 15 on loopback (packages/store/test/pg-server.ts: initdb in a temp dir, --no-sync), node-postgres pool via DATABASE_URL",
          load_generator: `autocannon ${CONNECTIONS} connections, pipelining 1, in the bench process`,
          rounds,
          seconds_per_run: seconds,
          list_page: "20 conversations (default limit)",
          req_per_s_each_round: { app: runs.app.map((x) => round(x.rps, 0)), bare: runs.bare.map((x) => round(x.rps, 0)) },
          note: "the PostgreSQL server shares the 2 cores with the app, the load generator and the baseline",
        },
        metrics: [
          metric({ name: "GET /conversations throughput (PostgreSQL)", unit: "req/s", value: rps(runs.app), baseline: rps(runs.bare), show: "ratio", target: { of: "value", op: ">=", value: 5000 } }),
          metric({ name: "GET /conversations latency p99 (PostgreSQL)", unit: "ms", value: p99(runs.app), baseline: p99(runs.bare), show: "added" }),
          metric({ name: "GET /conversations non-2xx/errors (PostgreSQL)", unit: "", value: runs.app.reduce((a, x) => a + x.bad, 0), target: { of: "value", op: "==", value: 0 } }),
        ],
      };
    } finally {
      await Promise.all([app?.stop(), bare?.stop()]);
      await pg.stop();
    }
  });
}
