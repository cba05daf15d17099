-- Sign out everywhere: revoke_user_sessions revokes every refresh token of a user and says how many
-- sessions were live. change_password now revokes through it, so "every session of the user" is one
-- statement in one place. Both are server-only, as database/schema/ declares them (40_access,
-- 90_privileges); "or replace", so a database built from those files, which has them already, takes
-- this migration too.

-- revoke_user_sessions(p_user_id uuid) returns integer: revokes every refresh token of the user (sign
-- out everywhere; a password change too). Returns how many sessions were live: families that still
-- had an unspent, unexpired token. API keys are not sessions and stay.
create or replace function public.revoke_user_sessions(p_user_id uuid) returns integer
language sql
volatile
security invoker
set search_path = public, pg_temp
as $$
  with revoked as (
    update public.refresh_tokens set revoked_at = now()
     where user_id = p_user_id and revoked_at is null
    returning family_id, rotated_at, expires_at)
  select count(distinct family_id)::integer from revoked where rotated_at is null and expires_at > now()
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
  perform public.revoke_user_sessions(p_user_id);
  return true;
end
$$;

-- Server-only: the sign-out paths, with the connection's own role or the service key.
revoke all on function public.revoke_user_sessions(uuid) from public, anon, authenticated;
grant execute on function public.revoke_user_sessions(uuid) to service_role;
