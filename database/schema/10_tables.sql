-- Tables, their constraints and indexes, and the trigger that keeps the message tree acyclic.
--
-- CHECK constraints repeat the API's limits, so a user who talks to PostgREST directly with their own
-- token cannot store figures the API would refuse. Text columns need no NUL check: PostgreSQL's text
-- and jsonb cannot hold U+0000 at all.

create table public.users (
  id            uuid primary key default gen_random_uuid(),
  email         text not null,
  password_hash text not null,
  display_name  text,
  created_at    timestamptz not null default now(),
  constraint users_email_len check (char_length(email) between 3 and 254),
  constraint users_display_name_len check (display_name is null or char_length(display_name) between 1 and 100),
  constraint users_password_hash_len check (char_length(password_hash) between 1 and 255)
);
-- Emails are stored normalised, but the index is on lower() so a differently-cased duplicate can
-- never slip in through another code path.
create unique index users_email_lower_key on public.users (lower(email));

create table public.conversations (
  id              uuid primary key default gen_random_uuid(),
  user_id         uuid not null default auth.uid() references public.users (id) on delete cascade,
  title           text,
  system_prompt   text,
  model           text not null,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  -- The branch the API lists and the next send continues (root → leaf). Moved only by SECURITY
  -- DEFINER functions (begin_reply, switch_branch), each after checking the conversation is the caller's.
  current_leaf_id uuid,
  -- Target of messages' composite foreign key (see below).
  constraint conversations_id_user_id_key unique (id, user_id),
  constraint conversations_title_len check (title is null or char_length(title) between 1 and 200),
  constraint conversations_system_prompt_len check (system_prompt is null or char_length(system_prompt) <= 32000),
  constraint conversations_model_len check (char_length(model) between 1 and 100)
);
-- Serves the conversation list: keyset pagination on (updated_at desc, id desc) per user.
create index conversations_user_activity_idx
  on public.conversations (user_id, updated_at desc, id desc);

-- Messages form a tree per conversation: parent_id is the message a message answers or follows (null
-- for a root). A reply exists from its first event with finish_reason null ("streaming"); see
-- 50_replies.sql.
create table public.messages (
  id                  uuid primary key default gen_random_uuid(),
  -- Insertion order. Timestamps can tie inside one transaction; seq never does.
  seq                 bigint generated always as identity,
  conversation_id     uuid not null,
  user_id             uuid not null default auth.uid(),
  role                text not null check (role in ('user', 'assistant')),
  content             text not null,
  model               text,
  token_count         integer,
  input_tokens        integer,
  finish_reason       text check (finish_reason in ('end_turn', 'max_tokens', 'tool_use', 'cancelled', 'error')),
  latency_ms          integer,
  ttft_ms             integer,
  metadata            jsonb not null default '{}'::jsonb check (jsonb_typeof(metadata) = 'object'),
  idempotency_key     text,
  created_at          timestamptz not null default now(),
  -- A reasoning model's thinking, apart from its answer (content). Shown to the client, stored, and
  -- never put back into a prompt (prepare_turn leaves it out of the history it returns).
  reasoning           text not null default '',
  -- A streaming reply's last write, and a cancel asked for by any instance.
  heartbeat_at        timestamptz,
  cancel_requested_at timestamptz,
  parent_id           uuid,
  -- The tools a reply called, as one append-only text flushed like its content: per call a header
  -- (U+001E, the call's id, U+001F, the tool's name, U+001F) and then its input's JSON as the model
  -- wrote it (packages/core/src/chat/tool-stream.ts).
  tool_text           text not null default '',
  -- The tool results a user message carried, in the order sent: [{"type": "tool_result", "tool_use_id",
  -- "content", "is_error"}], each answering a call of the reply it follows (begin_reply checks that).
  -- null when it carried none.
  tool_result         jsonb,
  -- The message's owner must be the conversation's owner: with RLS forcing user_id = auth.uid(),
  -- a message can never be attached to someone else's conversation.
  constraint messages_conversation_fkey foreign key (conversation_id, user_id)
    references public.conversations (id, user_id) on delete cascade,
  -- A user's message is at most the API's 32,000 characters; a reply is bounded by max_tokens.
  constraint messages_content_len check (char_length(content) <= case when role = 'user' then 32000 else 1000000 end),
  constraint messages_model_len check (model is null or char_length(model) <= 100),
  constraint messages_counts_nonneg check (
    coalesce(token_count, 0) >= 0 and coalesce(input_tokens, 0) >= 0 and coalesce(latency_ms, 0) >= 0 and coalesce(ttft_ms, 0) >= 0),
  constraint messages_idempotency_key_len check (idempotency_key is null or char_length(idempotency_key) between 1 and 255),
  -- Reasoning belongs to replies only, bounded like a reply's content.
  constraint messages_reasoning_len check (char_length(reasoning) <= case when role = 'user' then 0 else 1000000 end),
  constraint messages_tool_text_len check (char_length(tool_text) <= case when role = 'user' then 0 else 1000000 end),
  -- Results belong to user messages, bounded by what the API takes (1,000,000 characters of results).
  constraint messages_tool_result_shape check (
    tool_result is null or (role = 'user' and jsonb_typeof(tool_result) = 'array' and octet_length(tool_result::text) <= 8000000)),
  -- The API's metadata is a few hundred bytes (usage, ids, an error); a direct insert may not use the
  -- column to fill the shared database.
  constraint messages_metadata_size check (pg_column_size(metadata) <= 65536),
  -- A heartbeat in the far future would make the conversation look busy forever (one reply at a
  -- time); no reply streams for a day.
  constraint messages_heartbeat_bounded check (heartbeat_at is null or heartbeat_at <= created_at + interval '1 day')
);
-- The parent is always in the same conversation: (parent_id, conversation_id) references (id, conversation_id).
create unique index messages_id_conversation_key on public.messages (id, conversation_id);
alter table public.messages add constraint messages_parent_fkey foreign key (parent_id, conversation_id)
  references public.messages (id, conversation_id) on delete cascade;
