// Props every function shares. Sizing per route is in route-functions.ts.
import type { FunctionProps } from "sst/constructs";
import { LAMBDA_EXTERNAL, LAMBDA_TARGET } from "./bundling";

export const functionDefaults: FunctionProps = {
  // Current Lambda Node runtime; on Graviton, which costs ~20% less per GB-second than x86 and starts
  // as fast. Nothing here is native code, so the architecture only matters for pricing.
  runtime: "nodejs22.x",
  architecture: "arm_64",
  nodejs: {
    format: "esm",
    // Smaller bundles load and parse faster on a cold start.
    minify: true,
    // No source maps: SST would upload them for its console, and each bundle would carry a multi-MB map.
    sourcemap: false,
    esbuild: { target: LAMBDA_TARGET, external: LAMBDA_EXTERNAL },
  },
};
