-- open_conversation: a conversation named by its client (the AI SDK's chat id), created on first use.
-- As database/schema/60_conversations.sql and 90_privileges.sql declare it; "or replace", so a
-- database built from those files, which has it already, takes this migration too.

-- open_conversation(p_id uuid, p_model text) returns json
--   {"conversation": {...}, "created": bool}: the caller's conversation with this id, created (with
--   no title and p_model) when no conversation has it; null when it is another user's. For clients that
--   name their conversations themselves (the AI SDK's chat id). An id taken by another user is left
--   alone by the conflict clause, which never reads that row, so nothing of it comes back.
create or replace function public.open_conversation(p_id uuid, p_model text) returns json
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

revoke all on function public.open_conversation(uuid, text) from public, anon;
grant execute on function public.open_conversation(uuid, text) to authenticated, service_role;
