-- Conversations themselves, search, the conversation list, titles, export and branch switching.
--
-- Full-text search over conversation titles and message text with the 'simple' configuration: it
-- lower-cases and splits words but neither stems nor drops stop words, so it behaves the same for
-- every language a conversation is written in (the 'english' configuration would stem "running" to
-- "run" but mangle French or German, and drop words like "who" or "it"). Expression GIN indexes rather
-- than generated columns: no new column appears in `select *` / to_jsonb(messages) rows, and the
-- queries below repeat the exact indexed expressions so the planner can use them.

create index conversations_title_search_idx
  on public.conversations using gin (to_tsvector('simple'::regconfig, coalesce(title, '')));
create index messages_content_search_idx
  on public.messages using gin (to_tsvector('simple'::regconfig, content));
-- The names of the tools a reply called: its tool_text (packages/core/src/chat/tool-stream.ts) with each
-- call's header (U+001E id U+001F name U+001F) and input reduced to the name. Only replies that called tools.
create index messages_tool_names_search_idx
  on public.messages using gin (
    to_tsvector('simple'::regconfig, regexp_replace(tool_text, '\x1e[^\x1f]*\x1f([^\x1f]*)\x1f[^\x1e]*', ' \1 ', 'g')))
  where tool_text <> '';

-- search_conversations(p_query text, p_after_updated_at timestamptz, p_after_id uuid, p_limit integer)
--   returns table (conversation columns, cursor_ts text)
-- The caller's conversations whose title, any message's text or the name of a tool a reply called matches p_query (websearch_to_tsquery
-- syntax: words, "quoted phrases", OR, -excluded), in the list's order (updated_at desc, id desc),
-- after the keyset (p_after_updated_at, p_after_id) when p_after_id is given, at most p_limit rows.
-- A query without any word (e.g. only punctuation) matches nothing.
create function public.search_conversations(
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
          and to_tsvector('simple'::regconfig, m.content) @@ websearch_to_tsquery('simple'::regconfig, p_query)
       union
       select m.conversation_id from public.messages m
        where m.user_id = (select auth.uid()) and m.tool_text <> ''
          and to_tsvector('simple'::regconfig, regexp_replace(m.tool_text, '\x1e[^\x1f]*\x1f([^\x1f]*)\x1f[^\x1e]*', ' \1 ', 'g'))
              @@ websearch_to_tsquery('simple'::regconfig, p_query))
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
-- The hot path, so it does no more than it must. The rows, already in order, go into an array turned
-- into JSON once, which costs less than json_agg building it row by row (the outer order by only
-- states the order; it sorts nothing). RLS alone picks the caller's rows (its qual is the index
-- condition): a second `user_id = auth.uid()` here would only evaluate the claims again and add a
-- filter. So a role that bypasses RLS, which may read every row anyway, would get every
-- conversation; the API calls this only as the user. No `set search_path`: a SET clause saves and
-- restores the setting on every call, and this needs none: it runs as the caller, whose own search
-- path can only mislead the caller, and the tables and functions it names are schema-qualified.
create function public.list_conversations(
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

-- set_default_title(p_conversation_id uuid, p_title text) returns boolean
--   Gives an untitled conversation of the caller's the title the API wrote for it. Never replaces a
--   title (only `where title is null`), so a title the user set in the meantime wins. Does not count
--   as activity (updated_at stays). true when it set the title.
create function public.set_default_title(p_conversation_id uuid, p_title text)
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
--   so a new column is exported without touching this function.
create function public.export_conversation(p_conversation_id uuid)
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

-- switch_branch(p_conversation_id uuid, p_message_id uuid) returns uuid
--   Makes the branch through p_message_id current: its leaf is reached by following the most recent
--   child from there down. Returns that leaf; null when the message is not in the caller's conversation.
--   SECURITY DEFINER, because `authenticated` may not update current_leaf_id: it refuses a call without
--   a user and only ever points the caller's own conversation at one of its own messages.
--   Prompts are built from the current path only; usage and budgets count every message, whatever
--   branch it is on.
create function public.switch_branch(p_conversation_id uuid, p_message_id uuid) returns uuid
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

-- create_conversation(p_title text, p_system_prompt text, p_model text) returns json
--   The caller's new conversation. user_id takes its default, auth.uid() (the insert policy would
--   refuse any other); an account deleted since its token was issued fails with 23503.
create function public.create_conversation(p_title text, p_system_prompt text, p_model text)
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

-- open_conversation(p_id uuid, p_model text) returns json
--   {"conversation": {...}, "created": bool}: the caller's conversation with this id, created (with
--   no title and p_model) when no conversation has it; null when it is another user's. For clients that
--   name their conversations themselves (the AI SDK's chat id). An id taken by another user is left
--   alone by the conflict clause, which never reads that row, so nothing of it comes back.
create function public.open_conversation(p_id uuid, p_model text) returns json
language sql
volatile
security invoker
set search_path = public
as $$
  with created as (
    insert into public.conversations (id, model) values (p_id, p_model)
    on conflict (id) do nothing
    returning id, title, system_prompt, model, created_at, updated_at)
  select coalesce(
    (select json_build_object('conversation', to_json(n), 'created', true) from created n),
    (select json_build_object('conversation', to_json(c), 'created', false) from (
       select id, title, system_prompt, model, created_at, updated_at from public.conversations
        where id = p_id and user_id = (select auth.uid())) c))
$$;

-- get_conversation(p_id uuid) returns json: the caller's conversation; null when it is not theirs.
create function public.get_conversation(p_id uuid) returns json
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
create function public.update_conversation(p_id uuid, p_patch jsonb) returns json
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
create function public.delete_conversation(p_id uuid) returns boolean
language sql
volatile
security invoker
set search_path = public
as $$
  with gone as (
    delete from public.conversations where id = p_id and user_id = (select auth.uid()) returning 1)
  select exists (select 1 from gone)
$$;
