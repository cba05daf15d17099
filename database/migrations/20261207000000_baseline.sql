-- conversation-api: the baseline migration.
--
-- Brings two kinds of database to the layout that database/schema/ declares: an empty one, and one
-- built by the single schema file this project kept before migrations (any version of it: that file
-- was re-applied whole on every change, and this is its last version). So everything here is
-- idempotent and carries that file's upgrade steps: objects are created "if not exists" / "or
-- replace", policies are dropped and recreated, columns added later are added if missing, and
-- functions the API no longer calls are dropped with their older signatures. Runs unchanged on
-- PGlite, plain PostgreSQL 15+ and Supabase.
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
-- Durable replies: a streaming reply's last write, and a cancel asked for by any instance.
alter table public.messages add column if not exists heartbeat_at timestamptz;
alter table public.messages add column if not exists cancel_requested_at timestamptz;
-- Branches: messages form a tree per conversation. parent_id is the message a message
-- answers or follows (null for a root); conversations.current_leaf_id names the branch the API lists
-- and the next send continues (root → leaf). Written only through the functions below.
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
-- A parent must be stored before its child. The foreign key alone is checked at the end of the
-- statement, so one multi-row INSERT (a user may send one straight to PostgREST) could make a message
-- its own parent or two messages each other's: a cycle, which the recursive walks would follow forever.
-- A BEFORE ROW trigger sees only rows stored before this one, so no cycle can be written (and rows are
-- never updated: no UPDATE grant on messages, and no function changes parent_id).
create or replace function public.messages_parent_first() returns trigger
language plpgsql
security invoker
set search_path = public
as $$
begin
  if new.parent_id is not null and not exists (
    select 1 from public.messages p where p.id = new.parent_id and p.conversation_id = new.conversation_id) then
    raise exception 'parent % is not a stored message of conversation %', new.parent_id, new.conversation_id
      using errcode = '23503';
  end if;
  return new;
end
$$;
drop trigger if exists messages_parent_first on public.messages;
create trigger messages_parent_first before insert on public.messages
  for each row execute function public.messages_parent_first();
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
alter table public.api_keys add column if not exists expires_at timestamptz;

-- Refresh tokens (sessions). Server-only: no grant to anon or authenticated, and RLS with no policy.
-- A family is one sign-in; each refresh rotates to a new row of the same family. Only SHA-256 hashes
-- of the tokens are stored.
create table if not exists public.refresh_tokens (
  id          uuid primary key default gen_random_uuid(),
  user_id     uuid not null references public.users (id) on delete cascade,
  family_id   uuid not null,
  token_hash  text not null unique,
  created_at  timestamptz not null default now(),
  expires_at  timestamptz not null,
  rotated_at  timestamptz,
  revoked_at  timestamptz
);
create index if not exists refresh_tokens_family_idx on public.refresh_tokens (family_id);
create index if not exists refresh_tokens_user_idx on public.refresh_tokens (user_id);

-- Throttling counters for the pre-auth routes (failed logins per account and per IP, registrations
-- per IP). Server-only like refresh_tokens. `scope` names the counter, `key` its subject.
create table if not exists public.auth_attempts (
  id         bigint generated always as identity primary key,
  scope      text not null check (scope in ('login_account', 'login_ip', 'register_ip')),
  key        text not null check (char_length(key) <= 320),
  created_at timestamptz not null default now()
);
create index if not exists auth_attempts_scope_key_idx on public.auth_attempts (scope, key, created_at);

-- The token ledger: append-only, the only record of usage that budgets and /usage read. Rows are
-- added by begin_reply (the worst case, before the model is called) and settle_tokens (the real
-- figures, once, as a correction: tokens = real - reserved). No foreign key to conversations, so
-- deleting one leaves the ledger alone. Nobody but the owner holds a write grant: the functions are
-- the only way in.
create table if not exists public.usage_ledger (
  id             bigint generated always as identity primary key,
  user_id        uuid not null references public.users (id) on delete cascade,
  reservation_id uuid not null,
  entry          text not null check (entry in ('reserve', 'settle')),
  model          text check (char_length(model) <= 100),
  -- Counted against the budget: the reservation, then the settle row's correction (may be negative,
  -- never below minus its reservation, so a reservation's total is never negative).
  tokens         bigint not null,
  input_tokens   integer not null default 0 check (input_tokens >= 0),
  output_tokens  integer not null default 0 check (output_tokens >= 0),
  latency_ms     integer check (latency_ms >= 0),
  -- sha256 of the settle secret the API process chose and keeps (reserve rows only).
  secret_hash    text,
  -- When the reservation was made: a settle row counts for the day its reservation did.
  reserved_at    timestamptz not null default now(),
  created_at     timestamptz not null default now(),
  constraint usage_ledger_entry_once unique (reservation_id, entry),
  constraint usage_ledger_reserve_nonneg check (entry <> 'reserve' or tokens >= 0)
);
create index if not exists usage_ledger_user_time_idx on public.usage_ledger (user_id, reserved_at);
-- What a reservation paid for: a reply (reply_id names it, so a reply settled as stale can release its
-- reservation) or the conversation's title. `estimated` marks a settle row written for a producer that
-- went silent: its figures are what the reply stored, and the producer's own settle replaces them.
alter table public.usage_ledger add column if not exists kind text not null default 'reply';
alter table public.usage_ledger add column if not exists reply_id uuid;
alter table public.usage_ledger add column if not exists estimated boolean not null default false;
do $$
begin
  if not exists (select 1 from pg_constraint where conname = 'usage_ledger_kind' and conrelid = 'public.usage_ledger'::regclass) then
    alter table public.usage_ledger add constraint usage_ledger_kind check (kind in ('reply', 'title'));
  end if;
end
$$;
create index if not exists usage_ledger_reply_idx on public.usage_ledger (reply_id) where reply_id is not null;

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

alter table public.refresh_tokens enable row level security;
alter table public.refresh_tokens force row level security;
alter table public.auth_attempts  enable row level security;
alter table public.auth_attempts  force row level security;
alter table public.usage_ledger   enable row level security;
alter table public.usage_ledger   force row level security;

drop policy if exists usage_ledger_select_own on public.usage_ledger;
create policy usage_ledger_select_own on public.usage_ledger
  for select to authenticated using (user_id = (select auth.uid()));

drop policy if exists api_keys_own on public.api_keys;
create policy api_keys_own on public.api_keys
  for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

