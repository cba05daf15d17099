// Synthesizes the SST app to CloudFormation the way `sst deploy` (mode "deploy"), `sst dev` (mode "dev")
// or `sst remove` (mode "remove") does: SST's own loader bundles sst.config.ts, then its `stacks` runs
// against an App, which in deploy mode builds every function with SST's own esbuild (0.18) exactly as a
// deploy ships it. No AWS:
// NODE_ENV=test (vitest sets it) skips SST's bootstrap lookups, so no credentials or network are needed.
// SST's build output goes to a fresh temporary directory, never the repository's shared .sst/artifacts;
// it and CDK's output directory (a copy of every function's assets, megabytes each) are removed once the
// templates are read, except a deploy's build, which its caller removes when done with it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import { App, Stack } from "sst/constructs";
import { initProject, useProject } from "sst/project.js";
import { load } from "sst/stacks/build.js";

export interface Synthesized {
  templates: Map<string, Template>;
  root: string;
  /**
   * In deploy mode, where SST built this synthesis's functions (one directory per function); the caller
   * removes it. Other modes build nothing to keep.
   */
  artifacts?: string;
  /** The region sst.config.ts chose. */
  region: string;
}

// SST's loader bundles sst.config.ts with esbuild (about a thousand modules: a second or more of CPU)
// and imports the bundle. The config and the stacks read the environment only when they run, never as
// the module loads, so one load serves every synthesis in a process whatever its settings.
let loaded: ReturnType<typeof load> | undefined;
function loadConfig(path: string): ReturnType<typeof load> {
  loaded ??= load(path);
  loaded.catch(() => (loaded = undefined));
  return loaded;
}

export async function synthesize(stage = "test", mode: "deploy" | "dev" | "remove" = "deploy"): Promise<Synthesized> {
  if (process.env.NODE_ENV !== "test") throw new Error("offline synthesis needs NODE_ENV=test");
  await initProject({ stage });
  const project = useProject();
  const artifacts = mkdtempSync(join(tmpdir(), "sst-artifacts-"));
  const outdir = mkdtempSync(join(tmpdir(), "cdk-out-"));
  let keep = false;
  try {
    project.paths.artifacts = artifacts;
    const [, config] = await loadConfig(project.paths.config);
    // As SST's own CLI does: the region is the one the config function returned (or --region).
    const region = project.config.region;
    if (!region) throw new Error("sst.config.ts chose no region");
    const app = new App({ mode, stage, name: project.config.name, region }, { outdir });
    await config.stacks(app);
    await app.finish();
    const templates = new Map<string, Template>();
    for (const child of app.node.children) {
      if (child instanceof Stack) templates.set(child.node.id, Template.fromStack(child));
    }
    keep = mode === "deploy";
    return { templates, root: project.paths.root, artifacts: keep ? artifacts : undefined, region };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
    if (!keep) rmSync(artifacts, { recursive: true, force: true });
  }
}
