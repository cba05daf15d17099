import { afterAll, beforeAll, describe } from "vitest";
import { emptyPgliteImage, openEmptyPglite, pgliteImage } from "../../../tests/support/pglite-image";
import { createPgliteClient, openStore, type SqlStore } from "../src/index";
import { describeStoreContract } from "./contract";
import { describeDatabaseChecks } from "./database-checks";
import { describeQueryAs } from "./query-as";
import { sqlHooks } from "./hooks";

// Each database starts from the images the global setup made (tests/support/pglite-image.ts): the
// migrated one, or one fresh from initdb; migrations.test.ts runs the migrations themselves.
describe("PGlite (in memory)", () => {
  let store: SqlStore;
  beforeAll(async () => {
    store = await openStore({ inMemory: true, pgliteImage: await pgliteImage() });
  }, 120_000);
  afterAll(() => store?.close());

  describeStoreContract("PGlite", () => ({ store, hooks: sqlHooks(store.sql) }));
  describeQueryAs("PGlite", () => store.sql);
  describeDatabaseChecks("PGlite", () => store.sql, openEmptyPglite);
});

describe("PGlite in a worker thread", () => {
  let store: SqlStore;
  beforeAll(async () => {
    store = await openStore({ inMemory: true, pgliteThread: true, pgliteImage: await pgliteImage() });
  }, 120_000);
  afterAll(() => store?.close());

  describeQueryAs("PGlite in a worker thread", () => store.sql);
  describeDatabaseChecks("PGlite in a worker thread", () => store.sql, async () => createPgliteClient({ thread: true, image: await emptyPgliteImage() }));
});
