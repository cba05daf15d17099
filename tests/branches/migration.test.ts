// A database written before branches: the baseline migration turns its linear history into one branch
// (each message's parent is the previous one by seq, the last message the current leaf), the API lists
// it as before, and a send or a regenerate continues it. The app runs over HTTP on that database (a
// PGlite data directory).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hashPassword } from "@conversation-api/core";
import { readSchema } from "@conversation-api/store";
import { reply } from "../fixtures/groq-server";
import { call, readSse, stream } from "../support/http";
import { messages, startGroqApp, textOf, type GroqApp } from "../groq/harness";
import { emptyPgliteImage } from "../support/pglite-image";

const USER = "00000000-0000-4000-8000-0000000000a1";
const CONV = "00000000-0000-4000-8000-0000000000c1";
const EMAIL = "linear@example.com";
const PASSWORD = "correct horse battery";

let dir: string;
let h: GroqApp;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "branches-migration-"));
  // A directory fresh from PGlite's initdb, from its image (tests/support/pglite-image.ts).
  const db = new PGlite(dir, { loadDataDir: await emptyPgliteImage() });
  await db.exec(readSchema());
  // Back to the schema before branches: no parent links, no current leaf, no parent-first trigger. No
  // record of migrations either, as the former single schema file kept none.
  await db.exec(`
    drop trigger messages_parent_first on public.messages;
    alter table public.messages drop column parent_id cascade;
    alter table public.conversations drop column current_leaf_id;`);
  await db.query("insert into public.users (id, email, password_hash) values ($1, $2, $3)", [USER, EMAIL, await hashPassword(PASSWORD)]);
  await db.query("insert into public.conversations (id, user_id, model) values ($1, $2, 'openai/gpt-oss-20b')", [CONV, USER]);
  const linear: [string, string][] = [["user", "Hi"], ["assistant", "Hello."], ["user", "How are you?"], ["assistant", "Fine."]];
  for (const [role, content] of linear)
    await db.query(
      "insert into public.messages (conversation_id, user_id, role, content, finish_reason) values ($1, $2, $3, $4, $5)",
      [CONV, USER, role, content, role === "assistant" ? "end_turn" : null],
    );
  await db.close();
  h = await startGroqApp({ DATA_DIR: dir });
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

it("lists a linear history as one branch and continues it", async () => {
  const api = h.app.api;
  const login = await call(api, "POST", "/auth/login", { body: { email: EMAIL, password: PASSWORD } });
  expect(login.status).toBe(200);
  const token = login.body.access_token as string;

  const before = await messages(api, token, CONV);
  expect(before.map((m) => m.content)).toEqual(["Hi", "Hello.", "How are you?", "Fine."]);
  expect(before.map((m) => m.parent_id)).toEqual([null, before[0].id, before[1].id, before[2].id]);
  expect(before.every((m) => m.sibling_count === 1 && m.sibling_index === 0)).toBe(true);

  h.groq.enqueue(reply(["Good."], { prompt_tokens: 10, completion_tokens: 1 }));
  expect(textOf(await readSse(await stream(api, CONV, token, { content: "Great" })))).toBe("Good.");
  expect(h.groq.requests.at(-1)!.body.messages.map((m: { content: string }) => m.content)).toEqual(["Hi", "Hello.", "How are you?", "Fine.", "Great"]);

  h.groq.enqueue(reply(["Also fine."], { prompt_tokens: 10, completion_tokens: 1 }));
  const res = await fetch(`${api}/conversations/${CONV}/messages/${before[3].id}/regenerate`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: "{}",
  });
  expect(textOf(await readSse(res))).toBe("Also fine.");
  const after = await messages(api, token, CONV);
  expect(after.map((m) => `${m.content}:${m.sibling_index + 1}/${m.sibling_count}`)).toEqual(["Hi:1/1", "Hello.:1/1", "How are you?:1/1", "Also fine.:2/2"]);
});
