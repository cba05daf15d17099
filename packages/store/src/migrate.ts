import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { SqlClient } from "./sql";

export const SCHEMA_URL = new URL("../../../database/schema.sql", import.meta.url);

export function readSchema(): string {
  return readFileSync(SCHEMA_URL, "utf8");
}

// Any fixed number works; it only has to be the same for every process applying the schema.
const MIGRATION_LOCK = 7_316_512_210;

/**
 * Applies database/schema.sql unless this exact file was already applied. Runs on every start: a warm
 * database costs one small query, and concurrent cold starts (Lambda) queue on an advisory lock
 * instead of racing each other's DDL.
 */
export async function migrate(sql: SqlClient, schema: string = readSchema()): Promise<{ applied: boolean }> {
  const hash = createHash("sha256").update(schema).digest("hex");
  if (await isApplied(sql, hash)) return { applied: false };
  return sql.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    // Someone else may have finished while we waited for the lock.
    if (await isApplied(tx, hash)) return { applied: false };
    await tx.exec(schema);
    await tx.query("insert into public.schema_migrations (hash) values ($1) on conflict do nothing", [hash]);
    return { applied: true };
  });
}

async function isApplied(sql: Pick<SqlClient, "query">, hash: string): Promise<boolean> {
  // Checking for the table first keeps the very first start from being an error, which would abort
  // the surrounding transaction. A pg_class scan rather than to_regclass(): to_regclass answers from
  // the backend's catalog cache, which is not refreshed after merely waiting for an advisory lock,
  // so it would miss a table that a concurrent starter created meanwhile.
  const [table] = await sql.query<{ ok: boolean }>(
    `select exists (select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                     where n.nspname = 'public' and c.relname = 'schema_migrations') as ok`,
  );
  if (!table?.ok) return false;
  const hit = await sql.query("select 1 from public.schema_migrations where hash = $1", [hash]);
  return hit.length > 0;
}
