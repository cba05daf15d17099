/**
 * `npm start`: the deployed handler modules, served locally. The awslambda global goes in first —
 * Middy's streaming handlers read it while their modules are evaluated — and only then is the functions
 * package imported (dynamically, since a static import would be evaluated before this line runs).
 */
import { installAwsLambdaGlobal } from "./awslambda-shim";
import { consoleLogger } from "./logger";
import { createLocalServer } from "./server";
import { loadDotEnv } from "./env-file";
import { listen } from "./listen";
import { parseConfig } from "@conversation-api/core";
import { servePlayground } from "@conversation-api/web";

// Whatever this process writes under DATA_DIR (PGlite's files, the signing key) holds password hashes
// and conversations: its user's alone. A umask is per process, so it covers PGlite's worker thread too;
// the files PGlite chmods itself are closed by the store (packages/store/src/private-dir.ts).
process.umask(0o077);
installAwsLambdaGlobal();

const functions = await import("@conversation-api/functions");

// Fail at start, with the variable's name, rather than on the first request.
let settings: ReturnType<typeof parseConfig>;
try {
  loadDotEnv();
  settings = parseConfig(process.env);
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
}
const { PORT: port, HOST: host } = settings;

// The runtime's dependencies, from this process's environment (with .env), handed to every invocation.
const deps = functions.depsSource(process.env);

// /docs and /openapi.json are ordinary routes in the table; only the playground page is local-only.
// LAMBDA_FAITHFUL=1: client disconnects are invisible to streaming handlers, exactly as on a Function URL.
const server = createLocalServer({
  routes: functions.routes,
  logger: consoleLogger,
  extraRoutes: servePlayground,
  hideDisconnects: settings.LAMBDA_FAITHFUL,
  context: functions.depsContext(deps),
});

// The address is bound before the database opens, so a port in use stops the start before PGlite
// touches DATA_DIR.
try {
  await listen(server, port, host);
  const { config } = await deps();
  console.log(
    `database: ${config.DATABASE_URL ? "PostgreSQL (DATABASE_URL)" : `PGlite in ${config.DATA_DIR}`}; ` +
      `model: ${config.GROQ_API_KEY ? `Groq (${config.DEFAULT_MODEL})` : "offline (set GROQ_API_KEY for Groq)"}`,
  );
  console.log(`conversation-api listening on http://${host}:${port}`);
  console.log(`Swagger UI: http://${host}:${port}/docs · playground: http://${host}:${port}/`);
  // A server that stays up loads Groq's tokenizer now, while nobody waits, instead of in front of the
  // first token of the first conversation too long to fit by its byte count: a vocabulary of a few MB
  // to compile and parse, which held that reply's first token for 0.3–2 s. Lambda keeps it lazy (its
  // cold start pays for what it loads).
  if (config.GROQ_API_KEY) setImmediate(() => void functions.loadTokenCounter(config.DEFAULT_MODEL).catch(() => {}));
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
}

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) {
    // A second Ctrl-C means now.
    process.exit(1);
  }
  stopping = true;
  console.log(`${signal}: shutting down`);
  // Stop accepting, let in-flight requests (a token stream may be one) finish for a few seconds.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const grace = setTimeout(() => server.closeAllConnections(), 5_000);
  grace.unref();
  await closed;
  clearTimeout(grace);
  // A reply's final write lands after its stream has ended (and a reply whose client was cut off above
  // stores what it had): it goes in before the database closes, for at most a few more seconds.
  const bound = new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref());
  await Promise.race([server.invocations(), bound]);
  try {
    await deps.close();
  } catch (e) {
    console.error("shutdown failed", e);
    process.exitCode = 1;
  }
  process.exit();
}

process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
