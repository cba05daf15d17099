// Figure 5: the Lambda cold-start proxy. Each handler is bundled as a deploy bundles it (esbuild,
// minified: scripts/bundle.ts); then fresh Node processes import the stream handler's bundle and serve
// one invocation (a real reply: JWT check, PostgreSQL through DATABASE_URL, Groq stand-in), against a
// baseline of fresh processes importing a trivial streaming handler bundled the same way.
import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { issueAccessToken } from "@conversation-api/core";
import { openStore } from "@conversation-api/store";
import { postgresAvailable, startPostgres, type PostgresServer } from "@conversation-api/store/test/pg-server";
import { bundleHandlers } from "../../scripts/bundle";
import { LAMBDA_EXTERNAL } from "../../stacks/bundling";
import { sendEvent } from "../../tests/deploy/function-url-event";
import { lambdaNode } from "../../tests/deploy/lambda-node";
import { forkTs, type BenchChild } from "../lib/ipc";
import { startSsmStub, type SsmStub } from "../lib/ssm-stub";
import { ISSUE_UPSTREAM } from "./felt";
import { metric, type Metric } from "../lib/report";
import { median, percentile, round } from "../lib/stats";
import { JWT_SECRET, profileArgs, timed, type BenchOptions } from "./common";

const STREAM_HANDLER = "messages-stream";
const OUT = resolve(".bench/bundles");
const HERE = fileURLToPath(new URL(".", import.meta.url));

interface ColdRun {
  bootstrapMs: number;
  importMs: number;
  invokeMs: number;
  totalMs: number;
  cpuMs: number;
  threadCpuMs?: number;
  statusCode: number | null;
  bytes: number;
  completed: boolean;
  tail: string;
  /** Spawn to exit, measured by the parent. */
  wallMs: number;
  /** Warm replies served by the same process after the cold one (ms each, handler start → stream end). */
  warmMs: number[];
  warmOk: boolean;
  warmError?: string;
  /** The process's peak RSS (MiB). */
  maxRssMiB: number;
}

/** arm64 Lambda prices, US East (N. Virginia), first pricing tier: https://aws.amazon.com/lambda/pricing/ */
export const LAMBDA_ARM64 = { perGbSecond: 0.0000133334, perRequest: 0.2 / 1e6, source: "https://aws.amazon.com/lambda/pricing/ (arm64, us-east-1, first 7.5 billion GB-s a month)" };
/** The stream function's configured memory (stacks/route-functions.ts, streaming routes): billing uses it, not the peak. */
const STREAM_MEMORY_MB = 1024;

function coldRun(
  node: string,
  childFile: string,
  bundle: string,
  event: unknown,
  env: Record<string, string>,
  warm?: { count: number; event: unknown },
  nodeArgs: string[] = [],
): Promise<ColdRun> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(node, [...nodeArgs, childFile], {
      env: { PATH: process.env.PATH ?? "", ...env, BENCH_BUNDLE: bundle, BENCH_EVENT: JSON.stringify(event), ...(warm ? { BENCH_WARM: String(warm.count), BENCH_WARM_EVENT: JSON.stringify(warm.event) } : {}) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      try {
        const line = out.trim().split("\n").pop()!;
        resolvePromise({ ...(JSON.parse(line) as Omit<ColdRun, "wallMs">), wallMs });
      } catch {
        reject(new Error(`cold process failed (exit ${code}): ${err.slice(-600) || out.slice(-600)}`));
      }
    });
  });
}

/**
 * The Node the fresh processes run on: the Lambda runtime's (nodejs24.x), the binary the deploy tests
 * install from the npm registry (tests/deploy/lambda-node.ts), since what a cold start costs differs
 * between Node majors (e.g. node-postgres compiles fetch at import on Node 20, not on 24). Not installed
 * here: a bench must not wait on a download. BENCH_COLD_NODE=current uses the bench's own Node; so does
 * a machine where the deploy tests have not installed it yet (the output says which ran).
 */
/** module.enableCompileCache / NODE_COMPILE_CACHE arrived in Node 22.1. */
const compileCacheSupported = (version: string) => {
  const [major = 0, minor = 0] = version.replace(/^v/, "").split(".").map(Number);
  return major > 22 || (major === 22 && minor >= 1);
};

