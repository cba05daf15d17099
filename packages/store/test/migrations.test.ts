// database/schema/ declares what database/migrations/ builds; migrate() applies each migration once, in
// order, and refuses a migration that changed after it ran.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openEmptyPglite } from "../../../tests/support/pglite-image";
import { createPgClient, migrate, readMigrations, readSchema, type SqlClient } from "../src/index";
import { readCatalog, type Catalog } from "./catalog";
import { postgresAvailable, startPostgres, type PostgresServer } from "./pg-server";

const names = () => readMigrations().map((m) => m.name);
const CLI = fileURLToPath(new URL("../src/migrate-cli.ts", import.meta.url));

/** The declared schema on one empty database, the migrations on another: the same catalog. */
async function expectSameCatalog(declared: SqlClient, migrated: SqlClient): Promise<Catalog> {
  await declared.exec(readSchema());
  expect(await migrate(migrated)).toEqual({ applied: names() });
  const [a, b] = [await readCatalog(declared), await readCatalog(migrated)];
  // Something to compare: every table, function and policy of the app is in it.
  expect(a.relations.map((r) => r.name)).toEqual(
    expect.arrayContaining(["public.users", "public.conversations", "public.messages", "public.api_keys", "public.usage_ledger"]),
  );
  expect(a.functions.length).toBeGreaterThanOrEqual(31);
  expect(a.policies.length).toBeGreaterThanOrEqual(6);
  for (const key of Object.keys(a) as (keyof Catalog)[]) expect(b[key], key).toEqual(a[key]);
  return a;
}

describe("database/schema and database/migrations", () => {
  it("build the same catalog on PGlite", async () => {
    const [declared, migrated] = await Promise.all([openEmptyPglite(), openEmptyPglite()]);
    try {
      const catalog = await expectSameCatalog(declared, migrated);
      // The migrator's bookkeeping is not part of the schema, and the former one's is gone.
      expect(catalog.relations.map((r) => r.name)).not.toContain("public.schema_migrations");
    } finally {
      await Promise.all([declared.close(), migrated.close()]);
    }
  }, 60_000);

  describe.skipIf(!postgresAvailable())("on PostgreSQL", () => {
    let server: PostgresServer;
    beforeAll(async () => {
      server = await startPostgres();
    }, 120_000);
    afterAll(() => server?.stop(), 60_000);

    it("build the same catalog", async () => {
      const admin = await createPgClient(server.url);
      await admin.exec("create database declared");
      await admin.exec("create database migrated");
      await admin.close();
      const [declared, migrated] = await Promise.all(
        ["declared", "migrated"].map((db) => createPgClient(server.url.replace(/\/postgres$/, `/${db}`))),
      );
      try {
        await expectSameCatalog(declared!, migrated!);
      } finally {
        await Promise.all([declared!.close(), migrated!.close()]);
      }
    }, 60_000);

    it("are applied by migrate-cli.ts to the database at DATABASE_URL, which refuses a changed one", async () => {
      const admin = await createPgClient(server.url);
      await admin.exec("create database by_cli");
      await admin.close();
      const url = server.url.replace(/\/postgres$/, "/by_cli");
      const cli = (env: Record<string, string>) =>
        new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
          execFile(process.execPath, ["--import", "tsx", CLI], { env: { ...process.env, ...env } }, (e, out, err) =>
            e && typeof e.code !== "number" ? reject(e) : resolve({ code: e ? (e.code as number) : 0, out, err }),
          );
        });
      expect(await cli({ DATABASE_URL: url })).toEqual({ code: 0, out: `applied: ${names().join(", ")}\n`, err: "" });
      expect(await cli({ DATABASE_URL: url })).toEqual({ code: 0, out: "up to date: no migration to apply\n", err: "" });
      const db = await createPgClient(url);
      try {
        await db.query("update public.database_migrations set checksum = 'edited' where name = $1", [names()[0]]);
      } finally {
        await db.close();
      }
      const refused = await cli({ DATABASE_URL: url });
      expect(refused.code).toBe(1);
      expect(refused.err).toContain(`database/migrations/${names()[0]} has changed since it was applied`);
    }, 60_000);
  });
});

