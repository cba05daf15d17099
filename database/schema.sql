-- conversation-api: the one database schema.
--
-- Runs unchanged on PGlite, plain PostgreSQL 15+ and Supabase. Safe to re-apply to an existing
-- database: objects are created "if not exists" / "or replace", policies are dropped and recreated.
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
--     migration) may run without the authenticated role.
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

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------

create table if not exists public.users (
  id            uuid primary key default gen_random_uuid(),
  email         text not null,
  password_hash text not null,
  display_name  text,
  created_at    timestamptz not null default now()
);
-- Emails are stored normalised, but the index is on lower() so a differently-cased duplicate can
-- never slip in through another code path.
create unique index if not exists users_email_lower_key on public.users (lower(email));

create table if not exists public.conversations (
  id            uuid primary key default gen_random_uuid(),
  user_id       uuid not null default auth.uid() references public.users (id) on delete cascade,
  title         text,
  system_prompt text,
  model         text not null,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  -- Target of messages' composite foreign key (see below).
  constraint conversations_id_user_id_key unique (id, user_id)
);
-- Serves the conversation list: keyset pagination on (updated_at desc, id desc) per user.
create index if not exists conversations_user_activity_idx
  on public.conversations (user_id, updated_at desc, id desc);

create table if not exists public.messages (
  id              uuid primary key default gen_random_uuid(),
  -- Insertion order. Timestamps can tie inside one transaction; seq never does.
  seq             bigint generated always as identity,
  conversation_id uuid not null,
  user_id         uuid not null default auth.uid(),
  role            text not null check (role in ('user', 'assistant')),
  content         text not null,
  model           text,
  token_count     integer,
  input_tokens    integer,
  finish_reason   text check (finish_reason in ('end_turn', 'max_tokens', 'cancelled', 'error')),
  latency_ms      integer,
  ttft_ms         integer,
  metadata        jsonb not null default '{}'::jsonb check (jsonb_typeof(metadata) = 'object'),
  idempotency_key text,
  created_at      timestamptz not null default now(),
  -- The message's owner must be the conversation's owner: with RLS forcing user_id = auth.uid(),
  -- a message can never be attached to someone else's conversation.
  constraint messages_conversation_fkey foreign key (conversation_id, user_id)
    references public.conversations (id, user_id) on delete cascade
);
-- A reasoning model's thinking, apart from its answer (content). Shown to the client, stored, and never
-- put back into a prompt (prepare_turn leaves it out of the history it returns).
alter table public.messages add column if not exists reasoning text not null default '';
create unique index if not exists messages_idempotency_key
  on public.messages (user_id, conversation_id, idempotency_key) where idempotency_key is not null;
create index if not exists messages_conversation_seq_idx on public.messages (conversation_id, seq);
-- Serves token budgets and usage reports.
create index if not exists messages_user_replies_idx
  on public.messages (user_id, created_at) where role = 'assistant';

create table if not exists public.api_keys (
  id           uuid primary key default gen_random_uuid(),
  user_id      uuid not null default auth.uid() references public.users (id) on delete cascade,
  name         text,
  prefix       text not null,
  -- SHA-256 hex of the key. The key itself is shown once and never stored.
  key_hash     text not null unique,
  created_at   timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);
create index if not exists api_keys_user_idx on public.api_keys (user_id);

-- ---------------------------------------------------------------------------------------------
-- Row level security
-- ---------------------------------------------------------------------------------------------

alter table public.users         enable row level security;
alter table public.users         force row level security;
alter table public.conversations enable row level security;
alter table public.conversations force row level security;
alter table public.messages      enable row level security;
alter table public.messages      force row level security;
alter table public.api_keys      enable row level security;
alter table public.api_keys      force row level security;

-- `(select auth.uid())` is evaluated once per statement instead of once per row.
drop policy if exists users_select_own on public.users;
create policy users_select_own on public.users
  for select to authenticated using (id = (select auth.uid()));
drop policy if exists users_update_own on public.users;
create policy users_update_own on public.users
  for update to authenticated using (id = (select auth.uid())) with check (id = (select auth.uid()));

drop policy if exists conversations_own on public.conversations;
create policy conversations_own on public.conversations
  for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

drop policy if exists messages_own on public.messages;
create policy messages_own on public.messages
  for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

drop policy if exists api_keys_own on public.api_keys;
create policy api_keys_own on public.api_keys
  for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

-- Supabase's default privileges hand every new table to anon and authenticated; start from
-- nothing and grant exactly what the policies are written for.
revoke all on public.users, public.conversations, public.messages, public.api_keys from public, anon, authenticated;
grant select, update (display_name) on public.users to authenticated;
grant select, insert, update, delete on public.conversations, public.messages, public.api_keys to authenticated;
grant all on public.users, public.conversations, public.messages, public.api_keys to service_role;