function coldNode(): { path: string; version: string; why: string } {
  if (process.env.BENCH_COLD_NODE === "current") return { path: process.execPath, version: process.version, why: "BENCH_COLD_NODE=current" };
  try {
    return { ...lambdaNode(), why: "the Lambda runtime's Node major (nodejs24.x)" };
  } catch {
    return { path: process.execPath, version: process.version, why: "the bench's own Node: the Lambda runtime's is not installed (the deploy tests install it)" };
  }
}

export function coldStartFigure(opts: BenchOptions) {
  return timed("5", "Stream function: bundle, cold start with secrets from SSM, duration, memory, cost", async () => {
    mkdirSync(OUT, { recursive: true });
    const node = coldNode();
    // BENCH_MINIFY=0: readable bundles, so a --profile names the modules (sizes are then not the deployed ones).
    const bundles = await bundleHandlers({ outdir: join(OUT, "handlers"), minify: process.env.BENCH_MINIFY !== "0" });
    const stream = bundles.find((b) => b.name === STREAM_HANDLER);
    if (!stream) throw new Error(`no ${STREAM_HANDLER} bundle`);

    // The trivial baseline handler and the measuring child, built with the same target and flags.
    const baselineBundle = join(OUT, "baseline-handler.mjs");
    await build({
      stdin: {
        contents: `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
          const s = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200, headers: { "content-type": "text/event-stream" } });
          s.write("data: ok\\n\\n");
          s.end();
        });`,
        loader: "js",
      },
      outfile: baselineBundle,
      format: "esm",
      platform: "node",
      target: "node22",
      minify: true,
      logLevel: "silent",
    });
    const childFile = join(OUT, "cold-child.mjs");
    await build({ entryPoints: [join(HERE, "../cold-child.ts")], outfile: childFile, format: "esm", platform: "node", target: "node20", bundle: true, logLevel: "silent" });

    const samples = opts.quick ? 2 : 15;
    const warmPerProcess = Number(process.env.BENCH_WARM_PER_PROCESS ?? (opts.quick ? 1 : 3));
    let pg: PostgresServer | undefined;
    let groq: BenchChild | undefined;
    let ssm: SsmStub | undefined;
    try {
      // The database a deployed function talks to is across a network; a loopback PostgreSQL is the
      // closest stand-in (PGlite is left out of the bundles). Without PostgreSQL: in-memory PGlite.
      const havePg = postgresAvailable();
      const [pgServer, groqUrl] = await Promise.all([
        havePg ? startPostgres() : Promise.resolve(undefined),
        (async () => {
          groq = forkTs("groq-child.ts");
          return (await groq.ready) as string;
        })(),
      ]);
      pg = pgServer;
      const store = await openStore(pg ? { databaseUrl: pg.url } : { inMemory: true });
      let userId: string;
      const conversations: string[] = [];
      try {
        const user = await store.createUser({ email: `cold-${Date.now()}@example.com`, password_hash: "x", display_name: null });
        userId = user.id;
        for (let i = 0; i < samples + 1; i++)
          conversations.push((await store.forUser(userId).createConversation({ title: "cold", system_prompt: null, model: "llama-3.1-8b-instant" })).id);
      } finally {
        await store.close();
      }
      const { token } = await issueAccessToken(userId, { secret: JWT_SECRET, issuer: "conversation-api", audience: "conversation-api", expiresInSeconds: 3600 });
      // The secrets come as on AWS: SST binds them as SSM parameters, and the function's config loader
      // fetches them (GetParameters, signed, over HTTP) while the function initialises.
      const prefix = "/sst/bench/bench/";
      // BENCH_SSM_DELAY_MS: the stand-in holds each answer that long, as an in-region round trip would (0: at once).
      const ssmDelayMs = Number(process.env.BENCH_SSM_DELAY_MS ?? 0);
      ssm = await startSsmStub({ [`${prefix}Secret/JWT_SECRET/value`]: JWT_SECRET, [`${prefix}Secret/GROQ_API_KEY/value`]: "gsk_bench" }, ssmDelayMs);
      const env: Record<string, string> = {
        AWS_LAMBDA_FUNCTION_NAME: STREAM_HANDLER,
        AWS_REGION: "us-east-1",
        SST_APP: "bench",
        SST_STAGE: "bench",
        SST_REGION: "us-east-1",
        SST_SSM_PREFIX: prefix,
        SST_Secret_value_JWT_SECRET: "__FETCH_FROM_SSM__",
        SST_Secret_value_GROQ_API_KEY: "__FETCH_FROM_SSM__",
        AWS_ENDPOINT_URL_SSM: ssm.url,
        // Lambda gives every function temporary credentials in the environment; these only need to sign.
        AWS_ACCESS_KEY_ID: "ASIABENCHBENCHBENCH0",
        AWS_SECRET_ACCESS_KEY: "bench/bench/bench/bench/bench/bench/bench0",
        AWS_SESSION_TOKEN: "bench",
        AWS_EC2_METADATA_DISABLED: "true",
        GROQ_BASE_URL: groqUrl,
        ...(pg ? { DATABASE_URL: pg.url } : { DATA_DIR: "memory://" }),
      };
      // Per subject process: a short cold reply, then warm replies against the issue-15 upstream.
      const enqueueFor = async (warm: number) => {
        await groq!.request("enqueue", { count: 1, firstTokenDelayMs: 0, tokens: 5, gapMs: 0 });
        if (warm) await groq!.request("enqueue", { ...ISSUE_UPSTREAM, count: warm });
      };
      const eventFor = (conversationId: string) => sendEvent(conversationId, token, "bench");

      // One untimed run warms the OS file cache, as a deployed function's image would be warm on disk.
      if (!opts.quick) {
        await enqueueFor(0);
        await coldRun(node.path, childFile, stream.file, eventFor(conversations[samples]!), env);
      }
      // A V8 compile cache made for this exact Node by one run of the bundle (NODE_COMPILE_CACHE, what
      // module.enableCompileCache(dir) turns on), then read by fresh processes: a cache shipped beside
      // the bundle for the runtime's exact version. Node < 22.1 has none: the arm is left out.
      const compileCache = compileCacheSupported(node.version) ? join(OUT, `compile-cache-${node.version}`) : null;
      if (compileCache) {
        rmSync(compileCache, { recursive: true, force: true });
        await enqueueFor(0);
        await coldRun(node.path, childFile, stream.file, eventFor(conversations[samples]!), { ...env, NODE_COMPILE_CACHE: compileCache });
      }
      const subj: ColdRun[] = [];
      const base: ColdRun[] = [];
      const cached: ColdRun[] = [];
      // BENCH_COLD_ALT=<a stream bundle's entry file>, e.g. a copy of .bench/bundles/handlers/messages-stream
      // built from another tree, and/or BENCH_COLD_ALT_ARGS=<Node flags, space-separated>: a fourth arm,
      // interleaved with the others, for a same-run comparison.
      const altArgs = process.env.BENCH_COLD_ALT_ARGS?.split(" ").filter(Boolean) ?? [];
      const altBundle = process.env.BENCH_COLD_ALT ?? (altArgs.length ? stream.file : undefined);
      const alt: ColdRun[] = [];
      for (let i = 0; i < samples; i++) {
        const runSubj = async () => {
          await enqueueFor(warmPerProcess);
          // --profile: a CPU profile of each cold process (import, first and warm invocations) in .bench/profiles.
          subj.push(await coldRun(node.path, childFile, stream.file, eventFor(conversations[i]!), env, { count: warmPerProcess, event: eventFor(conversations[i]!) }, profileArgs(opts, "cold-start")));
        };
        const runBase = async () => base.push(await coldRun(node.path, childFile, baselineBundle, {}, {}));
        const runCached = async () => {
          if (!compileCache) return;
          await enqueueFor(0);
          cached.push(await coldRun(node.path, childFile, stream.file, eventFor(conversations[i]!), { ...env, NODE_COMPILE_CACHE: compileCache }));
        };
        const runAlt = async () => {
          if (!altBundle) return;
          await enqueueFor(0);
          alt.push(await coldRun(node.path, childFile, altBundle, eventFor(conversations[i]!), env, undefined, altArgs));
        };
        const arms = [runBase, runSubj, runCached, runAlt];
        for (let k = 0; k < arms.length; k++) await arms[(i + k) % arms.length]!();
      }
      const bad = [...subj, ...cached, ...alt].filter((r) => r.statusCode !== 200 || !r.completed);
      if (bad.length) throw new Error(`stream invocation failed: status ${bad[0]!.statusCode}: ${bad[0]!.tail}`);
      const warmFailed = subj.find((r) => !r.warmOk);
      if (warmFailed) throw new Error(`a warm stream invocation failed: ${warmFailed.warmError}`);
      if (ssm.calls() < samples) throw new Error(`the secrets did not come through SSM (${ssm.calls()} GetParameters calls for ${samples} cold starts)`);
      const warm = subj.flatMap((r) => r.warmMs);
      const replyMs = median(warm);
      const peakMiB = Math.max(...subj.map((r) => r.maxRssMiB));
      const gbSeconds = (replyMs / 1000) * (STREAM_MEMORY_MB / 1024);
      const per1000 = 1000 * (gbSeconds * LAMBDA_ARM64.perGbSecond + LAMBDA_ARM64.perRequest);

      const kB = (b: number) => b / 1000;
      const sizes: Metric[] = [...bundles]
        .sort((a, b) => (a.name === STREAM_HANDLER ? -1 : b.name === STREAM_HANDLER ? 1 : b.bytes - a.bytes))
        .map((b) =>
          metric({ name: `bundle ${b.name}`, unit: "kB", value: kB(b.bytes), target: b.name === STREAM_HANDLER ? { of: "value", op: "<=", value: 300 } : null }),
        );
      const pick = (rs: ColdRun[], k: keyof ColdRun) => rs.map((r) => r[k] as number);
      const stat = (rs: ColdRun[], k: keyof ColdRun) => ({ p50: round(median(pick(rs, k)), 2), p99: round(percentile(pick(rs, k), 99), 2) });
      return {
        conditions: {
          bundler: "scripts/bundle.ts bundleHandlers (esbuild, minified, stacks/bundling.ts target/externals/banner); kB = 1000 bytes",
          externals_not_in_bundle_size: LAMBDA_EXTERNAL,
          samples,
          node: { version: node.version, why: node.why },
          measured:
            "in the fresh process: from its time origin (Node bootstrap) through importing the bundle to the end of one streamed invocation. The import is the Lambda init phase: it waits for the dependencies (secrets from SSM, the store, token keys: packages/functions/src/deps.ts), which on AWS run with a full vCPU (https://serverlessland.com/content/service/lambda/guides/effectively-running-java-on-serverless/init-heavy-lifting); here every phase gets the same CPU",
          subject: `${STREAM_HANDLER} bundle, one real reply (JWT check, ${pg ? "PostgreSQL on loopback via DATABASE_URL" : "PGlite in memory (no PostgreSQL found)"}, 5 tokens from the Groq stand-in), AWS_LAMBDA_FUNCTION_NAME set`,
          baseline: "same process harness importing a trivial streamified handler bundled the same way",
          subject_ms: {
            bootstrap: stat(subj, "bootstrapMs"),
            import: stat(subj, "importMs"),
            invoke: stat(subj, "invokeMs"),
            spawn_to_exit: stat(subj, "wallMs"),
            // CPU used up to the end of the first invocation: the process, and (Node 23.9+) its main thread alone.
            cpu: stat(subj, "cpuMs"),
            ...(subj.every((r) => typeof r.threadCpuMs === "number") ? { main_thread_cpu: stat(subj, "threadCpuMs") } : {}),
          },
          ...(alt.length
            ? { alt: { bundle: altBundle, node_args: altArgs, import: stat(alt, "importMs"), invoke: stat(alt, "invokeMs"), total: stat(alt, "totalMs"), cpu: stat(alt, "cpuMs"), main_thread_cpu: stat(alt, "threadCpuMs") } }
            : {}),
          baseline_ms: { bootstrap: stat(base, "bootstrapMs"), import: stat(base, "importMs"), invoke: stat(base, "invokeMs"), spawn_to_exit: stat(base, "wallMs") },
          bundle_kB:
            "cold-start code = the handler's entry file and the chunks it imports statically (scripts/bundle.ts, esbuild code splitting as SST's nodejs.splitting); a lazy chunk loads only when its code path runs",
          stream_lazy_chunks_kB: Object.fromEntries(Object.entries(stream.lazy).map(([k, v]) => [k, round(kB(v), 1)])),
          stream_loaded_kB: {
            // The Groq provider's chunk loads during init whenever a key is bound, as here and on AWS.
            this_run: round(kB(stream.bytes + (stream.lazy.aws4 ?? 0) + (stream.lazy["groq-sdk"] ?? 0) + (pg ? (stream.lazy.pg ?? 0) : 0)), 1),
            deployed_supabase: round(kB(stream.bytes + (stream.lazy.aws4 ?? 0) + (stream.lazy["groq-sdk"] ?? 0) + (stream.lazy["@supabase/postgrest-js"] ?? 0)), 1),
          },
          stream_shipped_kB: round(kB(stream.totalBytes), 1),
          total_bundle_kB: round(kB(bundles.reduce((a, b) => a + b.bytes, 0)), 1),
          secrets: `JWT_SECRET and GROQ_API_KEY bound as SST secrets: the function's config loader (packages/functions/src/config.ts and ssm.ts: GetParameters over node:http(s), SigV4-signed with aws4 from the environment's credentials) sends GetParameters to a loopback SSM stand-in (bench/lib/ssm-stub.ts) during init; ${ssmDelayMs ? `answered after ${ssmDelayMs} ms (BENCH_SSM_DELAY_MS), as an in-region round trip` : "answered at once, so an in-region round trip to SSM is not included"}`,
          ssm_get_parameters_calls: ssm.calls(),
          ssm_delay_ms: ssmDelayMs,
          warm_replies: { per_process: warmPerProcess, upstream: ISSUE_UPSTREAM, duration_ms: { p50: round(replyMs, 2), p99: round(percentile(warm, 99), 2) }, peak_rss_mib_each_process: subj.map((r) => round(r.maxRssMiB, 1)) },
          cost: {
            formula: "1000 × (median warm reply duration × configured memory × price per GB-s + price per request)",
            configured_memory_mb: STREAM_MEMORY_MB,
            lambda_arm64: LAMBDA_ARM64,
            excludes: "Groq tokens (priced separately, see the README, Scale and cost), Function URL/response-streaming bytes beyond the free 6 MB per request, database, data transfer",
            note: "a streaming reply is billed for as long as the stream is open, so the upstream's 350 ms dominate",
          },
        },
        metrics: [
          ...sizes.slice(0, 1),
          metric({ name: "cold start + 1 invocation p50", unit: "ms", value: median(pick(subj, "totalMs")), baseline: median(pick(base, "totalMs")), show: "added", target: { of: "value", op: "<=", value: 120 } }),
          ...(cached.length
            ? [metric({ name: "cold start + 1 invocation p50, compile cache shipped", unit: "ms", value: median(pick(cached, "totalMs")), baseline: median(pick(subj, "totalMs")), show: "added", target: { of: "value", op: "<=", value: 120 } }),
               metric({ name: "import stream bundle p50, compile cache shipped", unit: "ms", value: median(pick(cached, "importMs")), baseline: median(pick(subj, "importMs")), show: "added" })]
            : []),
          ...(alt.length
            ? [metric({ name: "cold start + 1 invocation p50, BENCH_COLD_ALT", unit: "ms", value: median(pick(alt, "totalMs")), baseline: median(pick(subj, "totalMs")), show: "added" }),
               metric({ name: "main-thread CPU p50, BENCH_COLD_ALT", unit: "ms", value: median(pick(alt, "threadCpuMs")), baseline: median(pick(subj, "threadCpuMs")), show: "added" })]
            : []),
          metric({ name: "cold start + 1 invocation p99", unit: "ms", value: percentile(pick(subj, "totalMs"), 99), baseline: percentile(pick(base, "totalMs"), 99), show: "added" }),
          metric({ name: "import stream bundle p50", unit: "ms", value: median(pick(subj, "importMs")), baseline: median(pick(base, "importMs")), show: "added" }),
          metric({ name: "first invocation p50", unit: "ms", value: median(pick(subj, "invokeMs")), baseline: median(pick(base, "invokeMs")), show: "added" }),
          metric({ name: "stream function duration per reply p50 (warm)", unit: "ms", value: replyMs }),
          metric({ name: "stream function peak memory", unit: "MiB", value: peakMiB }),
          metric({ name: `cost per 1,000 replies, Lambda arm64 ${STREAM_MEMORY_MB} MB (excl. Groq)`, unit: "¢", value: per1000 * 100 }),
          ...sizes.slice(1),
        ],
      };
    } finally {
      await Promise.all([pg?.stop(), groq?.stop(), ssm?.close()]);
    }
  });
}
