// Props every function shares, and the runtime settings a deploy defaults differently from a local run.
// Sizing per route is in route-functions.ts.
import { LoggingFormat } from "aws-cdk-lib/aws-lambda";
import type { FunctionProps } from "sst/constructs";
import { LAMBDA_EXTERNAL, LAMBDA_INJECT, LAMBDA_KEEP_NAMES, LAMBDA_SPLITTING, LAMBDA_TARGET, NODE_HTTP_WITHOUT_FACADE } from "./bundling";

export const functionDefaults: FunctionProps = {
  // Node.js 24: Node 22 reaches end of life in April 2027 and Lambda deprecates runtimes around then.
  // Our handlers are async (Node 24's runtime no longer supports callback-style handlers). On Graviton,
  // which costs ~20% less per GB-second than x86 and starts as fast; nothing here is native code.
  runtime: "nodejs24.x",
  architecture: "arm_64",
  // Lambda's JSON log format: system and application logs as JSON, the request id added by the runtime
  // (middleware/access-log.ts writes one access record per request into it).
  loggingFormat: LoggingFormat.JSON,
  nodejs: {
    format: "esm",
    // Smaller bundles load and parse faster on a cold start.
    minify: true,
    // No source maps: SST would upload them for its console, and each bundle would carry a multi-MB map.
    sourcemap: false,
    // Lazy imports become chunks loaded only when used (stacks/bundling.ts).
    splitting: LAMBDA_SPLITTING,
    esbuild: { target: LAMBDA_TARGET, external: LAMBDA_EXTERNAL, inject: LAMBDA_INJECT, plugins: [NODE_HTTP_WITHOUT_FACADE], keepNames: LAMBDA_KEEP_NAMES },
  },
};

/**
 * Runtime settings whose deployed default differs from packages/core/src/config.ts (which suits a local
 * run): a value in the deploy's environment still wins. On AWS every token is paid for, so each user
 * gets a daily budget unless the deploy sets DAILY_TOKEN_BUDGET=0, which it then warns about.
 */
export const DEPLOY_SETTING_DEFAULTS = { DAILY_TOKEN_BUDGET: "200000" } as const;

export const BUDGET_OFF_WARNING = "DAILY_TOKEN_BUDGET=0: no daily token budget, so any account can spend the Groq quota (and its bill) without limit.";