-- ---------------------------------------------------------------------------------------------
-- Write functions
--
-- The single implementation of multi-step writes. The SQL store calls them inside its
-- authenticated transaction; a Supabase adapter calls them through PostgREST
--   POST /rest/v1/rpc/append_user_message   {"p_conversation_id": ..., "p_id": ..., ...}
-- so their names, parameter names and return types are a stable API: change them only together
-- with every caller.
--
-- SECURITY INVOKER: they run as the caller, so RLS applies exactly as to a plain insert.
-- When the conversation is missing or belongs to someone else they raise SQLSTATE P0002
-- (no_data_found) and write nothing.
-- ---------------------------------------------------------------------------------------------

-- append_user_message(p_conversation_id uuid, p_id uuid, p_content text, p_idempotency_key text)
--   returns messages
-- Stores the caller's message and bumps conversations.updated_at. A repeated
-- (conversation, idempotency key) raises unique_violation (23505) from messages_idempotency_key.
create or replace function public.append_user_message(
  p_conversation_id uuid,
  p_id              uuid,
  p_content         text,
  p_idempotency_key text
) returns public.messages
language plpgsql
security invoker
set search_path = public
as $$
declare
  v_message public.messages;
begin
  -- Updating first also locks the conversation row, so concurrent appends get ordered seqs.
  update public.conversations set updated_at = now()
   where id = p_conversation_id and user_id = auth.uid();
  if not found then
    raise exception 'conversation % not found', p_conversation_id using errcode = 'P0002';
  end if;

  insert into public.messages (id, conversation_id, user_id, role, content, idempotency_key, parent_id)
  values (p_id, p_conversation_id, auth.uid(), 'user', p_content, p_idempotency_key, public.conversation_leaf(p_conversation_id))
  returning * into v_message;
  -- Branches (issue 14): the appended message continues the current branch.
  update public.conversations set current_leaf_id = v_message.id where id = p_conversation_id;
  return v_message;
end
$$;

-- append_assistant_message(p_conversation_id uuid, p_id uuid, p_content text, p_model text,
--   p_token_count int, p_input_tokens int, p_finish_reason text, p_latency_ms int, p_ttft_ms int,
--   p_metadata jsonb, p_reasoning text default '') returns messages
-- Stores the model's reply (complete or partial) and bumps conversations.updated_at.
-- The 10-argument version predates p_reasoning; dropped so a call by name matches exactly one function.
drop function if exists public.append_assistant_message(uuid, uuid, text, text, integer, integer, text, integer, integer, jsonb);
create or replace function public.append_assistant_message(
  p_conversation_id uuid,
  p_id              uuid,
  p_content         text,
  p_model           text,
  p_token_count     integer,
  p_input_tokens    integer,
  p_finish_reason   text,
  p_latency_ms      integer,
  p_ttft_ms         integer,
  p_metadata        jsonb,
  p_reasoning       text default ''
) returns public.messages
language plpgsql
security invoker
set search_path = public
as $$
declare
  v_message public.messages;
begin
  update public.conversations set updated_at = now()
   where id = p_conversation_id and user_id = auth.uid();
  if not found then
    raise exception 'conversation % not found', p_conversation_id using errcode = 'P0002';
  end if;

  insert into public.messages (
    id, conversation_id, user_id, role, content, model, token_count, input_tokens,
    finish_reason, latency_ms, ttft_ms, metadata, reasoning, parent_id
  ) values (
    p_id, p_conversation_id, auth.uid(), 'assistant', p_content, p_model, p_token_count,
    p_input_tokens, p_finish_reason, p_latency_ms, p_ttft_ms, coalesce(p_metadata, '{}'::jsonb),
    coalesce(p_reasoning, ''), public.conversation_leaf(p_conversation_id)
  )
  returning * into v_message;
  update public.conversations set current_leaf_id = v_message.id where id = p_conversation_id;
  return v_message;
end
$$;

revoke all on function public.append_user_message(uuid, uuid, text, text) from public, anon;
revoke all on function public.append_assistant_message(uuid, uuid, text, text, integer, integer, text, integer, integer, jsonb, text) from public, anon;
grant execute on function public.append_user_message(uuid, uuid, text, text) to authenticated, service_role;
grant execute on function public.append_assistant_message(uuid, uuid, text, text, integer, integer, text, integer, integer, jsonb, text) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Bookkeeping for the app's own migrator: it records the SHA-256 of this file once applied, so
-- warm starts skip the DDL (and its table locks) entirely. Not exposed to API roles.
-- ---------------------------------------------------------------------------------------------

create table if not exists public.schema_migrations (
  hash       text primary key,
  applied_at timestamptz not null default now()
);
alter table public.schema_migrations enable row level security;
revoke all on public.schema_migrations from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------
-- Read functions
--
-- Reads that PostgREST's query syntax cannot express in one request (aggregates are off in
-- PostgREST by default; a turn needs three related reads in one snapshot). The Supabase adapter
-- calls them as POST /rest/v1/rpc/<name>; any adapter may. Same rules as the write functions:
-- SECURITY INVOKER, so RLS applies, and the signatures are an API. The explicit
-- `user_id = auth.uid()` filters repeat what RLS enforces; they let the planner use the per-user
-- indexes and keep the functions harmless when called by a role that bypasses RLS.
-- ---------------------------------------------------------------------------------------------

