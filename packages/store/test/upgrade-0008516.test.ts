// A database that a deployed version built, holding data, migrates to today's layout: every row kept,
// the catalog the same as a new database's, and the store contract passing on it. The version is the
// single schema file of commit 0008516 (fixtures/schema-0008516.sql), applied as its migrator did:
// the whole file, its SHA-256 recorded in public.schema_migrations. The data is written through that
// version's own functions, as its API wrote it.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openEmptyPglite } from "../../../tests/support/pglite-image";
import { createSqlStore, migrate, readMigrations, type SqlClient, type SqlStore } from "../src/index";
import { readCatalog, type Catalog } from "./catalog";
import { describeStoreContract } from "./contract";
import { sqlHooks } from "./hooks";

const OLD_SCHEMA = readFileSync(new URL("./fixtures/schema-0008516.sql", import.meta.url), "utf8");

const USER = "00000000-0000-4000-8000-000000000001";
const CONVERSATION = "00000000-0000-4000-8000-000000000002";
const USER_MESSAGE = "00000000-0000-4000-8000-000000000003";
const REPLY = "00000000-0000-4000-8000-000000000004";
const RESERVATION = "00000000-0000-4000-8000-000000000005";
const TABLES = ["users", "conversations", "messages", "api_keys", "refresh_tokens", "auth_attempts", "usage_ledger"] as const;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const asUser = [
  ["role", "authenticated"],
  ["request.jwt.claims", JSON.stringify({ sub: USER, role: "authenticated" })],
] as const;

/** Every row of every table, as jsonb, in a stable order. Read as the owner (RLS bypassed). */
async function rows(sql: SqlClient): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const t of TABLES) {
    const r = await sql.query<{ row: Record<string, unknown> }>(`select to_jsonb(t) as row from public.${t} t order by t.created_at, t.id::text`);
    out[t] = r.map((x) => x.row);
  }
  return out;
}

/** What a user of 0008516 left behind: a conversation with a finished reply, its reservation and settle, an API key, a session. */
async function writeOldData(sql: SqlClient): Promise<void> {
  await sql.query("insert into public.users (id, email, password_hash, display_name) values ($1, 'ada@example.com', '$2a$10$hash', 'Ada')", [USER]);
  await sql.query(
    "insert into public.conversations (id, user_id, title, system_prompt, model) values ($1, $2, 'Greetings', 'Be brief.', 'openai/gpt-oss-20b')",
    [CONVERSATION, USER],
  );
  const secret = randomBytes(32).toString("hex");
  const [begun] = await sql.queryAs<{ r: { status: string } }>(
    asUser,
    `select public.begin_reply(p_conversation_id => $1, p_user_message_id => $2, p_content => 'Hello', p_idempotency_key => 'key-1',
              p_reply_id => $3, p_model => 'openai/gpt-oss-20b', p_metadata => '{}'::jsonb, p_stale_ms => 60000,
              p_reservation_id => $4, p_reserve_model => 'openai/gpt-oss-20b', p_reserve_tokens => 500, p_budget => 100000,
              p_since => now() - interval '1 day', p_secret_hash => $5) as r`,
    [CONVERSATION, USER_MESSAGE, REPLY, RESERVATION, sha256(secret)],
  );
  expect(begun!.r.status).toBe("created");
  await sql.queryAs(asUser, "select public.flush_reply($1, 'Hi ', 'A greeting.')", [REPLY]);
  await sql.queryAs(
    asUser,
    `select public.finish_reply($1, 'there.', '', 12, 30, 'end_turn', 420, 80, '{"usage": {"prompt_tokens": 30}}'::jsonb)`,
    [REPLY],
  );
  const [settled] = await sql.queryAs<{ ok: boolean }>(asUser, "select public.settle_tokens($1, $2, 30, 12, 420) as ok", [RESERVATION, secret]);
  expect(settled!.ok).toBe(true);
  await sql.queryAs(asUser, "select public.create_api_key('laptop', 'cak_abcd', $1, null)", [sha256("cak_abcd-the-key")]);
  await sql.query("select public.create_session($1, $2, now() + interval '30 days')", [USER, sha256("refresh")]);
  await sql.query("select public.record_login('ada@example.com', '203.0.113.7', false)");
}

describe("a database built by the schema file of 0008516, with data", () => {
  let sql: SqlClient;
  let store: SqlStore;
  let before: Awaited<ReturnType<typeof rows>>;
  let applied: string[];

  beforeAll(async () => {
    sql = await openEmptyPglite();
    await sql.exec(OLD_SCHEMA);
    await sql.query("insert into public.schema_migrations (hash) values ($1)", [sha256(OLD_SCHEMA)]);
    await writeOldData(sql);
    before = await rows(sql);
    ({ applied } = await migrate(sql));
    store = Object.assign(createSqlStore(sql), { sql });
  }, 120_000);
  afterAll(() => sql?.close());

  it("gets the baseline, recorded, and no longer the former migrator's table", async () => {
    expect(applied).toEqual(readMigrations().map((m) => m.name));
    const [row] = await sql.query<{ old: string | null }>("select to_regclass('public.schema_migrations')::text as old");
    expect(row!.old).toBeNull();
    expect(await migrate(sql)).toEqual({ applied: [] });
  });

  it("keeps every row, with the new columns at their defaults", async () => {
    const after = await rows(sql);
    expect(before.messages).toHaveLength(2);
    expect(before.usage_ledger!.map((r) => r.entry)).toEqual(["reserve", "settle"]);
    for (const t of TABLES) {
      expect(before[t]!.length, t).toBeGreaterThan(0);
      // What the row held before, unchanged; the columns added since are extra keys.
      expect(after[t], t).toEqual(before[t]!.map((row) => expect.objectContaining(row)));
    }
    expect(after.usage_ledger!.map((r) => [r.kind, r.reply_id, r.estimated])).toEqual([
      ["reply", null, false],
      ["reply", null, false],
    ]);
    expect(after.messages!.find((m) => m.id === REPLY)).toMatchObject({ content: "Hi there.", reasoning: "A greeting.", finish_reason: "end_turn", parent_id: USER_MESSAGE });
  });

  it("has the catalog of a new database", async () => {
    const fresh = await openEmptyPglite();
    let expected: Catalog;
    try {
      await migrate(fresh);
      expected = await readCatalog(fresh);
    } finally {
      await fresh.close();
    }
    const actual = await readCatalog(sql);
    for (const key of Object.keys(expected) as (keyof Catalog)[]) expect(actual[key], key).toEqual(expected[key]);
  }, 60_000);

  it("serves the old conversation", async () => {
    const page = await store.forUser(USER).listMessages(CONVERSATION, { limit: 10 });
    expect(page!.data.map((m) => m.content)).toEqual(["Hello", "Hi there."]);
  });

  describeStoreContract("PGlite upgraded from 0008516", () => ({ store, hooks: sqlHooks(sql) }));
});
