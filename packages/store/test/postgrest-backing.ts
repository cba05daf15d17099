// Test fixture: the database behind the PostgREST stand-in. A throwaway PostgreSQL 15 when it is
// installed (PostgREST then connects as a non-superuser `authenticator` role that may only become
// anon, authenticated or service_role, as on Supabase); otherwise in-memory PGlite.
import { createPgClient, openStore, type SqlClient, type SqlStore } from "../src/index";
import { postgresAvailable, startPostgres, type PostgresServer } from "./pg-server";
import { startPostgrestFixture, type PostgrestFixture, type PostgrestFixtureOptions } from "./postgrest-server";

export interface PostgrestBacking {
  kind: "PostgreSQL" | "PGlite";
  /** The schema owner's connection (bypasses RLS): seeding and contract hooks. */
  admin: SqlStore;
  rest: PostgrestFixture;
  stop(): Promise<void>;
}

export async function startPostgrestBacking(opts: Omit<PostgrestFixtureOptions, "sql"> = {}): Promise<PostgrestBacking> {
  let server: PostgresServer | undefined;
  let admin: SqlStore;
  let sql: SqlClient;
  if (postgresAvailable()) {
    server = await startPostgres();
    admin = await openStore({ databaseUrl: server.url });
    await admin.sql.exec(`
      do $$ begin
        if not exists (select 1 from pg_roles where rolname = 'authenticator') then
          create role authenticator login noinherit;
        end if;
      end $$;
      grant anon, authenticated, service_role to authenticator;`);
    sql = await createPgClient(server.url.replace("//postgres@", "//authenticator@"));
  } else {
    admin = await openStore({ inMemory: true });
    sql = admin.sql;
  }
  const rest = await startPostgrestFixture({ sql, ...opts });
  return {
    kind: server ? "PostgreSQL" : "PGlite",
    admin,
    rest,
    async stop() {
      await rest.close();
      if (sql !== admin.sql) await sql.close();
      await admin.close();
      await server?.stop();
    },
  };
}
