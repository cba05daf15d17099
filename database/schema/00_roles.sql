-- conversation-api: the database schema as it is, declared. Not applied as it stands: databases are
-- built and upgraded by database/migrations/ (see docs/database.md), and a test proves that the
-- migrations produce exactly what these files declare. Read in file name order, each file builds on
-- the ones before it.
--
-- Runs on PGlite, plain PostgreSQL 15+ and Supabase.
--
-- Security model (the same as PostgREST / Supabase):
--   * Every user-scoped request runs inside a transaction that first does
--       select set_config('role', 'authenticated', true),
--              set_config('request.jwt.claims', '{"sub":"<user id>","role":"authenticated"}', true);
--     so row level security, keyed on auth.uid(), decides what the request can see and change.
--     A bug in application SQL therefore cannot leak or touch another user's rows.
--   * RLS is FORCED on every table, so even the table owner is subject to it unless it is a
--     superuser or has BYPASSRLS.
--   * Register and login happen before there is a user id. They run with the connection's own
--     privileges, so that role must be a superuser or have BYPASSRLS: `postgres` is superuser on
--     plain PostgreSQL and PGlite and has BYPASSRLS on Supabase. Only that pre-auth path (and the
--     migrations) may run without the authenticated role.
--   * `anon` gets nothing: the API never exposes these tables without a signed-in user.

-- ---------------------------------------------------------------------------------------------
-- Roles and auth.uid(), as PostgREST / Supabase define them. Supabase already has all of these;
-- we only create what is missing and never replace Supabase's own auth.uid().
-- ---------------------------------------------------------------------------------------------

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$$;

-- The app's connection role must be able to `set role authenticated` for each request. Superusers
-- (PGlite, local PostgreSQL) always can, and Supabase already grants it to `postgres`; a plain
-- non-superuser owner needs the membership, which it may or may not be allowed to give itself.
do $$
begin
  if not pg_has_role(current_user, 'authenticated', 'member') then
    execute format('grant authenticated to %I', current_user);
  end if;
exception when insufficient_privilege or invalid_grant_operation then
  raise warning 'role % cannot assume "authenticated"; grant it: grant authenticated to %', current_user, current_user;
end
$$;

do $$
begin
  -- Checked by hand: CREATE SCHEMA IF NOT EXISTS still demands CREATE on the database first.
  if not exists (select 1 from pg_namespace where nspname = 'auth') then
    create schema auth;
  end if;
  if not exists (
    select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'auth' and p.proname = 'uid'
  ) then
    -- Same body as Supabase's: newer PostgREST sets request.jwt.claims (JSON), older versions set
    -- request.jwt.claim.sub. An unset or empty setting yields null, which matches no row.
    create function auth.uid() returns uuid
      language sql stable
      as $fn$
        select coalesce(
          nullif(current_setting('request.jwt.claim.sub', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
        )::uuid
      $fn$;
  end if;
end
$$;

-- On Supabase the auth schema belongs to another role and these grants already exist; the
-- migration role may not be allowed to repeat them, which must not abort the whole script.
do $$
begin
  grant usage on schema auth to authenticated, service_role;
  grant execute on function auth.uid() to authenticated, service_role;
exception when insufficient_privilege then
  null;
end
$$;
