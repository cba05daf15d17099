-- Row level security and table privileges.

alter table public.users          enable row level security;
alter table public.users          force row level security;
alter table public.conversations  enable row level security;
alter table public.conversations  force row level security;
alter table public.messages       enable row level security;
alter table public.messages       force row level security;
alter table public.api_keys       enable row level security;
alter table public.api_keys       force row level security;
alter table public.refresh_tokens enable row level security;
alter table public.refresh_tokens force row level security;
alter table public.auth_attempts  enable row level security;
alter table public.auth_attempts  force row level security;
alter table public.usage_ledger   enable row level security;
alter table public.usage_ledger   force row level security;

-- `(select auth.uid())` is evaluated once per statement instead of once per row.
create policy users_select_own on public.users
  for select to authenticated using (id = (select auth.uid()));
create policy users_update_own on public.users
  for update to authenticated using (id = (select auth.uid())) with check (id = (select auth.uid()));

create policy conversations_own on public.conversations
  for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

create policy messages_own on public.messages
  for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

create policy api_keys_own on public.api_keys
  for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

create policy usage_ledger_select_own on public.usage_ledger
  for select to authenticated using (user_id = (select auth.uid()));

-- refresh_tokens and auth_attempts have no policy: only roles that bypass RLS see them.

-- Supabase's default privileges hand every new table to anon and authenticated; start from
-- nothing and grant exactly what the policies are written for.
revoke all on public.users, public.conversations, public.messages, public.api_keys from public, anon, authenticated;
-- users: never the password hash (column grants: `select *` as authenticated is refused).
grant select (id, email, display_name, created_at), update (display_name) on public.users to authenticated;
-- conversations: no back-dating or re-owning (user_id is listed only so RLS, not a grant, refuses it).
-- current_leaf_id is not granted: only SECURITY DEFINER functions move it.
grant select, delete on public.conversations to authenticated;
grant insert (id, user_id, title, system_prompt, model) on public.conversations to authenticated;
grant update (title, system_prompt, updated_at) on public.conversations to authenticated;
-- messages: written only by insert (directly, or by the reply functions). No UPDATE: a stored reply's
-- figures cannot be rewritten (the reply functions that update a streaming reply are SECURITY
-- DEFINER); no DELETE: messages go with their conversation (the foreign key's cascade runs as the
-- table owner). created_at and seq are the database's own.
grant select on public.messages to authenticated;
grant insert (id, conversation_id, user_id, role, content, model, token_count, input_tokens,
              finish_reason, latency_ms, ttft_ms, metadata, idempotency_key, reasoning, heartbeat_at, parent_id)
  on public.messages to authenticated;
-- api_keys: never the key hash; keys are created and revoked through functions (40_access.sql).
grant select (id, user_id, name, prefix, created_at, last_used_at, expires_at, revoked_at) on public.api_keys to authenticated;
grant all on public.users, public.conversations, public.messages, public.api_keys to service_role;

-- Server-only tables: nothing for anon or authenticated (RLS has no policy for them either).
revoke all on public.refresh_tokens, public.auth_attempts, public.usage_ledger from public, anon, authenticated;
grant all on public.refresh_tokens, public.auth_attempts, public.usage_ledger to service_role;
-- The ledger is readable (the caller's rows, through RLS) but never writable: the functions write it.
grant select (id, user_id, reservation_id, entry, kind, reply_id, model, tokens, input_tokens, output_tokens, latency_ms, estimated,
              reserved_at, created_at)
  on public.usage_ledger to authenticated;
