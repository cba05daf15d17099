// How a Lambda bundle is built. SST applies these at deploy (stacks/defaults.ts) and
// scripts/bundle.ts applies the same to bundle handlers offline (tests, benchmark), so what is tested
// is what ships. Plain data, not esbuild's types: SST bundles with its own esbuild version.

/** The Lambda runtime's Node major (stacks/defaults.ts: nodejs24.x): esbuild may emit anything it supports. */
export const LAMBDA_TARGET = "node24";

/**
 * Left out of every bundle:
 *  - @aws-sdk/*: the Node.js Lambda runtimes ship AWS SDK v3 (only the SSM read of secrets uses it);
 *  - @electric-sql/pglite: the embedded database for local runs; a WASM build esbuild cannot inline,
 *    and never loaded on AWS, where the store is Supabase (imported lazily, see deps.ts);
 *  - pg-native: node-postgres's optional native binding, which we do not use;
 *  - llama3-tokenizer-js: 3 MB of vocabulary that takes ~0.3 s to parse, loaded only when a history is
 *    too long to fit by its byte count. Copied beside the streaming functions (COPIED_BESIDE), not
 *    installed: SST's `nodejs.install` would run `npm install` at deploy time with the version range of
 *    the handler's package.json ("*" for anything not listed there), and ship the whole 13 MB package.
 * node-postgres (`pg`, only with DATABASE_URL) is bundled: ~150 kB, initialised only when imported.
 */
export const LAMBDA_EXTERNAL = ["@aws-sdk/*", "@electric-sql/pglite", "pg-native", "llama3-tokenizer-js"];

/** Files copied into a streaming function's node_modules: exactly the tokenizer's entry point, from the lockfile's install. */
export const COPIED_BESIDE = {
  stream: ["node_modules/llama3-tokenizer-js/package.json", "node_modules/llama3-tokenizer-js/bundle/llama3-tokenizer-with-baked-data.js"],
};

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
