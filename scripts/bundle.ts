// `npm run build`: bundles every route's handler the way a deploy does (one self-contained ESM file
// per function, stacks/bundling.ts's target, externals and banner, minified, no source maps) into
// dist/functions and prints their sizes. tests/deploy runs the bundles; the benchmark reuses
// bundleHandlers to measure them.
import { statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { routes } from "../packages/functions/src/routes";
import { ESM_BANNER, LAMBDA_EXTERNAL, LAMBDA_TARGET } from "../stacks/bundling";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface BundleOptions {
  outdir: string;
  /** Default true, as deployed. */
  minify?: boolean;
  /** Route names to bundle; default all. */
  only?: string[];
}

export interface HandlerBundle {
  /** The route name, also the output's base name: <outdir>/<name>.mjs */
  name: string;
  file: string;
  bytes: number;
}

export async function bundleHandlers(opts: BundleOptions): Promise<HandlerBundle[]> {
  const names = [...new Set(routes.map((r) => r.name))].filter((n) => !opts.only || opts.only.includes(n));
  // Several entry points, no splitting: each output holds everything its function needs, as on Lambda.
  await build({
    absWorkingDir: ROOT,
    entryPoints: names.map((name) => ({ in: join(ROOT, `packages/functions/src/handlers/${name}.ts`), out: name })),
    outdir: opts.outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: LAMBDA_TARGET,
    mainFields: ["module", "main"],
    external: LAMBDA_EXTERNAL,
    banner: { js: ESM_BANNER },
    minify: opts.minify ?? true,
    sourcemap: false,
    keepNames: true,
    logLevel: "silent",
  });
  return names.map((name) => {
    const file = join(opts.outdir, `${name}.mjs`);
    return { name, file, bytes: statSync(file).size };
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outdir = join(ROOT, "dist", "functions");
  const bundles = await bundleHandlers({ outdir });
  const width = Math.max(...bundles.map((b) => b.name.length));
  for (const b of bundles) console.log(`${b.name.padEnd(width)}  ${(b.bytes / 1024).toFixed(1).padStart(8)} KiB`);
  console.log(`bundled ${bundles.length} handlers into ${relative(process.cwd(), outdir) || "."}`);
}
