// The database as files: database/migrations/ builds and upgrades every database, one file at a time,
// forward only; database/schema/ declares what they build (a test holds the two to the same catalog).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

const MIGRATIONS_URL = new URL("../../../database/migrations/", import.meta.url);
const SCHEMA_URL = new URL("../../../database/schema/", import.meta.url);

export interface Migration {
  /** The file's name, e.g. `20261207000000_baseline.sql`: what the database records. */
  name: string;
  sql: string;
  /** SHA-256 hex of the file with its line endings as LF: a checkout's line endings are not a change. */
  checksum: string;
}

/**
 * `<14-digit UTC timestamp>_<name>.sql`, the Supabase CLI's naming, so the same files can be pushed
 * with `supabase db push`. The timestamp orders them and, for the CLI, identifies them.
 */
const MIGRATION_FILE = /^(\d{14})_[a-z0-9_]+\.sql$/;

/** The migrations in the order they apply. Throws on a .sql file that does not follow the naming. */
export function readMigrations(dir: URL = MIGRATIONS_URL): Migration[] {
  const names = sqlFiles(dir);
  const versions = new Map<string, string>();
  for (const name of names) {
    const version = MIGRATION_FILE.exec(name)?.[1];
    if (!version) throw new Error(`${new URL(name, dir).pathname}: a migration is named <YYYYMMDDHHMMSS>_<lower_snake_name>.sql`);
    const other = versions.get(version);
    if (other) throw new Error(`${new URL(name, dir).pathname}: timestamp ${version} is also ${other}'s; each migration needs its own`);
    versions.set(version, name);
  }
  return names.map((name) => {
    const sql = readFileSync(new URL(name, dir), "utf8");
    return { name, sql, checksum: createHash("sha256").update(sql.replace(/\r\n/g, "\n")).digest("hex") };
  });
}

/** The declarative schema: database/schema/*.sql in file name order, as one script for an empty database. */
export function readSchema(dir: URL = SCHEMA_URL): string {
  return sqlFiles(dir)
    .map((name) => readFileSync(new URL(name, dir), "utf8"))
    .join("\n");
}

/** Sorted by UTF-16 code unit, for these ASCII names bytewise: the order they apply in. */
const sqlFiles = (dir: URL): string[] => readdirSync(dir).filter((n) => n.endsWith(".sql")).sort();