-- Supabase's default privileges hand every new table to anon and authenticated; start from
-- nothing and grant exactly what the policies are written for. Revoking on the table also revokes
-- every column grant, so re-applying starts from nothing too.
revoke all on public.users, public.conversations, public.messages, public.api_keys from public, anon, authenticated;
-- users: never the password hash (column grants: `select *` as authenticated is refused).
grant select (id, email, display_name, created_at), update (display_name) on public.users to authenticated;
-- conversations: no back-dating or re-owning (user_id is listed only so RLS, not a grant, refuses it).
grant select, delete on public.conversations to authenticated;
grant insert (id, user_id, title, system_prompt, model) on public.conversations to authenticated;
grant update (title, system_prompt, updated_at) on public.conversations to authenticated;
-- current_leaf_id is not granted: only SECURITY DEFINER functions move it (begin_reply,
-- switch_branch), each after checking the conversation is the caller's.
-- api_keys: never the key hash; keys are created and revoked through the functions below.
grant select (id, user_id, name, prefix, created_at, last_used_at, expires_at, revoked_at) on public.api_keys to authenticated;
grant all on public.users, public.conversations, public.messages, public.api_keys to service_role;
-- Server-only tables: nothing for anon or authenticated (RLS has no policy for them either).
revoke all on public.refresh_tokens, public.auth_attempts, public.usage_ledger from public, anon, authenticated;
grant all on public.refresh_tokens, public.auth_attempts, public.usage_ledger to service_role;
-- The ledger is readable (the caller's rows, through RLS) but never writable: the functions write it.
grant select (id, user_id, reservation_id, entry, kind, reply_id, model, tokens, input_tokens, output_tokens, latency_ms, estimated,
              reserved_at, created_at)
  on public.usage_ledger to authenticated;

-- ---- messages: grants (kept apart: the reply loop's columns and functions change them) ----------
-- Written only by insert (directly, or by the durable reply functions below). No UPDATE: a stored
-- reply's figures cannot be rewritten; no DELETE: messages go with their conversation (the foreign
-- key's cascade runs as the table owner). created_at and seq are the database's own.
grant select on public.messages to authenticated;
grant insert (id, conversation_id, user_id, role, content, model, token_count, input_tokens,
              finish_reason, latency_ms, ttft_ms, metadata, idempotency_key, reasoning, heartbeat_at, parent_id)
  on public.messages to authenticated;
-- Durable replies are updated only through their SECURITY DEFINER functions (see "Durable replies"
-- below): still no UPDATE grant, so no figure of a stored reply can be rewritten directly.
-- ---- end of messages grants ----------------------------------------------------------------------

-- ---------------------------------------------------------------------------------------------
-- Functions the API does not call are not kept. Every function `authenticated` may execute is
-- callable by any user through PostgREST (POST /rest/v1/rpc/<name>), so a database that still holds
-- one of these loses it here. Messages are written by begin_reply and
-- finish_reply; the ledger is summed by begin_reply's budget check and reported by usage_report.
-- ---------------------------------------------------------------------------------------------
drop function if exists public.append_user_message(uuid, uuid, text, text);
drop function if exists public.append_assistant_message(uuid, uuid, text, text, integer, integer, text, integer, integer, jsonb);
drop function if exists public.append_assistant_message(uuid, uuid, text, text, integer, integer, text, integer, integer, jsonb, text);
drop function if exists public.tokens_used_since(timestamptz);

-- ---------------------------------------------------------------------------------------------
-- The former migrator's bookkeeping (the SHA-256 of the whole schema file it last applied). The
-- migrator now records each migration in public.database_migrations instead.
-- ---------------------------------------------------------------------------------------------
drop table if exists public.schema_migrations;

-- ---------------------------------------------------------------------------------------------
-- Read functions
--
-- Reads that PostgREST's query syntax cannot express in one request (aggregates are off in
-- PostgREST by default; a turn needs three related reads in one snapshot). The Supabase adapter
-- calls them as POST /rest/v1/rpc/<name>; any adapter may. SECURITY INVOKER, so RLS applies, and
-- their names, parameter names and return types are an API: change them only with every caller.
-- The explicit `user_id = auth.uid()` filters repeat what RLS enforces; they let the planner use the
-- per-user indexes and keep the functions harmless when called by a role that bypasses RLS.
-- ---------------------------------------------------------------------------------------------

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
--   {"conversation": {...}, "parent_found": bool, "history": [messages, oldest first],
--    "user_message": message with that idempotency key or null, "reply": its first reply or null}
--   The history is the path from the root to the prompt's parent: p_parent_id when p_branch (an edit,
--   a regenerate; null: none), else the current leaf; at most p_history_limit messages, the most recent
--   of the path. "parent_found" says whether p_parent_id is a message of this conversation.
--   null when the conversation is missing or not the caller's. (The 3-argument version is dropped, so
--   a call by name matches exactly one function.)
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

-- usage_report(p_from timestamptz, p_to timestamptz, p_group_by text) returns table(...)
--   The caller's settled model calls (ledger settle rows) in [p_from, p_to) grouped by UTC day ('day',
--   key YYYY-MM-DD), by the model that answered ('model', key '' for none) or by what the call was
--   for ('kind': reply or title), ordered by key bytewise. Tokens count every call; messages and the
--   mean latency count replies, title_calls the titles.
-- The mean is unrounded so that totals over groups stay exact; the API rounds what it shows.
drop function if exists public.usage_report(timestamptz, timestamptz, text);
create function public.usage_report(
  p_from     timestamptz,
  p_to       timestamptz,
  p_group_by text
) returns table (key text, input_tokens bigint, output_tokens bigint, messages bigint, title_calls bigint,
                 mean_latency_ms double precision)
language sql
stable
security invoker
set search_path = public
as $$
  select g.k,
         coalesce(sum(l.input_tokens), 0)::bigint,
         coalesce(sum(l.output_tokens), 0)::bigint,
         count(*) filter (where l.kind = 'reply')::bigint,
         count(*) filter (where l.kind = 'title')::bigint,
         (avg(l.latency_ms) filter (where l.kind = 'reply'))::double precision
    from public.usage_ledger l
   cross join lateral (
     select case p_group_by
              when 'day' then to_char(l.created_at at time zone 'UTC', 'YYYY-MM-DD')
              when 'model' then coalesce(l.model, '')
              when 'kind' then l.kind
            end as k
   ) g
   where l.user_id = (select auth.uid()) and l.entry = 'settle'
     and l.created_at >= p_from and l.created_at < p_to
   group by g.k
   order by g.k collate "C"
$$;

revoke all on function public.conversation_leaf(uuid) from public, anon;
revoke all on function public.branch_path(uuid, uuid) from public, anon;
revoke all on function public.list_branch(uuid, bigint, integer) from public, anon;
revoke all on function public.prepare_turn(uuid, integer, text, uuid, boolean) from public, anon;
revoke all on function public.usage_report(timestamptz, timestamptz, text) from public, anon;
grant execute on function public.conversation_leaf(uuid) to authenticated, service_role;
grant execute on function public.branch_path(uuid, uuid) to authenticated, service_role;
grant execute on function public.list_branch(uuid, bigint, integer) to authenticated, service_role;
grant execute on function public.prepare_turn(uuid, integer, text, uuid, boolean) to authenticated, service_role;
grant execute on function public.usage_report(timestamptz, timestamptz, text) to authenticated, service_role;

-- =============================================================================================
-- Access: constraints, budgets, sessions, API keys, throttling, and who may call what.
--
-- Everything below holds for a user who talks to PostgREST directly with their own token: they
-- cannot lower their recorded usage, read a secret, touch another user's rows, or store figures
-- the API would refuse. Functions marked "server-only" are executable by the app's own connection
-- role (owner) and service_role only.
-- =============================================================================================

-- ---------------------------------------------------------------------------------------------
-- CHECK constraints: the API's limits, again in the database. Added NOT VALID (so re-applying to a
-- database holding older rows never fails), then validated where the existing rows allow.
-- Text columns need no NUL check: PostgreSQL's text and jsonb cannot hold U+0000 at all.
-- ---------------------------------------------------------------------------------------------
do $$
declare
  c record;
