import { configDefaults, defineConfig } from "vitest/config";

const TESTS = ["packages/*/test/**/*.test.ts", "tests/**/*.test.ts"];

// Every file not listed below shares a worker process with the files run before it (no isolation):
// module loading, PGlite's WASM and the handler modules are paid once per worker instead of once per
// file. A shared file leaves nothing behind: each test runtime has its own dependencies and database
// (tests/support/app.ts), and anything a file starts it stops in afterAll. docs/testing.md.

// The deploy tests set process.env for SST's synthesis, its config reads and the Lambda detection, and
// load stacks/. They share worker processes among themselves only (aws-cdk-lib and SST load once per
// worker, seconds each), and tests/deploy/restore-env.ts gives every file back the environment it
// started with when it ends.
const DEPLOY = ["tests/deploy/**/*.test.ts"];

// Test files that run in a process of their own, each for a reason: they change process-wide state
// that the code reads once (environment variables, the awslambda global) or load modules whose state
// is the process's.
const OWN_PROCESS = [
  // Runs the stream handler where no awslambda global exists, as under `sst dev`.
  "packages/functions/test/sst-dev-fallback.test.ts",
  // Replaces process.env with Lambda's credentials.
  "packages/functions/test/ssm-fetch.test.ts",
  // Sets a Supabase data function's environment and a process-wide exchange transport.
  "packages/store/test/token-exchange.test.ts",
  // Installs and removes the awslambda global.
  "packages/local/test/shim.test.ts",
];

export default defineConfig({
  test: {
    pool: "forks",
    // Both cores: most test time is spent waiting on sockets, child processes and PGlite, not computing.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Once per run: the migrated PGlite image (tests/support/pglite-image.ts) and, for tests/deploy, the
    // Lambda runtime's Node binary, fetched into a cache outside the repository.
    globalSetup: ["tests/global-setup.ts"],
    // Transformed modules kept on disk (node_modules/.experimental-vitest-cache) between runs.
    experimental: { fsModuleCache: true },
    projects: [
      { extends: true, test: { name: "shared", include: TESTS, exclude: [...configDefaults.exclude, ...DEPLOY, ...OWN_PROCESS], isolate: false } },
      { extends: true, test: { name: "deploy", include: DEPLOY, isolate: false, setupFiles: ["tests/deploy/restore-env.ts"] } },
      { extends: true, test: { name: "own-process", include: OWN_PROCESS, isolate: true } },
    ],
  },
});
