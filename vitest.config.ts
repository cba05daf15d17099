import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "tests/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Each file gets its own process, so module-level singletons (shared deps, the awslambda global) and
    // environment variables never leak between suites.
    isolate: true,
    // The Lambda runtime's Node binary for tests/deploy, fetched once into a cache outside the repository.
    globalSetup: ["tests/global-setup.ts"],
  },
});