begin
  for c in
    select * from (values
      ('users', 'users_email_len', 'char_length(email) between 3 and 254'),
      ('users', 'users_display_name_len', 'display_name is null or char_length(display_name) between 1 and 100'),
      ('users', 'users_password_hash_len', 'char_length(password_hash) between 1 and 255'),
      ('conversations', 'conversations_title_len', 'title is null or char_length(title) between 1 and 200'),
      ('conversations', 'conversations_system_prompt_len', 'system_prompt is null or char_length(system_prompt) <= 32000'),
      ('conversations', 'conversations_model_len', 'char_length(model) between 1 and 100'),
      ('api_keys', 'api_keys_name_len', 'name is null or char_length(name) between 1 and 100'),
      ('api_keys', 'api_keys_prefix_len', 'char_length(prefix) between 1 and 32'),
      -- Only ever a SHA-256 hex digest: a caller cannot store a chosen weak key's hash of another shape.
      ('api_keys', 'api_keys_key_hash_sha256', 'key_hash ~ ''^[0-9a-f]{64}$'''),
      -- ---- messages constraints (kept apart: the reply loop's columns change them) ----
      -- A user's message is at most the API's 32,000 characters; a reply is bounded by max_tokens.
      ('messages', 'messages_content_len', 'char_length(content) <= case when role = ''user'' then 32000 else 1000000 end'),
      ('messages', 'messages_model_len', 'model is null or char_length(model) <= 100'),
      ('messages', 'messages_counts_nonneg',
        'coalesce(token_count, 0) >= 0 and coalesce(input_tokens, 0) >= 0 and coalesce(latency_ms, 0) >= 0 and coalesce(ttft_ms, 0) >= 0'),
      ('messages', 'messages_idempotency_key_len', 'idempotency_key is null or char_length(idempotency_key) between 1 and 255'),
      -- Reasoning belongs to replies only, bounded like a reply's content.
      ('messages', 'messages_reasoning_len', 'char_length(reasoning) <= case when role = ''user'' then 0 else 1000000 end'),
      -- The API's metadata is a few hundred bytes (usage, ids, an error); a direct insert may not use the
      -- column to fill the shared database.
      ('messages', 'messages_metadata_size', 'pg_column_size(metadata) <= 65536'),
      -- A heartbeat in the far future would make the conversation look busy forever (one reply at a
      -- time); no reply streams for a day.
      ('messages', 'messages_heartbeat_bounded', 'heartbeat_at is null or heartbeat_at <= created_at + interval ''1 day''')
      -- ---- end of messages constraints ----
    ) as t(tbl, name, expr)
  loop
    if not exists (select 1 from pg_constraint where conname = c.name and conrelid = ('public.' || c.tbl)::regclass) then
      execute format('alter table public.%I add constraint %I check (%s) not valid', c.tbl, c.name, c.expr);
    end if;
    begin
      execute format('alter table public.%I validate constraint %I', c.tbl, c.name);
    exception when check_violation then
      raise warning 'constraint %.% holds for new rows only: existing rows violate it', c.tbl, c.name;
    end;
  end loop;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Budgets: reserve before the model is called, settle when the reply ends.
-- ---------------------------------------------------------------------------------------------

-- Reservations are made by begin_reply (one round trip, and only for a send that calls the model);
-- the separate reserve_tokens it replaced is dropped, with its grant.
drop function if exists public.reserve_tokens(uuid, text, integer, bigint, timestamptz);

-- settle_tokens(p_reservation_id uuid, p_secret text, p_input_tokens integer, p_output_tokens integer,
--   p_latency_ms integer, p_model text) returns boolean
-- Records the real usage of a reservation, once: a settle row whose tokens are real - reserved, under
-- p_model, the model that answered (the reservation names the one asked for; they differ when the
-- asked one is not served and another answered). An estimate written when the reply was settled as
-- stale is replaced. Needs the secret whose hash the reservation stored (held only by the API process
-- that reserved), so a user cannot settle a real reply at a lower figure. false when the secret is
-- wrong or it was settled.
drop function if exists public.settle_tokens(uuid, text, integer, integer, integer);
create or replace function public.settle_tokens(
  p_reservation_id uuid,
  p_secret         text,
  p_input_tokens   integer,
  p_output_tokens  integer,
  p_latency_ms     integer,
  p_model          text default null
) returns boolean
language plpgsql
security definer
set search_path = public, pg_temp
as $$
declare
  v_res public.usage_ledger;
begin
  if p_model is not null and char_length(p_model) > 100 then
    raise exception 'p_model must be at most 100 characters' using errcode = '22023';
  end if;
  select * into v_res from public.usage_ledger
   where reservation_id = p_reservation_id and entry = 'reserve' and user_id = auth.uid()
     and secret_hash = encode(sha256(convert_to(coalesce(p_secret, ''), 'UTF8')), 'hex');
  if not found then
    return false;
  end if;
  insert into public.usage_ledger as l (user_id, reservation_id, entry, kind, reply_id, model, tokens, input_tokens,
                                        output_tokens, latency_ms, reserved_at)
  values (v_res.user_id, p_reservation_id, 'settle', v_res.kind, v_res.reply_id, coalesce(p_model, v_res.model),
          coalesce(p_input_tokens, 0)::bigint + coalesce(p_output_tokens, 0) - v_res.tokens,
          coalesce(p_input_tokens, 0), coalesce(p_output_tokens, 0), p_latency_ms, v_res.reserved_at)
  on conflict (reservation_id, entry) do update
     set model = excluded.model, tokens = excluded.tokens, input_tokens = excluded.input_tokens,
         output_tokens = excluded.output_tokens, latency_ms = excluded.latency_ms, estimated = false,
         created_at = now()
   where l.estimated;
  return found;
end
$$;

-- reserve_title(p_reservation_id uuid, p_model text, p_tokens integer, p_budget bigint, p_since timestamptz,
--   p_secret_hash text) returns jsonb {"status": "reserved"} | {"status": "over_budget", "used": bigint}
-- A title is a model call too: its worst case is reserved like a reply's (same lock, same rule: only
-- if it fits what is left of p_budget; 0 = no budget) and settled by settle_tokens. A title that does
-- not fit is not asked for: the conversation takes its first words instead.
create or replace function public.reserve_title(
  p_reservation_id uuid,
  p_model          text,
  p_tokens         integer,
  p_budget         bigint,
  p_since          timestamptz,
  p_secret_hash    text
) returns jsonb
language plpgsql
volatile
security definer
set search_path = public, pg_temp
as $$
declare
  v_used bigint;
begin
  if auth.uid() is null then
    raise exception 'no user' using errcode = '42501';
  end if;
  if p_reservation_id is null or p_tokens is null or p_tokens < 0 or p_since is null or coalesce(p_budget, 0) < 0
     or p_secret_hash is null or p_secret_hash !~ '^[0-9a-f]{64}$'
     or (p_model is not null and char_length(p_model) > 100) then
    raise exception 'a reservation needs an id, p_tokens >= 0, p_since, p_budget >= 0 and a SHA-256 hex p_secret_hash'
      using errcode = '22023';
  end if;
  if coalesce(p_budget, 0) > 0 then
    perform pg_advisory_xact_lock(hashtextextended('usage_ledger:' || auth.uid()::text, 0));
    select coalesce(sum(tokens), 0) into v_used
      from public.usage_ledger where user_id = auth.uid() and reserved_at >= p_since;
    if v_used + p_tokens > p_budget then
      return jsonb_build_object('status', 'over_budget', 'used', v_used);
    end if;
  end if;
  insert into public.usage_ledger (user_id, reservation_id, entry, kind, model, tokens, secret_hash)
  values (auth.uid(), p_reservation_id, 'reserve', 'title', p_model, p_tokens, p_secret_hash);
  return jsonb_build_object('status', 'reserved');
end
$$;

