import { readFileSync } from "node:fs";
import { posix } from "node:path";

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
 *  - gpt-tokenizer: the o200k vocabulary (gpt-oss), ~2.5 MB to parse, loaded only when a count matters
 *    (a history too long to fit by its byte count, a reply without upstream usage). Copied beside the
 *    streaming functions (COPIED_BESIDE), not installed: SST's `nodejs.install` would run `npm install`
 *    at deploy time with the version range of the handler's package.json ("*" for anything not listed
 *    there), and ship the whole 30 MB package with every other encoding.
 *  - web-streams-polyfill: node-fetch's Blob falls back to it only where Node has no global
 *    ReadableStream (Node < 18), so it never loads; bundled, it would add ~70 kB to every cold start.
 * node-postgres (`pg`, only with DATABASE_URL) is bundled, in a chunk of its own (LAMBDA_SPLITTING).
 */
export const LAMBDA_EXTERNAL = ["@aws-sdk/*", "@electric-sql/pglite", "pg-native", "gpt-tokenizer", "web-streams-polyfill"];

/**
 * esbuild's `keepNames` (SST turns it on; its `esbuild` options override that): off. It wraps each of
 * the bundle's ~1,200 functions and classes in a call that restores its `name`, 7 % of the stream
 * function's cold-start code, and nothing of ours reads a function's or class's name (our errors set
 * `name` themselves). A minified stack names minified functions either way.
 */
export const LAMBDA_KEEP_NAMES = false;

/**
 * esbuild's `inject`: the bundle's `fetch`, `Headers` and `FormData` are node-fetch's, not Node's
 * undici (packages/functions/src/lambda-fetch.ts says why). Relative to the project root, which is the
 * working directory of SST's build and scripts/bundle.ts's `absWorkingDir`.
 */
export const LAMBDA_INJECT = ["packages/functions/src/lambda-fetch.ts"];

/**
 * An esbuild plugin: the bundle's ES imports of `node:http` read the module with
 * `process.getBuiltinModule` instead. Importing node:http as an ES module builds its ES facade, which
 * reads every export, and Node 24's exports include getters that load undici
 * (https://github.com/nodejs/node/issues/59686): node-fetch's `import http from "node:http"` would
 * load it after all. The other builtins' facades load nothing extra (checked on Node 24). A plain
 * object, so SST's own esbuild (0.18) runs it as well as ours.
 */
export const NODE_HTTP_WITHOUT_FACADE = {
  name: "node-http-without-facade",
  setup(build: {
    onResolve(o: { filter: RegExp }, cb: (a: { path: string; kind: string }) => { path: string; namespace: string } | undefined): void;
    onLoad(o: { filter: RegExp; namespace: string }, cb: () => { contents: string; loader: "js" }): void;
  }) {
    build.onResolve({ filter: /^(node:)?http$/ }, (a) => (a.kind === "import-statement" ? { path: "node:http", namespace: "builtin-module" } : undefined));
    build.onLoad({ filter: /.*/, namespace: "builtin-module" }, () => ({
      // The default export only (what node-fetch imports): a named import fails the build, never a cold start.
      contents: `export default process.getBuiltinModule("node:http");`,
      loader: "js",
    }));
  },
};

/**
 * ESM code splitting (SST's `nodejs.splitting`): every `await import(…)` becomes a chunk file beside the
 * handler, loaded only when that code runs. A cold start then parses only what its configuration uses:
 * node-postgres (~90 kB, only with DATABASE_URL) and the PostgREST client (only with SUPABASE_URL) are
 * chunks, and so is the SSM client (ssm.ts with aws4, only when secrets come from SSM). The Groq
 * provider (groq-sdk, ~50 kB) is a chunk too, loaded while the secrets are read (deps.ts). SST builds each function on its own
 * with `outdir` = the function's directory, so its chunks ship with it and are shared with no other.
 */
export const LAMBDA_SPLITTING = true;

/**
 * Files copied into a streaming function's node_modules: the package.json and exactly the modules the
 * o200k entry point imports, from the lockfile's install. Followed from the entry rather than listed,
 * so an upgrade that moves a file cannot ship a tokenizer that fails to load.
 */
export const COPIED_BESIDE = { stream: moduleClosure("gpt-tokenizer", "esm/encoding/o200k_harmony.js") };

function moduleClosure(pkg: string, entry: string): string[] {
  const root = `node_modules/${pkg}/`;
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(root + file, "utf8").matchAll(/(?:from\s*|import\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g))
      queue.push(posix.normalize(posix.join(posix.dirname(file), m[1]!)));
  }
  return [`${root}package.json`, ...[...seen].sort().map((f) => root + f)];
}

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
