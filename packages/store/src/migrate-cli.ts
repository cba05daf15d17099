// Applies database/migrations/ to the PostgreSQL database at DATABASE_URL with the API's own migrator
// (the same record, checksums and lock as a start of the API), then exits. For databases the API does
// not migrate itself, e.g. a Supabase project behind the deployed functions (docs/database.md):
//
//   DATABASE_URL=postgres://… npx tsx packages/store/src/migrate-cli.ts
import { migrate } from "./migrate";
import { createPgClient } from "./sql";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL: required (postgres://user:password@host:port/database)");
  process.exit(2);
}
const sql = await createPgClient(url, { max: 1 });
try {
  const { applied } = await migrate(sql);
  console.log(applied.length ? `applied: ${applied.join(", ")}` : "up to date: no migration to apply");
} catch (e) {
  console.error((e as Error).message);
  process.exitCode = 1;
} finally {
  await sql.close();
}