-- Usage recorded before the ledger existed: each stored reply, once, as already settled. Runs only
-- while the ledger is empty, so re-applying never counts a reply twice.
insert into public.usage_ledger (user_id, reservation_id, entry, model, tokens, input_tokens, output_tokens,
                                 latency_ms, reserved_at, created_at)
select m.user_id, m.id, 'settle', m.model,
       greatest(coalesce(m.input_tokens, 0), 0)::bigint + greatest(coalesce(m.token_count, 0), 0),
       greatest(coalesce(m.input_tokens, 0), 0), greatest(coalesce(m.token_count, 0), 0),
       greatest(m.latency_ms, 0), m.created_at, m.created_at
  from public.messages m
 where m.role = 'assistant' and not exists (select 1 from public.usage_ledger)
on conflict (reservation_id, entry) do nothing;

-- ---------------------------------------------------------------------------------------------
-- API keys (user-callable; the key itself never reaches the database, only its SHA-256)
-- ---------------------------------------------------------------------------------------------

-- create_api_key(p_name text, p_prefix text, p_key_hash text, p_expires_at timestamptz) returns jsonb
--   The new key's public fields. SECURITY DEFINER: api_keys has no insert grant, so a key's owner is
--   always auth.uid() and its hash is never readable back.
create or replace function public.create_api_key(
  p_name       text,
  p_prefix     text,
  p_key_hash   text,
  p_expires_at timestamptz
) returns jsonb
language plpgsql
security definer
set search_path = public, pg_temp
as $$
declare
  v_key public.api_keys;
begin
  if auth.uid() is null then
    raise exception 'no user' using errcode = '42501';
  end if;
  insert into public.api_keys (user_id, name, prefix, key_hash, expires_at)
  values (auth.uid(), p_name, p_prefix, p_key_hash, p_expires_at)
  returning * into v_key;
  return jsonb_build_object('id', v_key.id, 'name', v_key.name, 'prefix', v_key.prefix,
    'created_at', v_key.created_at, 'last_used_at', v_key.last_used_at, 'expires_at', v_key.expires_at);
end
$$;

-- revoke_api_key(p_id uuid) returns boolean: false when it is not the caller's live key. A revoked
-- key stays revoked: there is no update grant to undo it.
create or replace function public.revoke_api_key(p_id uuid) returns boolean
language plpgsql
security definer
set search_path = public, pg_temp
as $$
begin
  update public.api_keys set revoked_at = now()
   where id = p_id and user_id = auth.uid() and revoked_at is null;
  return found;
end
$$;

-- authenticate_api_key(p_key_hash text) returns uuid (server-only)
--   The owner of a live key (not revoked, not expired), else null. Marks it used, at most once a minute.
create or replace function public.authenticate_api_key(p_key_hash text) returns uuid
language sql
security invoker
set search_path = public, pg_temp
as $$
  with k as (
    select id, user_id, last_used_at from public.api_keys
     where key_hash = p_key_hash and revoked_at is null and (expires_at is null or expires_at > now())
  ), touched as (
    update public.api_keys a set last_used_at = now()
      from k where a.id = k.id and (k.last_used_at is null or k.last_used_at < now() - interval '1 minute')
  )
  select user_id from k
$$;

-- ---------------------------------------------------------------------------------------------
-- Sessions (server-only): refresh-token families
-- ---------------------------------------------------------------------------------------------

-- create_session(p_user_id uuid, p_token_hash text, p_expires_at timestamptz) returns uuid (the family)
create or replace function public.create_session(p_user_id uuid, p_token_hash text, p_expires_at timestamptz)
returns uuid
language sql
security invoker
set search_path = public, pg_temp
as $$
  insert into public.refresh_tokens (user_id, family_id, token_hash, expires_at)
  values (p_user_id, gen_random_uuid(), p_token_hash, p_expires_at)
  returning family_id
$$;

