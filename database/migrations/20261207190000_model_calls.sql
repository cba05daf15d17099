-- Calls that store nothing but their ledger entry (the Anthropic Messages and OpenAI Chat Completions
-- formats without a conversation): a ledger kind 'call', reserved by reserve_call under the same lock,
-- budget and cap as a reply, and counted by the cap on streaming replies (open_replies, which
-- begin_reply now uses too) until settled or until its open_until passes. As database/schema/ declares
-- them (10_tables, 40_access, 50_replies, 90_privileges); "or replace", so a database built from those
-- files takes this migration too.

alter table public.usage_ledger add column if not exists open_until timestamptz;
alter table public.usage_ledger drop constraint if exists usage_ledger_kind;
alter table public.usage_ledger add constraint usage_ledger_kind check (kind in ('reply', 'title', 'call'));
create index if not exists usage_ledger_open_calls_idx on public.usage_ledger (user_id, open_until) where kind = 'call' and entry = 'reserve';

create or replace function public.open_replies(p_stale_ms integer) returns integer
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

create or replace function public.reserve_call(
  p_reservation_id uuid,
  p_model          text,
  p_tokens         integer,
  p_budget         bigint,
  p_since          timestamptz,
  p_secret_hash    text,
  p_max_streaming  integer,
  p_stale_ms       integer,
  p_open_ms        integer
) returns jsonb
language plpgsql
volatile
security definer
set search_path = public, pg_temp
as $$
declare
  v_used      bigint;
  v_streaming integer;
begin
  if auth.uid() is null then
    raise exception 'no user' using errcode = '42501';
  end if;
  if p_reservation_id is null or p_tokens is null or p_tokens < 0 or p_since is null or coalesce(p_budget, 0) < 0
     or p_secret_hash is null or p_secret_hash !~ '^[0-9a-f]{64}$'
     or (p_model is not null and char_length(p_model) > 100)
     or p_stale_ms is null or p_stale_ms < 0 or p_open_ms is null or p_open_ms <= 0 then
    raise exception 'a call reservation needs an id, p_tokens >= 0, p_since, p_budget >= 0, a SHA-256 hex p_secret_hash, p_stale_ms >= 0 and p_open_ms > 0'
      using errcode = '22023';
  end if;
  if coalesce(p_max_streaming, 0) > 0 or coalesce(p_budget, 0) > 0 then
    perform pg_advisory_xact_lock(hashtextextended('usage_ledger:' || auth.uid()::text, 0));
  end if;
  if coalesce(p_max_streaming, 0) > 0 then
    v_streaming := public.open_replies(p_stale_ms);
    if v_streaming >= p_max_streaming then
      return jsonb_build_object('status', 'too_many', 'streaming', v_streaming);
    end if;
  end if;
  if coalesce(p_budget, 0) > 0 then
    select coalesce(sum(tokens), 0) into v_used
      from public.usage_ledger where user_id = auth.uid() and reserved_at >= p_since;
    if v_used + p_tokens > p_budget then
      return jsonb_build_object('status', 'over_budget', 'used', v_used);
    end if;
  end if;
  insert into public.usage_ledger (user_id, reservation_id, entry, kind, model, tokens, secret_hash, open_until)
  values (auth.uid(), p_reservation_id, 'reserve', 'call', p_model, p_tokens, p_secret_hash,
          now() + make_interval(secs => p_open_ms / 1000.0));
  return jsonb_build_object('status', 'reserved');
end
$$;

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

revoke all on function public.open_replies(integer) from public, anon, authenticated;
revoke all on function public.reserve_call(uuid, text, integer, bigint, timestamptz, text, integer, integer, integer) from public, anon;
grant execute on function public.reserve_call(uuid, text, integer, bigint, timestamptz, text, integer, integer, integer)
  to authenticated, service_role;