-- prepare_turn(p_conversation_id uuid, p_history_limit integer, p_idempotency_key text) returns jsonb
--   {"conversation": {...}, "history": [messages, oldest first, at most p_history_limit],
--    "user_message": message with that idempotency key or null, "reply": first reply after it or null}
-- null when the conversation is missing or not the caller's.
create or replace function public.prepare_turn(
  p_conversation_id uuid,
  p_history_limit   integer,
  p_idempotency_key text
) returns jsonb
language sql
stable
security invoker
set search_path = public
as $$
  select jsonb_build_object(
    'conversation', jsonb_build_object(
      'id', c.id, 'title', c.title, 'system_prompt', c.system_prompt, 'model', c.model,
      'created_at', c.created_at, 'updated_at', c.updated_at),
    'history', coalesce((
      select jsonb_agg(to_jsonb(h) - array['seq', 'user_id', 'idempotency_key', 'reasoning'] order by h.seq)
        from (select * from public.messages m
               where m.conversation_id = c.id
               order by m.seq desc
               limit greatest(coalesce(p_history_limit, 0), 0)) h
    ), '[]'::jsonb),
    'user_message', case when u.id is null then null
                         else to_jsonb(u) - array['seq', 'user_id', 'idempotency_key'] end,
    'reply', (
      select to_jsonb(r) - array['seq', 'user_id', 'idempotency_key']
        from public.messages r
       where r.conversation_id = c.id and r.role = 'assistant' and r.seq > u.seq
       order by r.seq
       limit 1)
  )
  from public.conversations c
  left join public.messages u
    on u.conversation_id = c.id and u.role = 'user' and u.idempotency_key = p_idempotency_key
  where c.id = p_conversation_id and c.user_id = (select auth.uid())
$$;

-- tokens_used_since(p_since timestamptz) returns bigint
--   Input + output tokens of the caller's replies created at or after p_since.
create or replace function public.tokens_used_since(p_since timestamptz) returns bigint
language sql
stable
security invoker
set search_path = public
as $$
  select coalesce(sum(coalesce(m.input_tokens, 0) + coalesce(m.token_count, 0)), 0)::bigint
    from public.messages m
   where m.user_id = (select auth.uid()) and m.role = 'assistant' and m.created_at >= p_since
$$;

-- usage_report(p_from timestamptz, p_to timestamptz, p_group_by text) returns table(...)
--   The caller's replies in [p_from, p_to) grouped by UTC day ('day', key YYYY-MM-DD) or by model
--   ('model', key '' for none), ordered by key bytewise.
-- The mean is unrounded so that totals over groups stay exact; the API rounds what it shows.
drop function if exists public.usage_report(timestamptz, timestamptz, text);
create function public.usage_report(
  p_from     timestamptz,
  p_to       timestamptz,
  p_group_by text
) returns table (key text, input_tokens bigint, output_tokens bigint, messages bigint, mean_latency_ms double precision)
language sql
stable
security invoker
set search_path = public
as $$
  select g.k,
         coalesce(sum(m.input_tokens), 0)::bigint,
         coalesce(sum(m.token_count), 0)::bigint,
         count(*)::bigint,
         avg(m.latency_ms)::double precision
    from public.messages m
   cross join lateral (
     select case p_group_by
              when 'day' then to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD')
              when 'model' then coalesce(m.model, '')
            end as k
   ) g
   where m.user_id = (select auth.uid()) and m.role = 'assistant'
     and m.created_at >= p_from and m.created_at < p_to
   group by g.k
   order by g.k collate "C"
$$;

revoke all on function public.prepare_turn(uuid, integer, text) from public, anon;
revoke all on function public.tokens_used_since(timestamptz) from public, anon;
revoke all on function public.usage_report(timestamptz, timestamptz, text) from public, anon;
grant execute on function public.prepare_turn(uuid, integer, text) to authenticated, service_role;
grant execute on function public.tokens_used_since(timestamptz) to authenticated, service_role;
grant execute on function public.usage_report(timestamptz, timestamptz, text) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Durable replies (issue 11)
--
-- An assistant message exists from the reply's first event with finish_reason null ("streaming").
-- Its producer appends text in batches (flush_reply) and refreshes heartbeat_at each time; any
-- reader settles a reply whose heartbeat is older than the caller's stale window as 'error'
-- (settle_stale_replies). cancel_requested_at is how any instance asks the producer to stop: the
-- producer reads it back on its next flush. Only the producer moves a reply to end_turn, max_tokens
-- or cancelled (finish_reply); readers only ever move a stale one to error.
-- ---------------------------------------------------------------------------------------------