-- rotate_refresh_token(p_token_hash text, p_new_hash text, p_expires_at timestamptz) returns jsonb
--   {"status": "ok", "user_id": ...}: the token was live; it is now spent and p_new_hash replaces it.
--   {"status": "reused"}: the token was already rotated (a copy is in someone else's hands): the
--     whole family is revoked, the live successor included.
--   {"status": "invalid"}: unknown, expired or revoked.
create or replace function public.rotate_refresh_token(p_token_hash text, p_new_hash text, p_expires_at timestamptz)
returns jsonb
language plpgsql
security invoker
set search_path = public, pg_temp
as $$
declare
  v_tok public.refresh_tokens;
begin
  select * into v_tok from public.refresh_tokens where token_hash = p_token_hash for update;
  if not found or v_tok.revoked_at is not null then
    return jsonb_build_object('status', 'invalid');
  end if;
  if v_tok.rotated_at is not null then
    update public.refresh_tokens set revoked_at = now() where family_id = v_tok.family_id and revoked_at is null;
    return jsonb_build_object('status', 'reused');
  end if;
  if v_tok.expires_at <= now() then
    return jsonb_build_object('status', 'invalid');
  end if;
  update public.refresh_tokens set rotated_at = now() where id = v_tok.id;
  insert into public.refresh_tokens (user_id, family_id, token_hash, expires_at)
  values (v_tok.user_id, v_tok.family_id, p_new_hash, p_expires_at);
  return jsonb_build_object('status', 'ok', 'user_id', v_tok.user_id);
end
$$;

-- revoke_session(p_token_hash text) returns boolean: revokes the token's whole family (sign-out).
create or replace function public.revoke_session(p_token_hash text) returns boolean
language plpgsql
security invoker
set search_path = public, pg_temp
as $$
begin
  update public.refresh_tokens set revoked_at = now()
   where revoked_at is null
     and family_id = (select family_id from public.refresh_tokens where token_hash = p_token_hash);
  return found;
end
$$;

-- change_password(p_user_id uuid, p_password_hash text) returns boolean: sets the hash and revokes
-- every session of the user, in one transaction.
create or replace function public.change_password(p_user_id uuid, p_password_hash text) returns boolean
language plpgsql
security invoker
set search_path = public, pg_temp
as $$
begin
  update public.users set password_hash = p_password_hash where id = p_user_id;
  if not found then
    return false;
  end if;
  update public.refresh_tokens set revoked_at = now() where user_id = p_user_id and revoked_at is null;
  return true;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Throttling (server-only), shared by every instance because it lives here
-- ---------------------------------------------------------------------------------------------

-- Seconds until fewer than p_max attempts of (scope, key) fall in the last p_window_seconds; 0 when
-- already fewer.
create or replace function public.attempts_retry_after(p_scope text, p_key text, p_window_seconds integer, p_max integer)
returns integer
language sql
stable
security invoker
set search_path = public, pg_temp
as $$
  select coalesce((
    select greatest(1, ceil(extract(epoch from (a.created_at + make_interval(secs => p_window_seconds) - now())))::integer)
      from public.auth_attempts a
     where a.scope = p_scope and a.key = p_key and a.created_at > now() - make_interval(secs => p_window_seconds)
     order by a.created_at desc
     offset greatest(p_max, 1) - 1 limit 1
  ), 0)
$$;

-- login_retry_after(p_account text, p_ip text, p_window_seconds integer, p_max_account integer,
--   p_max_ip integer) returns integer: 0 = the login may be tried; else seconds to wait.
create or replace function public.login_retry_after(
  p_account text, p_ip text, p_window_seconds integer, p_max_account integer, p_max_ip integer
) returns integer
language sql
stable
security invoker
set search_path = public, pg_temp
as $$
  select greatest(public.attempts_retry_after('login_account', p_account, p_window_seconds, p_max_account),
                  public.attempts_retry_after('login_ip', p_ip, p_window_seconds, p_max_ip))
$$;

-- record_login(p_account text, p_ip text, p_ok boolean): a failure counts against the account and
-- the IP; a success clears the account's failures. Rows older than a day are dropped on the way.
create or replace function public.record_login(p_account text, p_ip text, p_ok boolean) returns void
language plpgsql
security invoker
set search_path = public, pg_temp
as $$
begin
  delete from public.auth_attempts where created_at < now() - interval '1 day'
     and ((scope = 'login_account' and key = p_account) or (scope = 'login_ip' and key = p_ip));
  if p_ok then
    delete from public.auth_attempts where scope = 'login_account' and key = p_account;
  else
    insert into public.auth_attempts (scope, key) values ('login_account', p_account), ('login_ip', p_ip);
  end if;
end
$$;

-- register_attempt(p_ip text, p_window_seconds integer, p_max integer) returns integer
--   Counts a registration from p_ip and returns 0, or returns the seconds to wait (and counts nothing)
--   when p_max were already made in the window. Serialised per IP.
create or replace function public.register_attempt(p_ip text, p_window_seconds integer, p_max integer) returns integer
language plpgsql
security invoker
set search_path = public, pg_temp
as $$
declare
  v_wait integer;
begin
  perform pg_advisory_xact_lock(hashtextextended('register_ip:' || p_ip, 0));
  v_wait := public.attempts_retry_after('register_ip', p_ip, p_window_seconds, p_max);
  if v_wait > 0 then
    return v_wait;
  end if;
  delete from public.auth_attempts where scope = 'register_ip' and key = p_ip and created_at < now() - interval '1 day';
  insert into public.auth_attempts (scope, key) values ('register_ip', p_ip);
  return 0;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Who may call what. Supabase's default privileges grant every new table, sequence and function in
-- public to anon and authenticated; the API never serves anon, so anon gets nothing at all, and
-- authenticated gets the user-callable functions only.
-- ---------------------------------------------------------------------------------------------
revoke all on all tables in schema public from anon;
revoke all on all sequences in schema public from public, anon, authenticated;
grant usage, select on all sequences in schema public to service_role;
revoke all on all functions in schema public from public, anon;
do $$
declare
  f text;
begin
  -- User-callable: each runs as the caller (RLS) or checks auth.uid() itself.
  foreach f in array array[
    'public.conversation_leaf(uuid)',
    'public.branch_path(uuid, uuid)',
    'public.list_branch(uuid, bigint, integer)',
    'public.prepare_turn(uuid, integer, text, uuid, boolean)',
    'public.usage_report(timestamptz, timestamptz, text)',
    'public.settle_tokens(uuid, text, integer, integer, integer, text)',
    'public.reserve_title(uuid, text, integer, bigint, timestamptz, text)',
    'public.create_api_key(text, text, text, timestamptz)',
    'public.revoke_api_key(uuid)'
  ] loop
    execute format('grant execute on function %s to authenticated, service_role', f);
  end loop;
  -- Server-only: the pre-auth paths, run with the connection's own role or the service key.
  foreach f in array array[
    'public.authenticate_api_key(text)',
    'public.create_session(uuid, text, timestamptz)',
    'public.rotate_refresh_token(text, text, timestamptz)',
    'public.revoke_session(text)',
    'public.change_password(uuid, text)',
    'public.attempts_retry_after(text, text, integer, integer)',
    'public.login_retry_after(text, text, integer, integer, integer)',
    'public.record_login(text, text, boolean)',
    'public.register_attempt(text, integer, integer)'
  ] loop
    execute format('revoke all on function %s from authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Durable replies
--
-- An assistant message exists from the reply's first event with finish_reason null ("streaming").
-- Its producer appends text in batches (flush_reply) and refreshes heartbeat_at each time; any
-- reader settles a reply whose heartbeat is older than the caller's stale window as 'error'
-- (settle_stale_replies). cancel_requested_at is how any instance asks the producer to stop: the
-- producer reads it back on its next flush. Only the producer moves a reply to end_turn, max_tokens
-- or cancelled (finish_reply); readers only ever move a stale one to error.
--
-- Under the access rules above, `authenticated` may not UPDATE messages at all (a stored reply's
-- figures cannot be rewritten). So the functions that update a reply (settle_stale_replies,
-- begin_reply, flush_reply, finish_reply, request_cancel) are SECURITY DEFINER with a fixed
-- search_path, and each one is narrow: it refuses a call without a user, touches only the caller's
-- rows (explicit auth.uid() checks, as well as RLS where the owner is subject to it), checks its
-- inputs (the CHECK constraints apply on top), moves a reply only forward (streaming → ended), and
-- writes a reply's figures once (finish_reply). Calling them directly gives a user nothing the API
-- would not: they only ever write the caller's own new or streaming rows, and usage is read from the
-- ledger, which none of them touches.
-- ---------------------------------------------------------------------------------------------

-- (messages.reasoning, heartbeat_at and cancel_requested_at, which the functions below write, are
-- added with the table above: the messages grants name them.)
-- Finds the streaming replies of a conversation without scanning it.
create index if not exists messages_streaming_idx
  on public.messages (conversation_id) where finish_reason is null and role = 'assistant';
-- Counts a user's streaming replies across conversations (MAX_CONCURRENT_REPLIES) without a scan.
create index if not exists messages_user_streaming_idx
  on public.messages (user_id) where finish_reason is null and role = 'assistant';

-- settle_stale_replies(p_conversation_id uuid, p_stale_ms integer) returns integer
--   Marks the caller's streaming replies in that conversation (all of them when null) whose heartbeat
--   is older than p_stale_ms as finish_reason 'error'. Returns how many it settled.
--   Their producer went silent and will most likely never settle its ledger reservation, which would
--   then count its worst case all day: each one's reservation is settled here down to what the reply
--   stored (its prompt, and its text and reasoning at one token per 3 bytes, which never undercounts
--   a byte-level BPE), marked estimated. A producer that was only slow still settles with its real
--   figures, which replace these (settle_tokens).
create or replace function public.settle_stale_replies(p_conversation_id uuid, p_stale_ms integer)
returns integer
language plpgsql
volatile
security definer
set search_path = public, pg_temp
as $$
declare
  v_uid uuid := auth.uid();
  v_n   integer;
begin
  if v_uid is null then
    raise exception 'no user' using errcode = '42501';
  end if;
  if p_stale_ms is null or p_stale_ms < 0 then
    raise exception 'p_stale_ms must be a non-negative number of milliseconds' using errcode = '22023';
  end if;
  with settled as (
    update public.messages m
       set finish_reason = 'error',
           metadata = m.metadata || jsonb_build_object('error', jsonb_build_object(
             'type', 'api_error',
             'message', 'The reply stopped: the instance producing it went silent'))
     where m.user_id = v_uid and m.role = 'assistant' and m.finish_reason is null
       and (p_conversation_id is null or m.conversation_id = p_conversation_id)
       and coalesce(m.heartbeat_at, m.created_at) < now() - make_interval(secs => p_stale_ms / 1000.0)
    returning m.id, m.input_tokens,
              ceil((octet_length(m.content) + octet_length(m.reasoning)) / 3.0)::integer as output_tokens
  ), released as (
    insert into public.usage_ledger (user_id, reservation_id, entry, kind, reply_id, model, tokens, input_tokens,
                                     output_tokens, reserved_at, estimated)
    select r.user_id, r.reservation_id, 'settle', r.kind, r.reply_id, r.model,
           coalesce(s.input_tokens, 0)::bigint + s.output_tokens - r.tokens,
           coalesce(s.input_tokens, 0), s.output_tokens, r.reserved_at, true
      from settled s
      join public.usage_ledger r on r.reply_id = s.id and r.entry = 'reserve' and r.user_id = v_uid
    on conflict (reservation_id, entry) do nothing
  )
  select count(*) into v_n from settled;
  return v_n;
end
$$;

-- begin_reply(p_conversation_id uuid, p_user_message_id uuid, p_content text, p_idempotency_key text,
--   p_reply_id uuid, p_model text, p_metadata jsonb, p_stale_ms integer, p_parent_id uuid,
--   p_answer_to uuid, p_input_tokens integer, p_branch boolean, p_reservation_id uuid, p_reserve_model text,
--   p_reserve_tokens integer, p_budget bigint, p_since timestamptz, p_secret_hash text, p_expect jsonb,
--   p_max_streaming integer) returns jsonb
--   {"status": "created" | "attach" | "done" | "mismatch" | "busy", "reply": message, "user_message": message}
--   | {"status": "over_budget", "used": bigint, "needed": integer} | {"status": "too_many", "streaming": integer}
-- The one place that decides whether a send calls the model. It locks the conversation row first, so
-- concurrent sends of one conversation pass through here one at a time and each sees the rows the
-- previous one committed:
--   * a key already stored with other content → mismatch (the API answers 422);
--   * a key whose reply is streaming → attach (the caller follows that reply instead);
--   * a key whose reply finished, or that the conversation has moved past → done (409);
--   (an idempotent repeat is decided before the busy check, so it still attaches to its own reply)
--   * another reply of the conversation streaming, and not stale → busy (409 with its id): one reply
--     at a time per conversation; a stale one is settled as error first and does not block;
--   * p_max_streaming (0 or null = no cap) of the caller's replies streaming across all conversations,
--     stale ones not counted → too_many (429), nothing stored;
--   * the caller's ledger since p_since plus this reservation over p_budget (0 = no budget) →
--     over_budget (429), nothing stored: a send is admitted only if its worst case fits what is left;
--   * otherwise → created: the user message (unless p_answer_to), the streaming reply row and the
--     ledger reservation (p_reservation_id: p_reserve_tokens, the send's worst case, settled later by
--     settle_tokens with the secret whose SHA-256 is p_secret_hash), stored together; a key whose reply
--     failed or was cancelled gets a new reply to the same user message.
-- Only a created reply reserves, so busy/attach/done/mismatch leave the ledger alone and nothing needs
-- giving back. The budget check and the reservation run under a per-user advisory lock (taken after
-- the conversation's row lock, always in that order), so concurrent sends of one user, in any of their
-- conversations, overshoot the budget by at most one reservation. Folding the reservation in here
-- saves a round trip in front of the model call. Without p_reservation_id nothing is reserved: only a
-- direct caller does that, and the ledger only has to hold for model calls, which the API makes.
-- Branches: p_answer_to answers that stored user message again (regenerate; no user message
-- is stored, the new reply is a sibling of its earlier replies); otherwise the new user message's parent
-- is p_parent_id when p_branch (an edit; null: a new root), else the current leaf. The new reply becomes
-- the current leaf, and p_input_tokens (the prompt as sent, our count) is stored at once.
-- The first token: a warm instance may build the prompt from the history it keeps and call
-- the model while this runs. p_expect = {"leaf": uuid | null, "leaf_open": bool, "system_prompt": text | null,
-- "model": text}; leaf_open says the leaf was a reply still streaming, so its finishing is a move too.
-- names the state that prompt was built from; when the conversation's current leaf, system prompt or
-- model differ → moved, nothing stored (the caller stops the model call and reads the history). A path's
-- messages never change once their reply finished, so the leaf stands for the whole history.
-- A created reply reports budget_left (the budget less what the ledger holds, this reservation
-- included) when there is a budget: the instance uses it to decide whether calling the model before
-- this answer is safe next time.
-- Older versions (before branches; before the reservation moved in; before p_expect) are dropped so a
-- call by name matches exactly one function.
drop function if exists public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer);
drop function if exists public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer, uuid, uuid, integer, boolean);
drop function if exists public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer, uuid, uuid, integer, boolean,
  uuid, text, integer, bigint, timestamptz, text);
