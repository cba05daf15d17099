-- Every store operation is a SQL function: the operations the API still ran as table statements
-- (accounts, the conversations themselves, the list of API keys) become functions, so the SQL and the
-- PostgREST transports make the same call, and list_conversations is the only conversation list.
-- Each grant is explicit, as on a Supabase project whose default privileges grant nothing (and one
-- whose default privileges grant everything: they are revoked). The functions are as database/schema/
-- declares them (40_access, 60_conversations, 90_privileges); "or replace", so a database built from
-- those files, which has them already, takes this migration too.

-- ---------------------------------------------------------------------------------------------
-- Accounts. Registering and signing in happen before there is a user: those functions are
-- server-only. get_user is the signed-in caller's own account.
-- ---------------------------------------------------------------------------------------------

-- create_user(p_email text, p_password_hash text, p_display_name text) returns json (server-only)
--   The new account's public fields. The email arrives normalised; one already taken, in any case,
--   fails with 23505 (users_email_lower_key).
create or replace function public.create_user(p_email text, p_password_hash text, p_display_name text)
returns json
language sql
volatile
security invoker
set search_path = public, pg_temp
as $$
  with u as (
    insert into public.users (email, password_hash, display_name)
    values (p_email, p_password_hash, p_display_name)
    returning id, email, display_name, created_at)
  select to_json(u) from u
$$;

-- find_login(p_email text) returns json (server-only)
--   The account with this email, in any case, with its password hash; null when there is none.
create or replace function public.find_login(p_email text) returns json
language sql
stable
security invoker
set search_path = public, pg_temp
as $$
  select to_json(u) from (
    select id, email, display_name, created_at, password_hash from public.users
     where lower(email) = lower(p_email)) u
$$;

-- find_login_by_id(p_user_id uuid) returns json (server-only): find_login's answer, by id.
create or replace function public.find_login_by_id(p_user_id uuid) returns json
language sql
stable
security invoker
set search_path = public, pg_temp
as $$
  select to_json(u) from (
    select id, email, display_name, created_at, password_hash from public.users
     where id = p_user_id) u
$$;

-- get_user() returns json: the caller's account (never its password hash); null without one.
create or replace function public.get_user() returns json
language sql
stable
security invoker
set search_path = public
as $$
  select to_json(u) from (
    select id, email, display_name, created_at from public.users
     where id = (select auth.uid())) u
$$;

-- list_api_keys() returns json: the caller's live (not revoked) keys, newest first, public fields only.
create or replace function public.list_api_keys() returns json
language sql
stable
security invoker
set search_path = public
as $$
  select coalesce(json_agg(k order by k.created_at desc, k.id desc), '[]')
    from (select id, name, prefix, created_at, last_used_at, expires_at from public.api_keys
           where user_id = (select auth.uid()) and revoked_at is null) k
$$;

-- create_conversation(p_title text, p_system_prompt text, p_model text) returns json
--   The caller's new conversation. user_id takes its default, auth.uid() (the insert policy would
--   refuse any other); an account deleted since its token was issued fails with 23503.
create or replace function public.create_conversation(p_title text, p_system_prompt text, p_model text)
returns json
language sql
volatile
security invoker
set search_path = public
as $$
  with c as (
    insert into public.conversations (title, system_prompt, model)
    values (p_title, p_system_prompt, p_model)
    returning id, title, system_prompt, model, created_at, updated_at)
  select to_json(c) from c
$$;

-- get_conversation(p_id uuid) returns json: the caller's conversation; null when it is not theirs.
create or replace function public.get_conversation(p_id uuid) returns json
language sql
stable
security invoker
set search_path = public
as $$
  select to_json(c) from (
    select id, title, system_prompt, model, created_at, updated_at from public.conversations
     where id = p_id and user_id = (select auth.uid())) c
$$;

-- update_conversation(p_id uuid, p_patch jsonb) returns json
--   Sets each of title and system_prompt that p_patch has as a key (a JSON null clears it) and makes
--   the conversation the most recent; a patch with neither key changes nothing. The conversation as
--   it is then; null when it is not the caller's.
create or replace function public.update_conversation(p_id uuid, p_patch jsonb) returns json
language sql
volatile
security invoker
set search_path = public
as $$
  with changed as (
    update public.conversations
       set title = case when p_patch ? 'title' then p_patch ->> 'title' else title end,
           system_prompt = case when p_patch ? 'system_prompt' then p_patch ->> 'system_prompt' else system_prompt end,
           updated_at = now()
     where id = p_id and user_id = (select auth.uid()) and p_patch ?| array['title', 'system_prompt']
    returning id, title, system_prompt, model, created_at, updated_at)
  select to_json(c) from (
    select * from changed
    union all
    select id, title, system_prompt, model, created_at, updated_at from public.conversations
     where id = p_id and user_id = (select auth.uid()) and not coalesce(p_patch ?| array['title', 'system_prompt'], false)) c
$$;

-- delete_conversation(p_id uuid) returns boolean
--   Deletes the caller's conversation, and its messages with it (their foreign key cascades). false
--   when it is not the caller's.
create or replace function public.delete_conversation(p_id uuid) returns boolean
language sql
volatile
security invoker
set search_path = public
as $$
  with gone as (
    delete from public.conversations where id = p_id and user_id = (select auth.uid()) returning 1)
  select exists (select 1 from gone)
$$;

-- list_conversations, cheaper: its page built as one array, and no SET clause (60_conversations.sql
-- says why). Same arguments, same answer.
create or replace function public.list_conversations(
  p_after_updated_at timestamptz,
  p_after_id         uuid,
  p_limit            integer
) returns json
language plpgsql
stable
security invoker
as $$
begin
  if p_after_id is null then
    return pg_catalog.array_to_json(array(
      select c from (select t.id, t.title, t.system_prompt, t.model, t.created_at, t.updated_at
                       from public.conversations t
                      order by t.updated_at desc, t.id desc
                      limit greatest(1, least(coalesce(p_limit, 20), 101))) c
       order by c.updated_at desc, c.id desc));
  end if;
  return pg_catalog.array_to_json(array(
    select c from (select t.id, t.title, t.system_prompt, t.model, t.created_at, t.updated_at
                     from public.conversations t
                    where (t.updated_at, t.id) < (p_after_updated_at, p_after_id)
                    order by t.updated_at desc, t.id desc
                    limit greatest(1, least(coalesce(p_limit, 20), 101))) c
     order by c.updated_at desc, c.id desc));
end
$$;

revoke all on function
  public.create_user(text, text, text),
  public.find_login(text),
  public.find_login_by_id(uuid),
  public.get_user(),
  public.list_api_keys(),
  public.create_conversation(text, text, text),
  public.get_conversation(uuid),
  public.update_conversation(uuid, jsonb),
  public.delete_conversation(uuid)
from public, anon;

-- User-callable: each runs as the caller, under RLS.
grant execute on function
  public.get_user(),
  public.list_api_keys(),
  public.create_conversation(text, text, text),
  public.get_conversation(uuid),
  public.update_conversation(uuid, jsonb),
  public.delete_conversation(uuid)
to authenticated, service_role;

-- Server-only: registering and signing in, with the connection's own role or the service key.
revoke all on function
  public.create_user(text, text, text),
  public.find_login(text),
  public.find_login_by_id(uuid)
from authenticated;
grant execute on function
  public.create_user(text, text, text),
  public.find_login(text),
  public.find_login_by_id(uuid)
to service_role;
