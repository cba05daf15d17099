import { readMigrations, type Migration } from "./migrations";
import type { SqlClient, SqlTx } from "./sql";

// Any fixed number works; it only has to be the same for every process applying migrations.
const MIGRATION_LOCK = 7_316_512_210;

/**
 * Where the migrator records what it applied. Not exposed to API roles: RLS with no policy, and no
 * grant to anon or authenticated (Supabase's default privileges would give them one). The roles may
 * not exist yet when this runs first: the baseline migration creates them.
 */
const CREATE_TABLE = `
create table public.database_migrations (
  name       text primary key,
  checksum   text not null,
  applied_at timestamptz not null default now()
);
alter table public.database_migrations enable row level security;
revoke all on public.database_migrations from public;
do $$
declare
  r text;
begin
  for r in select rolname from pg_roles where rolname in ('anon', 'authenticated') loop
    execute format('revoke all on public.database_migrations from %I', r);
  end loop;
end
$$;`;

/**
 * Applies the migrations this database has not had yet, in order, each in a transaction of its own
 * with its record, and returns their names. Runs on every start: a database that has them all costs
 * two small queries, and concurrent cold starts (Lambda) queue on an advisory lock instead of racing
 * each other's DDL.
 *
 * A database without the record (an empty one, or one the single schema file of earlier versions
 * built) gets every migration, the baseline first: it is idempotent and upgrades such a database.
 * Throws, naming the file, when a migration this database already had has changed since: what ran is
 * never edited, a change is a new migration. A recorded migration this build does not know (the
 * database was migrated by a newer build) is left alone.
 */
export async function migrate(sql: SqlClient, migrations: Migration[] = readMigrations()): Promise<{ applied: string[] }> {
  const recorded = await readRecord(sql);
  const applied: string[] = [];
  if (recorded && next(migrations, recorded) === undefined) return { applied };
  for (;;) {
    const name = await sql.transaction(async (tx) => {
      await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      // Read again under the lock: someone else may have applied some while we waited.
      const record = (await readRecord(tx)) ?? (await tx.exec(CREATE_TABLE), new Map<string, string>());
      const migration = next(migrations, record);
      if (!migration) return null;
      await tx.exec(migration.sql).catch((e: Error) => {
        throw new Error(`database/migrations/${migration.name} failed: ${e.message}`, { cause: e });
      });
      await tx.query("insert into public.database_migrations (name, checksum) values ($1, $2)", [migration.name, migration.checksum]);
      return migration.name;
    });
    if (!name) return { applied };
    applied.push(name);
  }
}

/** The first migration not recorded yet; throws if a recorded one has changed. */
function next(migrations: Migration[], record: Map<string, string>): Migration | undefined {
  for (const m of migrations) {
    const recorded = record.get(m.name);
    if (recorded !== undefined && recorded !== m.checksum) {
      throw new Error(
        `database/migrations/${m.name} has changed since it was applied to this database ` +
          `(sha256 ${recorded} then, ${m.checksum} now). An applied migration is never edited: ` +
          `restore it and put the change in a new migration.`,
      );
    }
  }
  return migrations.find((m) => !record.has(m.name));
}

/** name → checksum of the applied migrations; null when the table is not there yet. */
async function readRecord(sql: SqlTx): Promise<Map<string, string> | null> {
  // A pg_class scan rather than to_regclass(): to_regclass answers from the backend's catalog cache,
  // which merely waiting for an advisory lock does not refresh, so it could miss a table that a
  // concurrent starter created meanwhile. Checking first keeps the very first start from being an
  // error, which would abort the surrounding transaction.
  const [table] = await sql.query<{ ok: boolean }>(
    `select exists (select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                     where n.nspname = 'public' and c.relname = 'database_migrations') as ok`,
  );
  if (!table?.ok) return null;
  const rows = await sql.query<{ name: string; checksum: string }>("select name, checksum from public.database_migrations");
  return new Map(rows.map((r) => [r.name, r.checksum]));
}
