-- Tool results on a send: a user message stores the tool_result blocks it carried (tool_result jsonb),
-- begin_reply takes them (p_tool_result) and refuses results that do not answer the calls of the reply
-- the message follows (status tool_results), and search matches the names of the tools a reply
-- called. As database/schema/10_tables.sql, 50_replies.sql, 60_conversations.sql and 90_privileges.sql
-- declare them.

-- Written so a database that already has them (one built from database/schema/ without a record of
-- migrations) takes this file as well.
alter table public.messages add column if not exists tool_result jsonb;
alter table public.messages drop constraint if exists messages_tool_result_shape;
alter table public.messages
  add constraint messages_tool_result_shape check (
    tool_result is null or (role = 'user' and jsonb_typeof(tool_result) = 'array' and octet_length(tool_result::text) <= 8000000));

-- The names of the tools a reply called: its tool_text (packages/core/src/chat/tool-stream.ts) with each
-- call's header (U+001E id U+001F name U+001F) and input reduced to the name. Only replies that called tools.
create index if not exists messages_tool_names_search_idx
  on public.messages using gin (
    to_tsvector('simple'::regconfig, regexp_replace(tool_text, '\x1e[^\x1f]*\x1f([^\x1f]*)\x1f[^\x1e]*', ' \1 ', 'g')))
  where tool_text <> '';

-- search_conversations(p_query text, p_after_updated_at timestamptz, p_after_id uuid, p_limit integer)
--   returns table (conversation columns, cursor_ts text)
-- The caller's conversations whose title, any message's text or the name of a tool a reply called matches p_query (websearch_to_tsquery
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
          and to_tsvector('simple'::regconfig, m.content) @@ websearch_to_tsquery('simple'::regconfig, p_query)
       union
       select m.conversation_id from public.messages m
        where m.user_id = (select auth.uid()) and m.tool_text <> ''
          and to_tsvector('simple'::regconfig, regexp_replace(m.tool_text, '\x1e[^\x1f]*\x1f([^\x1f]*)\x1f[^\x1e]*', ' \1 ', 'g'))
              @@ websearch_to_tsquery('simple'::regconfig, p_query))
   order by c.updated_at desc, c.id desc
   limit greatest(1, least(coalesce(p_limit, 20), 101))
$$;

-- The former signature goes: a call naming p_tool_result would otherwise be ambiguous.
drop function if exists public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer, uuid, uuid, integer, boolean, uuid, text, integer, bigint, timestamptz, text, jsonb, integer);
-- begin_reply(p_conversation_id uuid, p_user_message_id uuid, p_content text, p_idempotency_key text,
--   p_reply_id uuid, p_model text, p_metadata jsonb, p_stale_ms integer, p_parent_id uuid,
--   p_answer_to uuid, p_input_tokens integer, p_branch boolean, p_reservation_id uuid, p_reserve_model text,
--   p_reserve_tokens integer, p_budget bigint, p_since timestamptz, p_secret_hash text, p_expect jsonb,
--   p_max_streaming integer, p_tool_result jsonb) returns jsonb
--   {"status": "created" | "attach" | "done" | "mismatch" | "busy", "reply": message, "user_message": message}
--   | {"status": "over_budget", "used": bigint, "needed": integer} | {"status": "too_many", "streaming": integer}
--   | {"status": "moved"} | {"status": "tool_results", "unknown": [id], "missing": [id], "calls": [id]}
-- The one place that decides whether a send calls the model. It locks the conversation row first, so
-- concurrent sends of one conversation pass through here one at a time and each sees the rows the
-- previous one committed:
--   * a key already stored with other content or tool results → mismatch (the API answers 422);
--   * a key whose reply is streaming → attach (the caller follows that reply instead);
--   * a key whose reply finished, or that the conversation has moved past → done (409);
--   (an idempotent repeat is decided before the busy check, so it still attaches to its own reply)
--   * another reply of the conversation streaming, and not stale → busy (409 with its id): one reply
--     at a time per conversation; a stale one is settled as error first and does not block;
--   * a new message whose tool results (p_tool_result: [{"type": "tool_result", "tool_use_id", "content",
--     "is_error"}]) name a call the reply it follows did not make, or that leaves a call of that reply
--     unanswered when it ended with finish_reason 'tool_use' → tool_results (422), nothing stored.
--     Checked here, under the row lock, against the parent the message is stored under: no send in
--     between can change which reply it answers, and a prompt built from kept history gets the same
--     check as one built from a fresh read;
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
-- Branches: p_answer_to answers that stored user message again (regenerate; no user message is
-- stored, the new reply is a sibling of its earlier replies); otherwise the new user message's parent
-- is p_parent_id when p_branch (an edit; null: a new root), else the current leaf. The new reply becomes
-- the current leaf, and p_input_tokens (the prompt as sent, our count) is stored at once.
-- The first token: a warm instance may build the prompt from the history it keeps and call the model
-- while this runs. p_expect = {"leaf": uuid | null, "leaf_open": bool, "system_prompt": text | null,
-- "model": text} names the state that prompt was built from (leaf_open: the leaf was a reply still
-- streaming, so its finishing is a move too); when the conversation's current leaf, system prompt or
-- model differ → moved, nothing stored (the caller stops the model call and reads the history). A path's
-- messages never change once their reply finished, so the leaf stands for the whole history.
-- A created reply reports budget_left (the budget less what the ledger holds, this reservation
-- included) when there is a budget: the instance uses it to decide whether calling the model before
-- this answer is safe next time.
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
  p_max_streaming   integer default null,
  p_tool_result     jsonb default null
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
  v_results jsonb;
  v_asked public.messages;
  v_calls text[];
  v_given text[];
  v_unknown text[];
  v_missing text[];