drop function if exists public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer, uuid, uuid, integer, boolean,
  uuid, text, integer, bigint, timestamptz, text, jsonb);
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
  p_branch          boolean default false,
  p_reservation_id  uuid default null,
  p_reserve_model   text default null,
  p_reserve_tokens  integer default null,
  p_budget          bigint default null,
  p_since           timestamptz default null,
  p_secret_hash     text default null,
  p_expect          jsonb default null,
  p_max_streaming   integer default null
) returns jsonb
language plpgsql
volatile
security definer
set search_path = public, pg_temp
as $$
declare
  v_user  public.messages;
  v_reply public.messages;
  v_busy  public.messages;
  v_conv  public.conversations;
  v_later boolean;
  v_used  bigint;
  v_streaming integer;
begin
  if auth.uid() is null then
    raise exception 'no user' using errcode = '42501';
  end if;
  -- What the API would refuse (the CHECK constraints hold the lengths as well).
  if p_content is null or char_length(p_content) not between 1 and 32000 then
    raise exception 'p_content must be 1 to 32000 characters' using errcode = '22023';
  end if;
  if p_metadata is not null and jsonb_typeof(p_metadata) <> 'object' then
    raise exception 'p_metadata must be a JSON object' using errcode = '22023';
  end if;
  if p_input_tokens is not null and p_input_tokens < 0 then
    raise exception 'p_input_tokens must be non-negative' using errcode = '22023';
  end if;
  if p_reservation_id is not null and (
       p_reserve_tokens is null or p_reserve_tokens < 0 or p_since is null or coalesce(p_budget, 0) < 0
       or p_secret_hash is null or p_secret_hash !~ '^[0-9a-f]{64}$'
       or (p_reserve_model is not null and char_length(p_reserve_model) > 100)) then
    raise exception 'a reservation needs p_reserve_tokens >= 0, p_since, p_budget >= 0 and a SHA-256 hex p_secret_hash'
      using errcode = '22023';
  end if;
  -- The row lock orders every send of this conversation: each sees what the previous one committed.
  update public.conversations set updated_at = now()
   where id = p_conversation_id and user_id = auth.uid()
  returning * into v_conv;
  if not found then
    raise exception 'conversation % not found', p_conversation_id using errcode = 'P0002';
  end if;
  -- A JSON null (what an rpc call sends for an absent value) is no expectation either.
  if p_expect is not null and jsonb_typeof(p_expect) <> 'null' then
    if jsonb_typeof(p_expect) <> 'object' or (p_expect->>'leaf' is not null and p_expect->>'leaf' !~ '^[0-9a-fA-F-]{36}$') then
      raise exception 'p_expect must be {"leaf", "system_prompt", "model"}' using errcode = '22023';
    end if;
    if public.conversation_leaf(p_conversation_id) is distinct from (p_expect->>'leaf')::uuid
       or v_conv.system_prompt is distinct from p_expect->>'system_prompt'
       or v_conv.model is distinct from p_expect->>'model'
       -- A prompt read while the leaf reply streamed holds its text so far: once it finished, read again.
       or (p_expect->>'leaf_open' = 'true' and exists (
             select 1 from public.messages l
              where l.id = (p_expect->>'leaf')::uuid and l.conversation_id = p_conversation_id
                and l.finish_reason is not null)) then
      return jsonb_build_object('status', 'moved');
    end if;
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
   where b.conversation_id = p_conversation_id and b.user_id = auth.uid()
     and b.role = 'assistant' and b.finish_reason is null
   order by b.seq desc limit 1;
  if v_busy.id is not null then
    return jsonb_build_object('status', 'busy', 'reply', to_jsonb(v_busy) - array['seq', 'user_id', 'idempotency_key']);
  end if;

  -- The per-user lock serializes the user's sends across conversations and instances, so the cap on
  -- streaming replies and the budget hold under concurrency. Without either there is nothing to hold.
  if coalesce(p_max_streaming, 0) > 0 or (p_reservation_id is not null and coalesce(p_budget, 0) > 0) then
    perform pg_advisory_xact_lock(hashtextextended('usage_ledger:' || auth.uid()::text, 0));
  end if;
  if coalesce(p_max_streaming, 0) > 0 then
    -- A stale reply's producer is gone: it holds no stream and does not count.
    select count(*) into v_streaming from public.messages s
     where s.user_id = auth.uid() and s.role = 'assistant' and s.finish_reason is null
       and coalesce(s.heartbeat_at, s.created_at) >= now() - make_interval(secs => p_stale_ms / 1000.0);
    if v_streaming >= p_max_streaming then
      return jsonb_build_object('status', 'too_many', 'streaming', v_streaming);
    end if;
  end if;
  -- Reserved before the rows are stored: a later refusal (a missing message) rolls it back with them.
  if p_reservation_id is not null then
    if coalesce(p_budget, 0) > 0 then
      select coalesce(sum(tokens), 0) into v_used
        from public.usage_ledger where user_id = auth.uid() and reserved_at >= p_since;
      if v_used + p_reserve_tokens > p_budget then
        return jsonb_build_object('status', 'over_budget', 'used', v_used, 'needed', p_reserve_tokens);
      end if;
    end if;
    insert into public.usage_ledger (user_id, reservation_id, entry, kind, reply_id, model, tokens, secret_hash)
    values (auth.uid(), p_reservation_id, 'reserve', 'reply', p_reply_id, p_reserve_model, p_reserve_tokens, p_secret_hash);
  end if;

  if p_answer_to is not null then
    select * into v_user from public.messages
     where id = p_answer_to and conversation_id = p_conversation_id and user_id = auth.uid() and role = 'user';
    if v_user.id is null then
      raise exception 'message % not found', p_answer_to using errcode = 'P0002';
    end if;
  elsif v_user.id is null then
    if p_branch and p_parent_id is not null and not exists (
      select 1 from public.messages where id = p_parent_id and conversation_id = p_conversation_id and user_id = auth.uid()) then
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
  update public.conversations set current_leaf_id = v_reply.id where id = p_conversation_id and user_id = auth.uid();
  return jsonb_build_object(
    'status', 'created',
    'reply', to_jsonb(v_reply) - array['seq', 'user_id', 'idempotency_key'],
    'user_message', to_jsonb(v_user) - array['seq', 'user_id', 'idempotency_key'],
    'budget_left', case when p_reservation_id is not null and coalesce(p_budget, 0) > 0
                        then p_budget - v_used - p_reserve_tokens end);
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
security definer
set search_path = public, pg_temp
as $$
declare
  v_row public.messages;
