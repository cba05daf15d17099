// `npm run build`: bundles every route's handler the way a deploy does (stacks/bundling.ts's target,
// externals, injected fetch, plugin, banner and code splitting; minified, no source maps) into dist/functions/<name>/ and
// prints their sizes. The benchmark reuses bundleHandlers to measure them.
//
// One esbuild build per handler, as SST builds each function on its own: chunks are never shared
// between functions. A handler's directory holds its entry (<name>.mjs) and the chunks of its lazy
// imports (pg, the Supabase client, the SSM client…), which load only when the code path that imports them runs.
import { statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";
import { routes } from "../packages/functions/src/routes";
import { ESM_BANNER, LAMBDA_EXTERNAL, LAMBDA_INJECT, LAMBDA_KEEP_NAMES, LAMBDA_SPLITTING, LAMBDA_TARGET, NODE_HTTP_WITHOUT_FACADE } from "../stacks/bundling";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface BundleOptions {
  outdir: string;
  /** Default true, as deployed. */
  minify?: boolean;
  /** Route names to bundle; default all. */
  only?: string[];
}

export interface HandlerBundle {
  /** The route name; its files are in <outdir>/<name>/, the entry is <outdir>/<name>/<name>.mjs */
  name: string;
  file: string;
  /** What every cold start loads: the entry and the chunks it imports statically (transitively). */
  bytes: number;
  /** Everything the function ships (the entry and every chunk, lazy ones included). */
  totalBytes: number;
  /** Bytes of each output file, by base name. */
  files: Record<string, number>;
  /**
   * Each lazy chunk (a dynamic import), named by the package or directory most of its bytes come from
   * (`pg`, `src/supabase`, `aws4`…): the bytes it adds on top of `bytes` when that import runs,
   * its own static imports included.
   */
  lazy: Record<string, number>;
}

export async function bundleHandlers(opts: BundleOptions): Promise<HandlerBundle[]> {
  const names = [...new Set(routes.map((r) => r.name))].filter((n) => !opts.only || opts.only.includes(n));
  return Promise.all(
    names.map(async (name) => {
      const dir = join(opts.outdir, name);
      const { metafile } = await build({
        absWorkingDir: ROOT,
        entryPoints: [{ in: join(ROOT, `packages/functions/src/handlers/${name}.ts`), out: name }],
        outdir: dir,
        outExtension: { ".js": ".mjs" },
        bundle: true,
        splitting: LAMBDA_SPLITTING,
        platform: "node",
        format: "esm",
        target: LAMBDA_TARGET,
        mainFields: ["module", "main"],
        external: LAMBDA_EXTERNAL,
        inject: LAMBDA_INJECT,
        plugins: [NODE_HTTP_WITHOUT_FACADE],
        banner: { js: ESM_BANNER },
        minify: opts.minify ?? true,
        sourcemap: false,
        keepNames: LAMBDA_KEEP_NAMES,
        metafile: true,
        logLevel: "silent",
      });
      const file = join(dir, `${name}.mjs`);
      return { name, file, ...sizes(metafile, file) };
    }),
  );
}

/** Sizes from esbuild's metafile: the entry's static import closure, and all outputs. */
function sizes(metafile: Metafile, entry: string): Pick<HandlerBundle, "bytes" | "totalBytes" | "files" | "lazy"> {
  const outputs = new Map(Object.entries(metafile.outputs).map(([path, o]) => [join(ROOT, path), o]));
  const size = (p: string) => statSync(p).size;
  const imports = (p: string, kind: "import-statement" | "dynamic-import") =>
    outputs.get(p)!.imports.filter((i) => i.kind === kind && !i.external).map((i) => join(ROOT, i.path));
  /** The output files `from` loads before it runs (itself and its static imports, transitively). */
  const closure = (from: string): Set<string> => {
    const seen = new Set<string>();
    const queue = [from];
    while (queue.length) {
      const path = queue.pop()!;
      if (seen.has(path) || !outputs.has(path)) continue;
      seen.add(path);
      queue.push(...imports(path, "import-statement"));
    }
    return seen;
  };
  const sum = (files: Iterable<string>) => [...files].reduce((n, p) => n + size(p), 0);
  const cold = closure(entry);
  const lazy: Record<string, number> = {};
  for (const path of outputs.keys())
    for (const chunk of imports(path, "dynamic-import")) lazy[mainSource(outputs.get(chunk)!)] = sum([...closure(chunk)].filter((f) => !cold.has(f)));
  return { bytes: sum(cold), totalBytes: sum(outputs.keys()), files: Object.fromEntries([...outputs.keys()].map((p) => [basename(p), size(p)])), lazy };
}

/** The npm package (or our source directory) that most of an output's bytes come from. */
function mainSource(output: Metafile["outputs"][string]): string {
  const by = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const key = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? input.split("/").slice(-3, -1).join("/");
    by.set(key, (by.get(key) ?? 0) + bytesInOutput);
  }
  return [...by].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "?";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outdir = join(ROOT, "dist", "functions");
  const bundles = await bundleHandlers({ outdir });
  const width = Math.max(...bundles.map((b) => b.name.length));
  console.log(`${"".padEnd(width)}  ${"cold start".padStart(10)}  ${"shipped".padStart(10)}`);
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`.padStart(10);
  for (const b of bundles) console.log(`${b.name.padEnd(width)}  ${kib(b.bytes)}  ${kib(b.totalBytes)}`);
  const stream = bundles.find((b) => b.name === "messages-stream");
  if (stream) console.log(`messages-stream, lazy chunks (added when loaded): ${Object.entries(stream.lazy).map(([k, v]) => `${k} ${(v / 1024).toFixed(1)} KiB`).join(", ")}`);
  console.log(`bundled ${bundles.length} handlers into ${relative(process.cwd(), outdir) || "."}`);
}
