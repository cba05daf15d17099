-- Who may call what. Supabase's default privileges grant every new table, sequence and function in
-- public to anon and authenticated; the API never serves anon, so anon gets nothing at all, and
-- authenticated gets the user-callable functions only. Every function `authenticated` may execute is
-- callable by any user through PostgREST (POST /rest/v1/rpc/<name>), so the list below is exactly the
-- functions the API calls as the user, and the helpers those run as the caller. Table privileges are
-- in 20_rls.sql.

revoke all on all tables in schema public from anon;
revoke all on all sequences in schema public from public, anon, authenticated;
grant usage, select on all sequences in schema public to service_role;
revoke all on all functions in schema public from public, anon;

-- User-callable: each runs as the caller (RLS) or checks auth.uid() itself.
grant execute on function
  public.conversation_leaf(uuid),
  public.branch_path(uuid, uuid),
  public.list_branch(uuid, bigint, integer),
  public.prepare_turn(uuid, integer, text, uuid, boolean),
  public.usage_report(timestamptz, timestamptz, text),
  public.settle_tokens(uuid, text, integer, integer, integer, text),
  public.reserve_title(uuid, text, integer, bigint, timestamptz, text),
  public.reserve_call(uuid, text, integer, bigint, timestamptz, text, integer, integer, integer),
  public.create_api_key(text, text, text, timestamptz),
  public.revoke_api_key(uuid),
  public.settle_stale_replies(uuid, integer),
  public.begin_reply(uuid, uuid, text, text, uuid, text, jsonb, integer, uuid, uuid, integer, boolean,
                     uuid, text, integer, bigint, timestamptz, text, jsonb, integer, jsonb),
  public.flush_reply(uuid, text, text, text),
  public.finish_reply(uuid, text, text, integer, integer, text, integer, integer, jsonb, text),
  public.get_reply(uuid, integer),
  public.request_cancel(uuid, integer),
  public.search_conversations(text, timestamptz, uuid, integer),
  public.list_conversations(timestamptz, uuid, integer),
  public.set_default_title(uuid, text),
  public.export_conversation(uuid),
  public.switch_branch(uuid, uuid),
  public.get_user(),
  public.create_conversation(text, text, text),
  public.open_conversation(uuid, text),
  public.get_conversation(uuid),
  public.update_conversation(uuid, jsonb),
  public.delete_conversation(uuid),
  public.list_api_keys()
to authenticated, service_role;

-- Server-only: the pre-auth paths, run with the connection's own role or the service key.
revoke all on function
  public.authenticate_api_key(text),
  public.create_session(uuid, text, timestamptz),
  public.rotate_refresh_token(text, text, timestamptz),
  public.revoke_session(text),
  public.revoke_user_sessions(uuid),
  public.change_password(uuid, text),
  public.attempts_retry_after(text, text, integer, integer),
  public.login_retry_after(text, text, integer, integer, integer),
  public.record_login(text, text, boolean),
  public.register_attempt(text, integer, integer),
  public.create_user(text, text, text),
  public.find_login(text),
  public.find_login_by_id(uuid)
from authenticated;
grant execute on function
  public.authenticate_api_key(text),
  public.create_session(uuid, text, timestamptz),
  public.rotate_refresh_token(text, text, timestamptz),
  public.revoke_session(text),
  public.revoke_user_sessions(uuid),
  public.change_password(uuid, text),
  public.attempts_retry_after(text, text, integer, integer),
  public.login_retry_after(text, text, integer, integer, integer),
  public.record_login(text, text, boolean),
  public.register_attempt(text, integer, integer),
  public.create_user(text, text, text),
  public.find_login(text),
  public.find_login_by_id(uuid)
to service_role;

-- The trigger function runs as part of an insert, never as a call; open_replies only inside
-- begin_reply and reserve_call.
revoke all on function public.messages_parent_first() from authenticated;
revoke all on function public.open_replies(integer) from authenticated;