-- (messages.reasoning, which the functions below also write, is added with the table above.)
alter table public.messages add column if not exists heartbeat_at timestamptz;
alter table public.messages add column if not exists cancel_requested_at timestamptz;
-- Finds the streaming replies of a conversation without scanning it.
create index if not exists messages_streaming_idx
  on public.messages (conversation_id) where finish_reason is null and role = 'assistant';

-- settle_stale_replies(p_conversation_id uuid, p_stale_ms integer) returns integer
--   Marks the caller's streaming replies in that conversation (all of them when null) whose heartbeat
--   is older than p_stale_ms as finish_reason 'error'. Returns how many it settled.
create or replace function public.settle_stale_replies(p_conversation_id uuid, p_stale_ms integer)
returns integer
language sql
volatile
security invoker
set search_path = public
as $$
  with settled as (
    update public.messages m
       set finish_reason = 'error',
           metadata = m.metadata || jsonb_build_object('error', jsonb_build_object(
             'type', 'api_error',
             'message', 'The reply stopped: the instance producing it went silent'))
     where m.user_id = (select auth.uid()) and m.role = 'assistant' and m.finish_reason is null
       and (p_conversation_id is null or m.conversation_id = p_conversation_id)
       and coalesce(m.heartbeat_at, m.created_at) < now() - make_interval(secs => p_stale_ms / 1000.0)
    returning 1)
  select count(*)::integer from settled
$$;

-- begin_reply(p_conversation_id uuid, p_user_message_id uuid, p_content text, p_idempotency_key text,
--   p_retry_of uuid, p_reply_id uuid, p_model text, p_metadata jsonb, p_stale_ms integer) returns jsonb
--   {"status": "created" | "attach" | "done" | "mismatch", "reply": message, "user_message": message}
-- The one place that decides whether a send calls the model. It locks the conversation row first, so
-- concurrent sends of one conversation pass through here one at a time and each sees the rows the
-- previous one committed:
--   * a new key (or none): stores the user message and the streaming reply row together → created;
--   * a key already stored with other content → mismatch (the API answers 422);
--   * a key whose reply is streaming → attach (the caller follows that reply instead);
--   * a key whose reply finished, or that the conversation has moved past → done (409);
--   * a key whose reply failed or was cancelled → a new reply row to the same user message → created.
-- p_retry_of names the stored user message the caller planned to answer again (null: a new send).
create or replace function public.begin_reply(
  p_conversation_id uuid,
  p_user_message_id uuid,
  p_content         text,
  p_idempotency_key text,
  p_reply_id        uuid,
  p_model           text,
  p_metadata        jsonb,
  p_stale_ms        integer
) returns jsonb
language plpgsql
volatile
security invoker
set search_path = public
as $$
declare
  v_user  public.messages;
  v_reply public.messages;
  v_later boolean;
begin
  update public.conversations set updated_at = now()
   where id = p_conversation_id and user_id = auth.uid();
  if not found then
    raise exception 'conversation % not found', p_conversation_id using errcode = 'P0002';
  end if;
  perform public.settle_stale_replies(p_conversation_id, p_stale_ms);

  if p_idempotency_key is not null then
    select * into v_user from public.messages
     where conversation_id = p_conversation_id and user_id = auth.uid()
       and role = 'user' and idempotency_key = p_idempotency_key;
  end if;

  if v_user.id is not null then
    if v_user.content <> p_content then
      return jsonb_build_object('status', 'mismatch');
    end if;
    select exists (select 1 from public.messages l
                    where l.conversation_id = p_conversation_id and l.role = 'user' and l.seq > v_user.seq)
      into v_later;
    select * into v_reply from public.messages r
     where r.conversation_id = p_conversation_id and r.role = 'assistant' and r.seq > v_user.seq
     order by r.seq desc limit 1;
    if v_reply.id is not null and v_reply.finish_reason is null then
      return jsonb_build_object('status', 'attach', 'reply', to_jsonb(v_reply) - array['seq', 'user_id', 'idempotency_key']);
    end if;
    if v_later or v_reply.finish_reason in ('end_turn', 'max_tokens') then
      return jsonb_build_object('status', 'done', 'reply', to_jsonb(v_reply) - array['seq', 'user_id', 'idempotency_key']);
    end if;
  else
    insert into public.messages (id, conversation_id, user_id, role, content, idempotency_key)
    values (p_user_message_id, p_conversation_id, auth.uid(), 'user', p_content, p_idempotency_key)
    returning * into v_user;
  end if;

  insert into public.messages (id, conversation_id, user_id, role, content, model, metadata, heartbeat_at)
  values (p_reply_id, p_conversation_id, auth.uid(), 'assistant', '', p_model, coalesce(p_metadata, '{}'::jsonb), now())
  returning * into v_reply;
  return jsonb_build_object(
    'status', 'created',
    'reply', to_jsonb(v_reply) - array['seq', 'user_id', 'idempotency_key'],
    'user_message', to_jsonb(v_user) - array['seq', 'user_id', 'idempotency_key']);
