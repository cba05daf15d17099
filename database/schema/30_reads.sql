-- Read functions
--
-- Reads that PostgREST's query syntax cannot express in one request (aggregates are off in
-- PostgREST by default; a turn needs three related reads in one snapshot). The Supabase adapter
-- calls them as POST /rest/v1/rpc/<name>; any adapter may. SECURITY INVOKER, so RLS applies, and
-- their names, parameter names and return types are an API: change them only with every caller.
-- The explicit `user_id = auth.uid()` filters repeat what RLS enforces; they let the planner use the
-- per-user indexes and keep the functions harmless when called by a role that bypasses RLS.
-- Who may call them: 90_privileges.sql.

-- conversation_leaf(p_conversation_id uuid) returns uuid
--   The current leaf; a conversation whose current_leaf_id names no message of it (written by a path
--   that bypassed these functions) falls back to its last message.
create function public.conversation_leaf(p_conversation_id uuid) returns uuid
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
create function public.branch_path(p_conversation_id uuid, p_leaf uuid) returns setof public.messages
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
create function public.list_branch(p_conversation_id uuid, p_after_seq bigint, p_limit integer)
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
--   null when the conversation is missing or not the caller's.
create function public.prepare_turn(
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