begin
  if auth.uid() is null then
    raise exception 'no user' using errcode = '42501';
  end if;
  -- What the API would refuse (the CHECK constraints hold the lengths as well).
  if p_tool_result is not null and jsonb_typeof(p_tool_result) <> 'null' then
    if jsonb_typeof(p_tool_result) <> 'array' or exists (
         select 1 from jsonb_array_elements(p_tool_result) r
          where jsonb_typeof(r) <> 'object' or r->>'type' is distinct from 'tool_result'
             or jsonb_typeof(r->'tool_use_id') is distinct from 'string' or jsonb_typeof(r->'content') is distinct from 'string'
             or jsonb_typeof(coalesce(r->'is_error', 'false')) <> 'boolean') then
      raise exception 'p_tool_result must be an array of {"type": "tool_result", "tool_use_id", "content", "is_error"}' using errcode = '22023';
    end if;
    -- Stored with only its fields, in the order sent (null: none).
    select jsonb_agg(jsonb_build_object('type', 'tool_result', 'tool_use_id', r->'tool_use_id', 'content', r->'content',
                                        'is_error', coalesce(r->'is_error', 'false')) order by n)
      into v_results
      from jsonb_array_elements(p_tool_result) with ordinality as t(r, n);
  end if;
  if p_content is null or char_length(p_content) not between (case when v_results is null then 1 else 0 end) and 32000 then
    raise exception 'p_content must be 1 to 32000 characters (0 beside tool results)' using errcode = '22023';
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
    if v_user.content <> p_content or v_user.tool_result is distinct from v_results then
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
    if v_later or v_reply.finish_reason in ('end_turn', 'max_tokens', 'tool_use') then
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

  -- A new message's tool results answer the reply it follows (its parent, as stored below).
  if p_answer_to is null and v_user.id is null then
    select * into v_asked from public.messages
     where id = case when p_branch then p_parent_id else public.conversation_leaf(p_conversation_id) end
       and conversation_id = p_conversation_id and user_id = auth.uid() and role = 'assistant';
    -- The calls' ids, from their headers in tool_text (packages/core/src/chat/tool-stream.ts).
    v_calls := array(select c[1] from regexp_matches(coalesce(v_asked.tool_text, ''), '\x1e([^\x1f]*)\x1f', 'g') as c);
    v_given := array(select r->>'tool_use_id' from jsonb_array_elements(coalesce(v_results, '[]'::jsonb)) r);
    v_unknown := array(select g from unnest(v_given) g where g <> all(v_calls));
    v_missing := case when v_asked.finish_reason = 'tool_use'
                      then array(select c from unnest(v_calls) c where c <> all(v_given)) else '{}'::text[] end;
    if cardinality(v_unknown) > 0 or cardinality(v_missing) > 0 then
      return jsonb_build_object('status', 'tool_results', 'unknown', to_jsonb(v_unknown), 'missing', to_jsonb(v_missing),
                                'calls', to_jsonb(v_calls));
    end if;
  end if;

  -- The per-user lock serializes the user's sends across conversations and instances, so the cap on
  -- streaming replies and the budget hold under concurrency. Without either there is nothing to hold.
  if coalesce(p_max_streaming, 0) > 0 or (p_reservation_id is not null and coalesce(p_budget, 0) > 0) then
    perform pg_advisory_xact_lock(hashtextextended('usage_ledger:' || auth.uid()::text, 0));
  end if;
  if coalesce(p_max_streaming, 0) > 0 then
    v_streaming := public.open_replies(p_stale_ms);
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
    insert into public.messages (id, conversation_id, user_id, role, content, idempotency_key, parent_id, tool_result)
    values (p_user_message_id, p_conversation_id, auth.uid(), 'user', p_content, p_idempotency_key,
            case when p_branch then p_parent_id else public.conversation_leaf(p_conversation_id) end, v_results)
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

revoke all on function public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer, uuid, uuid, integer, boolean, uuid, text, integer, bigint, timestamptz, text, jsonb, integer, jsonb) from public, anon;
grant execute on function public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer, uuid, uuid, integer, boolean, uuid, text, integer, bigint, timestamptz, text, jsonb, integer, jsonb) to authenticated, service_role;