begin
  if auth.uid() is null then
    raise exception 'no user' using errcode = '42501';
  end if;
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
security definer
set search_path = public, pg_temp
as $$
declare
  v_row public.messages;
begin
  if auth.uid() is null then
    raise exception 'no user' using errcode = '42501';
  end if;
  if p_finish_reason is null or p_finish_reason not in ('end_turn', 'max_tokens', 'cancelled', 'error') then
    raise exception 'p_finish_reason must be end_turn, max_tokens, cancelled or error' using errcode = '22023';
  end if;
  if coalesce(p_token_count, 0) < 0 or coalesce(p_input_tokens, 0) < 0 or p_latency_ms is null or p_latency_ms < 0
     or coalesce(p_ttft_ms, 0) < 0 then
    raise exception 'token counts and timings must be non-negative (p_latency_ms is required)' using errcode = '22023';
  end if;
  if p_metadata is not null and jsonb_typeof(p_metadata) <> 'object' then
    raise exception 'p_metadata must be a JSON object' using errcode = '22023';
  end if;
  -- The conversation's row first, as begin_reply takes it: a send that arrives while this runs waits
  -- for it and then finds the reply finished, not streaming (the stream may end before this write
  -- lands, so a client's next send can follow it closely).
  perform 1 from public.conversations c
    join public.messages m on m.conversation_id = c.id
   where m.id = p_id and m.user_id = auth.uid() and c.user_id = auth.uid()
     for update of c;
  -- Once: a reply is finished while it streams, or after a reader settled it as stale (error, and
  -- no figures yet). A finished reply's figures are never rewritten: it is returned as stored.
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
     and (finish_reason is null or (finish_reason = 'error' and latency_ms is null))
  returning * into v_row;
  if v_row.id is null then
    select * into v_row from public.messages where id = p_id and user_id = auth.uid() and role = 'assistant';
    return v_row;
  end if;
  update public.conversations set updated_at = now() where id = v_row.conversation_id and user_id = auth.uid();
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
security definer
set search_path = public, pg_temp
as $$
declare
  v_reply jsonb;
begin
  if auth.uid() is null then
    raise exception 'no user' using errcode = '42501';
  end if;
  -- The conversation's row first, as finish_reply takes it: a cancel that arrives while the reply's
  -- final write is under way waits for it and answers that the reply ended, instead of accepting a
  -- cancel that can no longer happen.
  perform 1 from public.conversations c
    join public.messages m on m.conversation_id = c.id
   where m.id = p_id and m.user_id = auth.uid() and c.user_id = auth.uid()
     for update of c;
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
revoke all on function public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer, uuid, uuid, integer, boolean, uuid, text, integer, bigint, timestamptz, text, jsonb, integer) from public, anon;
revoke all on function public.flush_reply(uuid, text, text) from public, anon;
revoke all on function public.finish_reply(uuid, text, text, integer, integer, text, integer, integer, jsonb) from public, anon;
revoke all on function public.get_reply(uuid, integer) from public, anon;
revoke all on function public.request_cancel(uuid, integer) from public, anon;
grant execute on function public.settle_stale_replies(uuid, integer) to authenticated, service_role;
grant execute on function public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer, uuid, uuid, integer, boolean, uuid, text, integer, bigint, timestamptz, text, jsonb, integer) to authenticated, service_role;
grant execute on function public.flush_reply(uuid, text, text) to authenticated, service_role;
grant execute on function public.finish_reply(uuid, text, text, integer, integer, text, integer, integer, jsonb) to authenticated, service_role;
grant execute on function public.get_reply(uuid, integer) to authenticated, service_role;
grant execute on function public.request_cancel(uuid, integer) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Search, titles and export
--
-- Full-text search over conversation titles and message text with the 'simple' configuration: it
-- lower-cases and splits words but neither stems nor drops stop words, so it behaves the same for
-- every language a conversation is written in (the 'english' configuration would stem "running" to
-- "run" but mangle French or German, and drop words like "who" or "it"). Expression GIN indexes rather
-- than generated columns: no new column appears in `select *` / to_jsonb(messages) rows, and the
-- queries below repeat the exact indexed expressions so the planner can use them.
-- ---------------------------------------------------------------------------------------------