end
$$;

-- flush_reply(p_id uuid, p_text text, p_reasoning text) returns jsonb
--   Appends to a streaming reply and refreshes its heartbeat. Returns {"finish_reason", "cancel"}:
--   the producer stops when cancel is true or when the reply was settled under it (finish_reason set).
--   null when the reply is not the caller's.
create or replace function public.flush_reply(p_id uuid, p_text text, p_reasoning text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = public
as $$
declare
  v_row public.messages;
begin
  update public.messages
     set content = content || coalesce(p_text, ''),
         reasoning = reasoning || coalesce(p_reasoning, ''),
         heartbeat_at = now()
   where id = p_id and user_id = auth.uid() and role = 'assistant' and finish_reason is null
  returning * into v_row;
  if v_row.id is null then
    select * into v_row from public.messages where id = p_id and user_id = auth.uid() and role = 'assistant';
    if v_row.id is null then return null; end if;
  end if;
  return jsonb_build_object('finish_reason', v_row.finish_reason, 'cancel', v_row.cancel_requested_at is not null);
end
$$;

-- finish_reply(p_id uuid, p_text text, p_reasoning text, p_token_count int, p_input_tokens int,
--   p_finish_reason text, p_latency_ms int, p_ttft_ms int, p_metadata jsonb) returns messages
--   The producer's last write: appends the unflushed tail and settles the reply. A reply a reader
--   already settled as error keeps that finish_reason (its text still gets the tail). null when the
--   reply is not the caller's.
create or replace function public.finish_reply(
  p_id            uuid,
  p_text          text,
  p_reasoning     text,
  p_token_count   integer,
  p_input_tokens  integer,
  p_finish_reason text,
  p_latency_ms    integer,
  p_ttft_ms       integer,
  p_metadata      jsonb
) returns public.messages
language plpgsql
volatile
security invoker
set search_path = public
as $$
declare
  v_row public.messages;
begin
  update public.messages
     set content = content || coalesce(p_text, ''),
         reasoning = reasoning || coalesce(p_reasoning, ''),
         token_count = p_token_count,
         input_tokens = p_input_tokens,
         finish_reason = coalesce(finish_reason, p_finish_reason),
         latency_ms = p_latency_ms,
         ttft_ms = p_ttft_ms,
         -- A reader's metadata.error (set when it settled the reply as stale) survives.
         metadata = coalesce(p_metadata, '{}'::jsonb) || metadata,
         heartbeat_at = now()
   where id = p_id and user_id = auth.uid() and role = 'assistant'
  returning * into v_row;
  if v_row.id is null then return null; end if;
  update public.conversations set updated_at = now() where id = v_row.conversation_id;
  return v_row;
end
$$;

-- get_reply(p_id uuid, p_stale_ms integer) returns jsonb
--   The caller's assistant message with its reasoning and whether a cancel was asked for, after
--   settling it if it is stale. null for anything else (another user's row, a user message).
create or replace function public.get_reply(p_id uuid, p_stale_ms integer)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = public
as $$
declare
  v_row public.messages;
begin
  select * into v_row from public.messages where id = p_id and user_id = auth.uid() and role = 'assistant';
  if v_row.id is null then return null; end if;
  if v_row.finish_reason is null then
    perform public.settle_stale_replies(v_row.conversation_id, p_stale_ms);
    select * into v_row from public.messages where id = p_id;
  end if;
  return to_jsonb(v_row) - array['seq', 'user_id', 'idempotency_key'];
end
$$;

-- request_cancel(p_id uuid, p_stale_ms integer) returns jsonb
--   {"status": "accepted"} when the caller's reply is streaming (its producer stops on its next
--   flush), {"status": "ended", "finish_reason": ...} when it already ended; null when it is not the
--   caller's reply.
create or replace function public.request_cancel(p_id uuid, p_stale_ms integer)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = public
as $$
declare
  v_reply jsonb;
begin
  v_reply := public.get_reply(p_id, p_stale_ms);
  if v_reply is null then return null; end if;
  if v_reply ->> 'finish_reason' is not null then
    return jsonb_build_object('status', 'ended', 'finish_reason', v_reply ->> 'finish_reason');
  end if;
  update public.messages set cancel_requested_at = coalesce(cancel_requested_at, now())
   where id = p_id and user_id = auth.uid() and finish_reason is null;
  return jsonb_build_object('status', 'accepted');
end
$$;

revoke all on function public.settle_stale_replies(uuid, integer) from public, anon;
revoke all on function public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer) from public, anon;
revoke all on function public.flush_reply(uuid, text, text) from public, anon;
revoke all on function public.finish_reply(uuid, text, text, integer, integer, text, integer, integer, jsonb) from public, anon;
revoke all on function public.get_reply(uuid, integer) from public, anon;
revoke all on function public.request_cancel(uuid, integer) from public, anon;
grant execute on function public.settle_stale_replies(uuid, integer) to authenticated, service_role;
grant execute on function public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer) to authenticated, service_role;
grant execute on function public.flush_reply(uuid, text, text) to authenticated, service_role;
grant execute on function public.finish_reply(uuid, text, text, integer, integer, text, integer, integer, jsonb) to authenticated, service_role;
grant execute on function public.get_reply(uuid, integer) to authenticated, service_role;
grant execute on function public.request_cancel(uuid, integer) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Branches and one reply at a time (issue 14)
--
-- Messages form a tree per conversation: parent_id is the message a message answers or follows (null
-- for a root). A regenerated reply is a sibling of the reply it replaces (same parent, the user
-- message); an edited and resent user message is a sibling of the one it edits. The conversation's
-- current_leaf_id names the branch the API lists and the next send continues: the path root → leaf.
-- Prompts are built from that path only (prepare_turn); usage and budgets sum every message, whatever
-- branch it is on. Only one reply streams per conversation: begin_reply refuses a new one (status
-- "busy") while another is streaming and not stale.
--
-- NOTE for the access branch (insert-only messages with column grants): parent_id must be added to
-- the insert grant, and current_leaf_id is written only through the functions below.
-- ---------------------------------------------------------------------------------------------

