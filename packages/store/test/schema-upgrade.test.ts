// The baseline migration must upgrade a database the former single schema file built before a change,
// not only create a fresh one: here, one from before durable replies (no reasoning / heartbeat /
// cancel columns, none of their functions).
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readMigrations } from "../src/index";
import { emptyPgliteImage } from "../../../tests/support/pglite-image";

// Opened in the hook (its 120 s timeout), not in the test: on a busy machine opening the database and
// the schema applied three times took longer than the default 30 s test timeout together. A database
// fresh from initdb, from its image (tests/support/pglite-image.ts).
let db: PGlite;
beforeAll(async () => {
  db = await PGlite.create({ loadDataDir: await emptyPgliteImage() });
});
afterAll(() => db?.close());

it("re-applies over a database from before durable replies, and again over itself", { timeout: 120_000 }, async () => {
  const schema = readMigrations()[0]!.sql;
  await db.exec(schema);
  await db.exec(`
    drop function public.begin_reply, public.flush_reply, public.finish_reply, public.request_cancel, public.get_reply,
      public.settle_stale_replies;
    drop index public.messages_streaming_idx;
    alter table public.messages drop column reasoning, drop column heartbeat_at, drop column cancel_requested_at;
    insert into public.users (id, email, password_hash) values ('00000000-0000-4000-8000-000000000001', 'a@b.c', 'x');
    insert into public.conversations (id, user_id, model) values ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'm');
    insert into public.messages (conversation_id, user_id, role, content, finish_reason)
      values ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'assistant', 'old', 'end_turn');`);
  await db.exec(schema);
  await db.exec(schema);
  const { rows } = await db.query<{ content: string; reasoning: string }>("select content, reasoning from public.messages");
  expect(rows).toEqual([{ content: "old", reasoning: "" }]);
  const fns = await db.query<{ proname: string }>(
    "select proname from pg_proc where proname in ('begin_reply','flush_reply','finish_reply','get_reply','request_cancel','settle_stale_replies') order by 1",
  );
  expect(fns.rows.map((r) => r.proname)).toEqual(["begin_reply", "finish_reply", "flush_reply", "get_reply", "request_cancel", "settle_stale_replies"]);
});