-- Children of a message, newest last: siblings, and the walk down to a branch's leaf.
create index messages_parent_idx on public.messages (conversation_id, parent_id, seq);
create unique index messages_idempotency_key
  on public.messages (user_id, conversation_id, idempotency_key) where idempotency_key is not null;
create index messages_conversation_seq_idx on public.messages (conversation_id, seq);
-- Serves token budgets and usage reports.
create index messages_user_replies_idx
  on public.messages (user_id, created_at) where role = 'assistant';
-- Finds the streaming replies of a conversation without scanning it.
create index messages_streaming_idx
  on public.messages (conversation_id) where finish_reason is null and role = 'assistant';
-- Counts a user's streaming replies across conversations (MAX_CONCURRENT_REPLIES) without a scan.
create index messages_user_streaming_idx
  on public.messages (user_id) where finish_reason is null and role = 'assistant';

-- A parent must be stored before its child. The foreign key alone is checked at the end of the
-- statement, so one multi-row INSERT (a user may send one straight to PostgREST) could make a message
-- its own parent or two messages each other's: a cycle, which the recursive walks would follow forever.
-- A BEFORE ROW trigger sees only rows stored before this one, so no cycle can be written (and rows are
-- never updated: no UPDATE grant on messages, and no function changes parent_id).
create function public.messages_parent_first() returns trigger
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
create trigger messages_parent_first before insert on public.messages
  for each row execute function public.messages_parent_first();

create table public.api_keys (
  id           uuid primary key default gen_random_uuid(),
  user_id      uuid not null default auth.uid() references public.users (id) on delete cascade,
  name         text,
  prefix       text not null,
  -- SHA-256 hex of the key. The key itself is shown once and never stored.
  key_hash     text not null unique,
  created_at   timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at   timestamptz,
  expires_at   timestamptz,
  constraint api_keys_name_len check (name is null or char_length(name) between 1 and 100),
  constraint api_keys_prefix_len check (char_length(prefix) between 1 and 32),
  -- Only ever a SHA-256 hex digest: a caller cannot store a chosen weak key's hash of another shape.
  constraint api_keys_key_hash_sha256 check (key_hash ~ '^[0-9a-f]{64}$')
);
create index api_keys_user_idx on public.api_keys (user_id);

-- Refresh tokens (sessions). Server-only: no grant to anon or authenticated, and RLS with no policy.
-- A family is one sign-in; each refresh rotates to a new row of the same family. Only SHA-256 hashes
-- of the tokens are stored.
create table public.refresh_tokens (
  id          uuid primary key default gen_random_uuid(),
  user_id     uuid not null references public.users (id) on delete cascade,
  family_id   uuid not null,
  token_hash  text not null unique,
  created_at  timestamptz not null default now(),
  expires_at  timestamptz not null,
  rotated_at  timestamptz,
  revoked_at  timestamptz
);
create index refresh_tokens_family_idx on public.refresh_tokens (family_id);
create index refresh_tokens_user_idx on public.refresh_tokens (user_id);

-- Throttling counters for the pre-auth routes (failed logins per account and per IP, registrations
-- per IP). Server-only like refresh_tokens. `scope` names the counter, `key` its subject.
create table public.auth_attempts (
  id         bigint generated always as identity primary key,
  scope      text not null check (scope in ('login_account', 'login_ip', 'register_ip')),
  key        text not null check (char_length(key) <= 320),
  created_at timestamptz not null default now()
);
create index auth_attempts_scope_key_idx on public.auth_attempts (scope, key, created_at);

-- The token ledger: append-only, the only record of usage that budgets and /usage read. Rows are
-- added by begin_reply and reserve_title (the worst case, before the model is called) and
-- settle_tokens (the real figures, once, as a correction: tokens = real - reserved). No foreign key to
-- conversations, so deleting one leaves the ledger alone. Nobody but the owner holds a write grant:
-- the functions are the only way in.
create table public.usage_ledger (
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
  -- What a reservation paid for: a reply (reply_id names it, so a reply settled as stale can release
  -- its reservation), the conversation's title, or a call that stores nothing but this ledger entry
  -- (the Anthropic and OpenAI formats without a conversation). `estimated` marks a settle row written for a
  -- producer that went silent: its figures are what the reply stored, and the producer's own settle
  -- replaces them.
  kind           text not null default 'reply',
  reply_id       uuid,
  estimated      boolean not null default false,
  -- A call's reservation counts against the cap on streaming replies until it is settled, or at the
  -- latest until open_until (the longest the call may run: a process that died never settles it).
  open_until     timestamptz,
  constraint usage_ledger_entry_once unique (reservation_id, entry),
  constraint usage_ledger_reserve_nonneg check (entry <> 'reserve' or tokens >= 0),
  constraint usage_ledger_kind check (kind in ('reply', 'title', 'call'))
);
create index usage_ledger_user_time_idx on public.usage_ledger (user_id, reserved_at);
create index usage_ledger_reply_idx on public.usage_ledger (reply_id) where reply_id is not null;
create index usage_ledger_open_calls_idx on public.usage_ledger (user_id, open_until) where kind = 'call' and entry = 'reserve';
