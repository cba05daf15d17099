-- Durable replies
--
-- An assistant message exists from the reply's first event with finish_reason null ("streaming").
-- Its producer appends text in batches (flush_reply) and refreshes heartbeat_at each time; any
-- reader settles a reply whose heartbeat is older than the caller's stale window as 'error'
-- (settle_stale_replies). cancel_requested_at is how any instance asks the producer to stop: the
-- producer reads it back on its next flush. Only the producer moves a reply to end_turn, max_tokens
-- or cancelled (finish_reply); readers only ever move a stale one to error.
--
-- `authenticated` may not UPDATE messages at all (a stored reply's figures cannot be rewritten). So
-- the functions that update a reply (settle_stale_replies, begin_reply, flush_reply, finish_reply,
-- request_cancel) are SECURITY DEFINER with a fixed search_path, and each one is narrow: it refuses a
-- call without a user, touches only the caller's rows (explicit auth.uid() checks, as well as RLS
-- where the owner is subject to it), checks its inputs (the CHECK constraints apply on top), moves a
-- reply only forward (streaming → ended), and writes a reply's figures once (finish_reply). Calling
-- them directly gives a user nothing the API would not: they only ever write the caller's own new or
-- streaming rows, and the only ledger rows they write are the caller's own: a reservation
-- (begin_reply) and a stale reply's estimate (settle_stale_replies), which the producer's own settle
-- replaces.

-- settle_stale_replies(p_conversation_id uuid, p_stale_ms integer) returns integer
--   Marks the caller's streaming replies in that conversation (all of them when null) whose heartbeat
--   is older than p_stale_ms as finish_reason 'error'. Returns how many it settled.
--   Their producer went silent and will most likely never settle its ledger reservation, which would
--   then count its worst case all day: each one's reservation is settled here down to what the reply
--   stored (its prompt, and its text and reasoning at one token per 3 bytes, which never undercounts
--   a byte-level BPE), marked estimated. A producer that was only slow still settles with its real
--   figures, which replace these (settle_tokens).
create function public.settle_stale_replies(p_conversation_id uuid, p_stale_ms integer)
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
              ceil((octet_length(m.content) + octet_length(m.reasoning) + octet_length(m.tool_text)) / 3.0)::integer as output_tokens
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

-- open_replies(p_stale_ms integer) returns integer
--   What the cap on streaming replies counts for the caller: their streaming replies (a stale one's
--   producer is gone: it holds no stream and does not count) and their calls that store nothing
--   (reserve_call) not settled yet and still within the time they may run.
create function public.open_replies(p_stale_ms integer) returns integer
language sql
stable
security invoker
set search_path = public, pg_temp
as $$
  select ((select count(*) from public.messages s
            where s.user_id = auth.uid() and s.role = 'assistant' and s.finish_reason is null
              and coalesce(s.heartbeat_at, s.created_at) >= now() - make_interval(secs => p_stale_ms / 1000.0))
        + (select count(*) from public.usage_ledger c
            where c.user_id = auth.uid() and c.kind = 'call' and c.entry = 'reserve' and c.open_until > now()
              and not exists (select 1 from public.usage_ledger d
                               where d.reservation_id = c.reservation_id and d.entry = 'settle')))::integer
$$;

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
create function public.begin_reply(
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

-- flush_reply(p_id uuid, p_text text, p_reasoning text, p_tool_text text) returns jsonb
--   Appends to a streaming reply (its text, reasoning and tool calls) and refreshes its heartbeat. Returns {"finish_reason", "cancel"}:
--   the producer stops when cancel is true or when the reply was settled under it (finish_reason set).
--   null when the reply is not the caller's.
create function public.flush_reply(p_id uuid, p_text text, p_reasoning text, p_tool_text text default '')
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
         tool_text = tool_text || coalesce(p_tool_text, ''),
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
--   p_finish_reason text, p_latency_ms int, p_ttft_ms int, p_metadata jsonb, p_tool_text text) returns messages
--   The producer's last write: appends the unflushed tail and settles the reply. A reply a reader
--   already settled as error keeps that finish_reason (its text still gets the tail). null when the
--   reply is not the caller's.
create function public.finish_reply(
  p_id            uuid,
  p_text          text,
  p_reasoning     text,
  p_token_count   integer,
  p_input_tokens  integer,
  p_finish_reason text,
  p_latency_ms    integer,
  p_ttft_ms       integer,
  p_metadata      jsonb,
  p_tool_text     text default ''
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
  if p_finish_reason is null or p_finish_reason not in ('end_turn', 'max_tokens', 'tool_use', 'cancelled', 'error') then
    raise exception 'p_finish_reason must be end_turn, max_tokens, tool_use, cancelled or error' using errcode = '22023';
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
         tool_text = tool_text || coalesce(p_tool_text, ''),
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
create function public.get_reply(p_id uuid, p_stale_ms integer)
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
create function public.request_cancel(p_id uuid, p_stale_ms integer)
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
