// How a Lambda bundle is built. SST applies these at deploy (stacks/defaults.ts) and
// scripts/bundle.ts applies the same to bundle handlers offline (tests, benchmark), so what is tested
// is what ships. Plain data, not esbuild's types: SST bundles with its own esbuild version.

/** The Lambda runtime's Node major: esbuild may emit anything it supports. */
export const LAMBDA_TARGET = "node22";

/**
 * Left out of every bundle:
 *  - @aws-sdk/*: the nodejs22.x runtime ships AWS SDK v3 (only sst/node/config's SSM client uses it);
 *  - @electric-sql/pglite: the embedded database for local runs; a WASM build esbuild cannot inline,
 *    and never loaded on AWS, where the store is Supabase (imported lazily, see deps.ts);
 *  - pg-native: node-postgres's optional native binding, which we do not use;
 *  - what INSTALLED_BESIDE lists: loaded only on some paths, so they are installed into the function's
 *    node_modules instead, costing neither bundle size nor init time when unused.
 */
export const INSTALLED_BESIDE = {
  /** node-postgres: only with DATABASE_URL (the default store on AWS is Supabase over HTTP). */
  all: ["pg"],
  /** The o200k vocabulary (gpt-oss), loaded only when a history is too long to fit by its byte count. */
  stream: ["pg", "gpt-tokenizer"],
};

export const LAMBDA_EXTERNAL = ["@aws-sdk/*", "@electric-sql/pglite", "pg-native", ...INSTALLED_BESIDE.stream];

/**
 * What SST prepends to its ESM bundles (sst/runtime/handlers/node.js): CommonJS dependencies bundled
 * into ESM still call require() and read __dirname.
 */
export const ESM_BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
].join("\n");