-- The parent is always in the same conversation: (parent_id, conversation_id) references (id, conversation_id).
create unique index if not exists messages_id_conversation_key on public.messages (id, conversation_id);
alter table public.conversations add column if not exists current_leaf_id uuid;

-- Migration of a linear history: only when parent_id is first added, each message's parent becomes the
-- previous message of its conversation by seq, and the last message the current leaf. Done once, so a
-- re-applied schema never re-links a later root (an edited first message has no parent, legitimately).
do $$
begin
  if not exists (select 1 from information_schema.columns
                  where table_schema = 'public' and table_name = 'messages' and column_name = 'parent_id') then
    alter table public.messages add column parent_id uuid;
    update public.messages m set parent_id = p.prev
      from (select id, lag(id) over (partition by conversation_id order by seq) as prev from public.messages) p
     where p.id = m.id and p.prev is not null;
    update public.conversations c set current_leaf_id = (
      select l.id from public.messages l where l.conversation_id = c.id order by l.seq desc limit 1);
  end if;
  if not exists (select 1 from pg_constraint where conname = 'messages_parent_fkey') then
    alter table public.messages add constraint messages_parent_fkey foreign key (parent_id, conversation_id)
      references public.messages (id, conversation_id) on delete cascade;
  end if;
end
$$;
-- Children of a message, newest last: siblings, and the walk down to a branch's leaf.
create index if not exists messages_parent_idx on public.messages (conversation_id, parent_id, seq);

-- conversation_leaf(p_conversation_id uuid) returns uuid
--   The current leaf; a conversation whose leaf was never set (written before branches by a path that
--   bypassed these functions) falls back to its last message.
create or replace function public.conversation_leaf(p_conversation_id uuid) returns uuid
language sql
stable
security invoker
set search_path = public
as $$
  select coalesce(
    (select c.current_leaf_id from public.conversations c
      where c.id = p_conversation_id and exists (
        select 1 from public.messages x where x.id = c.current_leaf_id and x.conversation_id = c.id)),
    (select m.id from public.messages m where m.conversation_id = p_conversation_id order by m.seq desc limit 1))
$$;

-- branch_path(p_conversation_id uuid, p_leaf uuid) returns setof messages
--   The messages from the root down to p_leaf (p_leaf included), in any order (sort by seq: a child is
--   always written after its parent). Empty when p_leaf is null or not in the conversation.
create or replace function public.branch_path(p_conversation_id uuid, p_leaf uuid) returns setof public.messages
language sql
stable
security invoker
set search_path = public
as $$
  with recursive path as (
    select m.* from public.messages m where m.id = p_leaf and m.conversation_id = p_conversation_id
    union all
    select p.* from public.messages p join path on p.id = path.parent_id and p.conversation_id = p_conversation_id
  )
  select * from path
$$;

