// A PGlite database on disk keeps its data across close and reopen. A new database starts from the
// cached image of a migrated one, and the first new database without one leaves its image behind; a
// database that exists never loads one. On disk (PGlite in its worker thread, the `npm start` default)
// and in memory.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { migrate, openStore, type PgliteClient, type PgliteImageCache, type SqlStore } from "../src/index";

const dir = mkdtempSync(join(tmpdir(), "store-persist-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, "image.tar");
const cache: PgliteImageCache = {
  read: () => (existsSync(file) ? new Blob([readFileSync(file)]) : undefined),
  write: async (image) => writeFileSync(file, Buffer.from(await image.arrayBuffer())),
};
const first = join(dir, "first");
let user: { id: string; email: string; display_name: string | null };

const hasMarker = async (store: SqlStore) =>
  (await store.sql.query<{ t: string | null }>("select to_regclass('public.image_marker')::text as t"))[0]!.t !== null;

it("keeps data in a PGlite data directory across close and reopen; the first new database leaves its image in the cache", async () => {
  const store = await openStore({ dataDir: first, pgliteImageCache: cache });
  user = await store.createUser({ email: "keep@example.com", password_hash: "h", display_name: null });
  const conversation = await store.forUser(user.id).createConversation({ title: "kept", system_prompt: null, model: "m" });
  await store.close();
  expect(existsSync(file)).toBe(true);

  const second = await openStore({ dataDir: first, pgliteImageCache: cache });
  try {
    expect(await migrate(second.sql)).toEqual({ applied: [] });
    expect((await second.findLogin("keep@example.com"))?.user).toEqual(user);
    expect(await second.forUser(user.id).getConversation(conversation.id)).toEqual(conversation);
  } finally {
    await second.close();
  }
}, 120_000);

it("a new database, on disk or in memory, starts from the cached image; one that exists never loads it", async () => {
  // The image with a mark: a database made from it has the mark, one made by initdb could not.
  const marked = await openStore({ inMemory: true, pgliteImage: cache.read() });
  await marked.sql.query("create table public.image_marker (x int)");
  await cache.write(await (marked.sql as PgliteClient).dumpImage());
  await marked.close();

  const fresh = join(dir, "fresh");
  const made = await openStore({ dataDir: fresh, pgliteImageCache: cache });
  try {
    expect(await hasMarker(made)).toBe(true);
    expect(await migrate(made.sql)).toEqual({ applied: [] });
    expect(await made.findLogin("keep@example.com")).toBeNull();
    await made.createUser({ email: "fresh@example.com", password_hash: "h", display_name: null });
  } finally {
    await made.close();
  }
  // Reopened, it is the database it became, not a new copy of the image.
  const reopened = await openStore({ dataDir: fresh, pgliteImageCache: cache });
  try {
    expect((await reopened.findLogin("fresh@example.com"))?.user.email).toBe("fresh@example.com");
  } finally {
    await reopened.close();
  }
  const old = await openStore({ dataDir: first, pgliteImageCache: cache });
  try {
    expect(await hasMarker(old)).toBe(false);
    expect((await old.findLogin("keep@example.com"))?.user).toEqual(user);
  } finally {
    await old.close();
  }
  const memory = await openStore({ inMemory: true, pgliteImageCache: cache });
  try {
    expect(await hasMarker(memory)).toBe(true);
  } finally {
    await memory.close();
  }
}, 120_000);