describe("migrate()", () => {
  // Small migrations of their own in a directory of their own: the migrator does not depend on what
  // they hold, and the baseline's DDL would only slow these down.
  let dir: string;
  let sql: SqlClient;
  const dirUrl = () => pathToFileURL(`${dir}/`);
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  const read = () => readMigrations(dirUrl());
  const record = () => sql.query<{ name: string; checksum: string }>("select name, checksum from public.database_migrations order by name");

  beforeAll(async () => {
    sql = await openEmptyPglite();
  }, 60_000);
  afterAll(() => sql?.close());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "migrations-"));
  });
  afterEach(async () => {
    await sql.exec("drop table if exists public.database_migrations, public.marks, public.more");
    rmSync(dir, { recursive: true, force: true });
  });

  it("applies each migration once, in order, and records its name and checksum", async () => {
    write("20990102000000_second.sql", "insert into public.marks (n) values (2);");
    write("20990101000000_first.sql", "create table public.marks (n integer); insert into public.marks (n) values (1);");
    const migrations = read();
    expect(migrations.map((m) => m.name)).toEqual(["20990101000000_first.sql", "20990102000000_second.sql"]);
    expect(await migrate(sql, migrations)).toEqual({ applied: ["20990101000000_first.sql", "20990102000000_second.sql"] });
    expect(await record()).toEqual(migrations.map((m) => ({ name: m.name, checksum: m.checksum })));
    expect(migrations[0]!.checksum).toBe(createHash("sha256").update("create table public.marks (n integer); insert into public.marks (n) values (1);").digest("hex"));
    // Nothing again; then only a new file.
    expect(await migrate(sql, read())).toEqual({ applied: [] });
    write("20990103000000_third.sql", "insert into public.marks (n) values (3);");
    expect(await migrate(sql, read())).toEqual({ applied: ["20990103000000_third.sql"] });
    expect(await sql.query("select n from public.marks order by n")).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it("refuses, naming the file, when an applied migration has changed, and applies nothing", async () => {
    write("20990101000000_first.sql", "create table public.marks (n integer);\n");
    await migrate(sql, read());
    write("20990101000000_first.sql", "create table public.marks (n bigint);\n");
    write("20990102000000_second.sql", "insert into public.marks (n) values (2);");
    await expect(migrate(sql, read())).rejects.toThrow(/database\/migrations\/20990101000000_first\.sql has changed since it was applied/);
    expect(await sql.query("select count(*)::int as n from public.marks")).toEqual([{ n: 0 }]);
    // Line endings are not a change (a Windows checkout).
    write("20990101000000_first.sql", "create table public.marks (n integer);\r\n");
    expect(await migrate(sql, read())).toEqual({ applied: ["20990102000000_second.sql"] });
  });

  it("rolls a failing migration back with its record, names it, and applies it once it is fixed", async () => {
    write("20990101000000_first.sql", "create table public.marks (n integer);");
    write("20990102000000_second.sql", "create table public.more (n integer); insert into public.more (n) values ('x');");
    await expect(migrate(sql, read())).rejects.toThrow(/database\/migrations\/20990102000000_second\.sql failed: .*integer/);
    // What came before it stays applied; it and its table are gone.
    expect((await record()).map((r) => r.name)).toEqual(["20990101000000_first.sql"]);
    expect(await sql.query("select to_regclass('public.more') as t")).toEqual([{ t: null }]);
    write("20990102000000_second.sql", "create table public.more (n integer); insert into public.more (n) values (1);");
    expect(await migrate(sql, read())).toEqual({ applied: ["20990102000000_second.sql"] });
  });

  it("leaves alone a migration the database has and this build does not (a newer build's)", async () => {
    write("20990101000000_first.sql", "create table public.marks (n integer);");
    await migrate(sql, read());
    await sql.query("insert into public.database_migrations (name, checksum) values ('20990102000000_newer.sql', 'x')");
    expect(await migrate(sql, read())).toEqual({ applied: [] });
  });

  it("refuses a migration file that is not named <timestamp>_<name>.sql, or shares a timestamp", () => {
    write("add_thing.sql", "select 1;");
    expect(() => read()).toThrow(/add_thing\.sql: a migration is named <YYYYMMDDHHMMSS>_<lower_snake_name>\.sql/);
    rmSync(join(dir, "add_thing.sql"));
    write("20990101000000_a.sql", "select 1;");
    write("20990101000000_b.sql", "select 1;");
    expect(() => read()).toThrow(/20990101000000_b\.sql: timestamp 20990101000000 is also 20990101000000_a\.sql's/);
  });

  it("hides its record from the API roles", async () => {
    await migrate(sql);
    const [row] = await sql.query<Record<string, boolean>>(
      `select c.relrowsecurity as rls,
              has_table_privilege('anon', c.oid, 'select,insert,update,delete') as anon,
              has_table_privilege('authenticated', c.oid, 'select,insert,update,delete') as authenticated
         from pg_class c where c.oid = 'public.database_migrations'::regclass`,
    );
    expect(row).toEqual({ rls: true, anon: false, authenticated: false });
  });
});