-- list_branch(p_conversation_id uuid, p_after_seq bigint, p_limit integer) returns jsonb
--   The page of the current branch after seq p_after_seq (oldest first, at most p_limit), each message
--   with sibling_ids (its parent's children by seq, itself included), sibling_count, sibling_index and
--   cursor_seq (text). null when the conversation is missing or not the caller's.
create or replace function public.list_branch(p_conversation_id uuid, p_after_seq bigint, p_limit integer)
returns jsonb
language sql
stable
security invoker
set search_path = public
as $$
  select case when c.id is null then null else coalesce((
    select jsonb_agg(
             to_jsonb(m) - array['seq', 'user_id', 'idempotency_key', 'heartbeat_at', 'cancel_requested_at']
             || jsonb_build_object('cursor_seq', m.seq::text, 'sibling_ids', s.ids,
                                   'sibling_count', jsonb_array_length(s.ids),
                                   'sibling_index', (select i - 1 from jsonb_array_elements_text(s.ids) with ordinality e(v, i) where e.v = m.id::text))
             order by m.seq)
      from (select * from public.branch_path(c.id, public.conversation_leaf(c.id)) b
             where b.seq > coalesce(p_after_seq, 0) order by b.seq limit greatest(coalesce(p_limit, 0), 0)) m
      cross join lateral (
        select jsonb_agg(x.id order by x.seq) as ids from public.messages x
         where x.conversation_id = c.id and x.parent_id is not distinct from m.parent_id) s
  ), '[]'::jsonb) end
  from (select 1) one
  left join public.conversations c on c.id = p_conversation_id and c.user_id = (select auth.uid())
$$;

-- prepare_turn(p_conversation_id uuid, p_history_limit integer, p_idempotency_key text, p_parent_id uuid,
--   p_branch boolean) returns jsonb
--   As before, but the history is the path from the root to the prompt's parent: p_parent_id when
--   p_branch (an edit, a regenerate; null: none), else the current leaf; at most p_history_limit messages, the most
--   recent of the path. "parent_found" says whether p_parent_id is a message of this conversation.
drop function if exists public.prepare_turn(uuid, integer, text);
create or replace function public.prepare_turn(
  p_conversation_id uuid,
  p_history_limit   integer,
  p_idempotency_key text,
  p_parent_id       uuid default null,
  p_branch          boolean default false
) returns jsonb
language sql
stable
security invoker
set search_path = public
as $$
  select jsonb_build_object(
    'conversation', jsonb_build_object(
      'id', c.id, 'title', c.title, 'system_prompt', c.system_prompt, 'model', c.model,
      'created_at', c.created_at, 'updated_at', c.updated_at),
    'parent_found', p_parent_id is null or exists (
      select 1 from public.messages pm where pm.id = p_parent_id and pm.conversation_id = c.id),
    'history', coalesce((
      select jsonb_agg(to_jsonb(h) - array['seq', 'user_id', 'idempotency_key', 'reasoning'] order by h.seq)
        from (select * from public.branch_path(c.id, case when p_branch then p_parent_id else public.conversation_leaf(c.id) end) m
               order by m.seq desc
               limit greatest(coalesce(p_history_limit, 0), 0)) h
    ), '[]'::jsonb),
    'user_message', case when u.id is null then null
                         else to_jsonb(u) - array['seq', 'user_id', 'idempotency_key'] end,
    'reply', (
      select to_jsonb(r) - array['seq', 'user_id', 'idempotency_key']
        from public.messages r
       where r.conversation_id = c.id and r.role = 'assistant' and r.parent_id = u.id
       order by r.seq
       limit 1)
  )
  from public.conversations c
  left join public.messages u
    on u.conversation_id = c.id and u.role = 'user' and u.idempotency_key = p_idempotency_key
  where c.id = p_conversation_id and c.user_id = (select auth.uid())
$$;

-- begin_reply(…, p_parent_id uuid, p_answer_to uuid, p_input_tokens integer, p_branch boolean) returns jsonb
--   Durable's begin_reply (see above) with branches and one reply at a time:
--   * p_answer_to: answer this stored user message again (regenerate): no user message is stored, the
--     new reply is a sibling of its earlier replies;
--   * otherwise the user message's parent is p_parent_id when p_branch (an edit; null: a new root) or
--     the current leaf;
--   * the new reply becomes the current leaf; p_input_tokens (the prompt as sent) is stored at once;
--   * while another reply of the conversation streams (and is not stale) → {"status": "busy", "reply"}.
--   An idempotent repeat is decided before the busy check, so it still attaches to its own reply.
drop function if exists public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer);
create or replace function public.begin_reply(
  p_conversation_id uuid,
  p_user_message_id uuid,
  p_content         text,
  p_idempotency_key text,
  p_reply_id        uuid,
  p_model           text,
  p_metadata        jsonb,
  p_stale_ms        integer,
  p_parent_id       uuid default null,
  p_answer_to       uuid default null,
  p_input_tokens    integer default null,
  p_branch          boolean default false
) returns jsonb
language plpgsql
volatile
security invoker
set search_path = public
as $$
declare
  v_user  public.messages;
  v_reply public.messages;
  v_busy  public.messages;
  v_later boolean;
