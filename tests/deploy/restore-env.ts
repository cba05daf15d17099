// Setup file of the deploy project (vitest.config.ts): its files set process.env for SST's synthesis
// and the config reads, and share a worker process so aws-cdk-lib and SST load once per worker rather
// than once per file. Each file gets the environment it started with back when it ends, whether or
// not it restores what it set, so the next file in the process starts from the same environment.
import { afterAll } from "vitest";

const saved = { ...process.env };

afterAll(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});
