/**
 * `npm start`: the deployed handler modules, served locally. The awslambda global goes in first —
 * Middy's streaming handlers read it while their modules are evaluated — and only then is the functions
 * package imported (dynamically, since a static import would be evaluated before this line runs).
 */
import { installAwsLambdaGlobal } from "./awslambda-shim";
import { consoleLogger } from "./logger";
import { createLocalServer } from "./server";

installAwsLambdaGlobal();

const functions = await import("@conversation-api/functions");
// Optional export: closes shared resources (database) on exit.
const { shutdown } = functions as { shutdown?: () => unknown };

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";

// /docs and /openapi.json are ordinary routes in the table, so no extraRoutes are needed here.
const server = createLocalServer({ routes: functions.routes, logger: consoleLogger });

server.listen(port, host, () => {
  console.log(`conversation-api listening on http://${host}:${port}`);
  console.log(`Swagger UI: http://${host}:${port}/docs`);
});

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
  try {
    await shutdown?.();
  } catch (e) {
    console.error("shutdown failed", e);
    process.exitCode = 1;
  }
  process.exit();
}

process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