begin
  -- The row lock orders every send of this conversation: each sees what the previous one committed.
  update public.conversations set updated_at = now()
   where id = p_conversation_id and user_id = auth.uid();
  if not found then
    raise exception 'conversation % not found', p_conversation_id using errcode = 'P0002';
  end if;
  perform public.settle_stale_replies(p_conversation_id, p_stale_ms);

  if p_idempotency_key is not null and p_answer_to is null then
    select * into v_user from public.messages
     where conversation_id = p_conversation_id and user_id = auth.uid()
       and role = 'user' and idempotency_key = p_idempotency_key;
  end if;

  if v_user.id is not null then
    if v_user.content <> p_content then
      return jsonb_build_object('status', 'mismatch');
    end if;
    select exists (select 1 from public.messages l
                    where l.conversation_id = p_conversation_id and l.role = 'user' and l.seq > v_user.seq)
      into v_later;
    select * into v_reply from public.messages r
     where r.conversation_id = p_conversation_id and r.role = 'assistant' and r.parent_id = v_user.id
     order by r.seq desc limit 1;
    if v_reply.id is not null and v_reply.finish_reason is null then
      return jsonb_build_object('status', 'attach', 'reply', to_jsonb(v_reply) - array['seq', 'user_id', 'idempotency_key']);
    end if;
    if v_later or v_reply.finish_reason in ('end_turn', 'max_tokens') then
      return jsonb_build_object('status', 'done', 'reply', to_jsonb(v_reply) - array['seq', 'user_id', 'idempotency_key']);
    end if;
  end if;

  select * into v_busy from public.messages b
   where b.conversation_id = p_conversation_id and b.role = 'assistant' and b.finish_reason is null
   order by b.seq desc limit 1;
  if v_busy.id is not null then
    return jsonb_build_object('status', 'busy', 'reply', to_jsonb(v_busy) - array['seq', 'user_id', 'idempotency_key']);
  end if;

  if p_answer_to is not null then
    select * into v_user from public.messages
     where id = p_answer_to and conversation_id = p_conversation_id and role = 'user';
    if v_user.id is null then
      raise exception 'message % not found', p_answer_to using errcode = 'P0002';
    end if;
  elsif v_user.id is null then
    if p_parent_id is not null and not exists (
      select 1 from public.messages where id = p_parent_id and conversation_id = p_conversation_id) then
      raise exception 'message % not found', p_parent_id using errcode = 'P0002';
    end if;
    insert into public.messages (id, conversation_id, user_id, role, content, idempotency_key, parent_id)
    values (p_user_message_id, p_conversation_id, auth.uid(), 'user', p_content, p_idempotency_key,
            case when p_branch then p_parent_id else public.conversation_leaf(p_conversation_id) end)
    returning * into v_user;
  end if;

  insert into public.messages (id, conversation_id, user_id, role, content, model, metadata, heartbeat_at, parent_id, input_tokens)
  values (p_reply_id, p_conversation_id, auth.uid(), 'assistant', '', p_model, coalesce(p_metadata, '{}'::jsonb), now(),
          v_user.id, p_input_tokens)
  returning * into v_reply;
  update public.conversations set current_leaf_id = v_reply.id where id = p_conversation_id;
  return jsonb_build_object(
    'status', 'created',
    'reply', to_jsonb(v_reply) - array['seq', 'user_id', 'idempotency_key'],
    'user_message', to_jsonb(v_user) - array['seq', 'user_id', 'idempotency_key']);
end
$$;

-- switch_branch(p_conversation_id uuid, p_message_id uuid) returns uuid
--   Makes the branch through p_message_id current: its leaf is reached by following the most recent
--   child from there down. Returns that leaf; null when the message is not in the caller's conversation.
create or replace function public.switch_branch(p_conversation_id uuid, p_message_id uuid) returns uuid
language plpgsql
volatile
security invoker
set search_path = public
as $$
declare
  v_leaf uuid;
begin
  if not exists (select 1 from public.messages m
                  where m.id = p_message_id and m.conversation_id = p_conversation_id and m.user_id = auth.uid()) then
    return null;
  end if;
  with recursive down as (
    select p_message_id as id, 0 as depth
    union all
    select (select c.id from public.messages c
             where c.conversation_id = p_conversation_id and c.parent_id = down.id
             order by c.seq desc limit 1), down.depth + 1
      from down where down.id is not null
  )
  select id into v_leaf from down where id is not null order by depth desc limit 1;
  update public.conversations set current_leaf_id = v_leaf
   where id = p_conversation_id and user_id = auth.uid();
  return v_leaf;
end
$$;


revoke all on function public.conversation_leaf(uuid) from public, anon;
revoke all on function public.branch_path(uuid, uuid) from public, anon;
revoke all on function public.list_branch(uuid, bigint, integer) from public, anon;
revoke all on function public.prepare_turn(uuid, integer, text, uuid, boolean) from public, anon;
revoke all on function public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer, uuid, uuid, integer, boolean) from public, anon;
revoke all on function public.switch_branch(uuid, uuid) from public, anon;
grant execute on function public.conversation_leaf(uuid) to authenticated, service_role;
grant execute on function public.branch_path(uuid, uuid) to authenticated, service_role;
grant execute on function public.list_branch(uuid, bigint, integer) to authenticated, service_role;
grant execute on function public.prepare_turn(uuid, integer, text, uuid, boolean) to authenticated, service_role;
grant execute on function public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer, uuid, uuid, integer, boolean) to authenticated, service_role;
grant execute on function public.switch_branch(uuid, uuid) to authenticated, service_role;