create index if not exists conversations_title_search_idx
  on public.conversations using gin (to_tsvector('simple'::regconfig, coalesce(title, '')));
create index if not exists messages_content_search_idx
  on public.messages using gin (to_tsvector('simple'::regconfig, content));

-- search_conversations(p_query text, p_after_updated_at timestamptz, p_after_id uuid, p_limit integer)
--   returns table (conversation columns, cursor_ts text)
-- The caller's conversations whose title or any message matches p_query (websearch_to_tsquery
-- syntax: words, "quoted phrases", OR, -excluded), in the list's order (updated_at desc, id desc),
-- after the keyset (p_after_updated_at, p_after_id) when p_after_id is given, at most p_limit rows.
-- A query without any word (e.g. only punctuation) matches nothing.
create or replace function public.search_conversations(
  p_query            text,
  p_after_updated_at timestamptz,
  p_after_id         uuid,
  p_limit            integer
) returns table (
  id uuid, title text, system_prompt text, model text, created_at timestamptz, updated_at timestamptz, cursor_ts text
)
language sql
stable
security invoker
set search_path = public
as $$
  select c.id, c.title, c.system_prompt, c.model, c.created_at, c.updated_at,
         to_char(c.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    from public.conversations c
   where c.user_id = (select auth.uid())
     and (p_after_id is null or (c.updated_at, c.id) < (p_after_updated_at, p_after_id))
     and c.id in (
       select t.id from public.conversations t
        where t.user_id = (select auth.uid())
          and to_tsvector('simple'::regconfig, coalesce(t.title, '')) @@ websearch_to_tsquery('simple'::regconfig, p_query)
       union
       select m.conversation_id from public.messages m
        where m.user_id = (select auth.uid())
          and to_tsvector('simple'::regconfig, m.content) @@ websearch_to_tsquery('simple'::regconfig, p_query))
   order by c.updated_at desc, c.id desc
   limit greatest(1, least(coalesce(p_limit, 20), 101))
$$;

-- list_conversations(p_after_updated_at timestamptz, p_after_id uuid, p_limit integer) returns json
-- The caller's conversations in the list's order (updated_at desc, id desc), after the keyset
-- (p_after_updated_at, p_after_id) when p_after_id is given, at most p_limit: one json array of
-- conversation objects, timestamps in PostgreSQL's JSON form (microseconds kept, for the cursor).
-- One value rather than rows: a driver decodes one field instead of six per row. PL/pgSQL rather than
-- SQL: each connection plans the two queries once and reuses the plans (a SQL function is planned on
-- every call), which also works behind a transaction-mode pooler, where prepared statements do not.
create or replace function public.list_conversations(
  p_after_updated_at timestamptz,
  p_after_id         uuid,
  p_limit            integer
) returns json
language plpgsql
stable
security invoker
set search_path = public
as $$
begin
  if p_after_id is null then
    return (select coalesce(json_agg(c order by c.updated_at desc, c.id desc), '[]')
              from (select t.id, t.title, t.system_prompt, t.model, t.created_at, t.updated_at
                      from public.conversations t
                     where t.user_id = (select auth.uid())
                     order by t.updated_at desc, t.id desc
                     limit greatest(1, least(coalesce(p_limit, 20), 101))) c);
  end if;
  return (select coalesce(json_agg(c order by c.updated_at desc, c.id desc), '[]')
            from (select t.id, t.title, t.system_prompt, t.model, t.created_at, t.updated_at
                    from public.conversations t
                   where t.user_id = (select auth.uid())
                     and (t.updated_at, t.id) < (p_after_updated_at, p_after_id)
                   order by t.updated_at desc, t.id desc
                   limit greatest(1, least(coalesce(p_limit, 20), 101))) c);
end
$$;

-- set_default_title(p_conversation_id uuid, p_title text) returns boolean
--   Gives an untitled conversation of the caller's the title the API wrote for it. Never replaces a
--   title (only `where title is null`), so a title the user set in the meantime wins. Does not count
--   as activity (updated_at stays). true when it set the title.
create or replace function public.set_default_title(p_conversation_id uuid, p_title text)
returns boolean
language sql
volatile
security invoker
set search_path = public
as $$
  with titled as (
    update public.conversations set title = p_title
     where id = p_conversation_id and user_id = (select auth.uid()) and title is null
    returning 1)
  select exists (select 1 from titled)
$$;

-- export_conversation(p_conversation_id uuid) returns jsonb
--   {"conversation": {...}, "messages": [every message of every branch, in insertion order]}; null when
--   the conversation is not the caller's. Messages carry all their columns except the internal ones,
--   so a column added later (e.g. a branch's parent_id) is exported without touching this function.
create or replace function public.export_conversation(p_conversation_id uuid)
returns jsonb
language sql
stable
security invoker
set search_path = public
as $$
  select jsonb_build_object(
    'conversation', to_jsonb(c) - 'user_id',
    'messages', coalesce((
      select jsonb_agg(to_jsonb(m) - array['seq', 'user_id', 'idempotency_key', 'heartbeat_at', 'cancel_requested_at'] order by m.seq)
        from public.messages m
       where m.conversation_id = c.id and m.user_id = (select auth.uid())), '[]'::jsonb))
  from public.conversations c
  where c.id = p_conversation_id and c.user_id = (select auth.uid())
$$;

revoke all on function public.search_conversations(text, timestamptz, uuid, integer) from public, anon;
revoke all on function public.list_conversations(timestamptz, uuid, integer) from public, anon;
revoke all on function public.set_default_title(uuid, text) from public, anon;
revoke all on function public.export_conversation(uuid) from public, anon;
grant execute on function public.search_conversations(text, timestamptz, uuid, integer) to authenticated, service_role;
grant execute on function public.list_conversations(timestamptz, uuid, integer) to authenticated, service_role;
grant execute on function public.set_default_title(uuid, text) to authenticated, service_role;
grant execute on function public.export_conversation(uuid) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Branches: switching
--
-- The tree itself (messages.parent_id, conversations.current_leaf_id, the one-time migration of a
-- linear history) is set up with the tables; conversation_leaf, branch_path, list_branch and
-- prepare_turn are with the read functions, begin_reply with the durable replies. Prompts are built from
-- the current path only; usage and budgets count every message, whatever branch it is on.
-- ---------------------------------------------------------------------------------------------

-- switch_branch(p_conversation_id uuid, p_message_id uuid) returns uuid
--   Makes the branch through p_message_id current: its leaf is reached by following the most recent
--   child from there down. Returns that leaf; null when the message is not in the caller's conversation.
--   SECURITY DEFINER, because `authenticated` may not update current_leaf_id: it refuses a call without
--   a user and only ever points the caller's own conversation at one of its own messages.
create or replace function public.switch_branch(p_conversation_id uuid, p_message_id uuid) returns uuid
language plpgsql
volatile
security definer
set search_path = public, pg_temp
as $$
declare
  v_leaf uuid;
begin
  if auth.uid() is null then
    raise exception 'no user' using errcode = '42501';
  end if;
  if not exists (select 1 from public.messages m
                   join public.conversations c on c.id = m.conversation_id and c.user_id = auth.uid()
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

revoke all on function public.switch_branch(uuid, uuid) from public, anon;
grant execute on function public.switch_branch(uuid, uuid) to authenticated, service_role;
revoke all on function public.messages_parent_first() from public, anon, authenticated;
