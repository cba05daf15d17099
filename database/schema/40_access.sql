-- Access: budgets, API keys, accounts, sessions and throttling.
--
-- Everything here holds for a user who talks to PostgREST directly with their own token: they cannot
-- lower their recorded usage, read a secret, touch another user's rows, or store figures the API
-- would refuse. Functions marked "server-only" are executable by the app's own connection role
-- (owner) and service_role only (90_privileges.sql).

-- ---------------------------------------------------------------------------------------------
-- Budgets: reserve before the model is called (begin_reply for a reply, reserve_title for a
-- title), settle when the call ends.
-- ---------------------------------------------------------------------------------------------

-- settle_tokens(p_reservation_id uuid, p_secret text, p_input_tokens integer, p_output_tokens integer,
--   p_latency_ms integer, p_model text) returns boolean
-- Records the real usage of a reservation, once: a settle row whose tokens are real - reserved, under
-- p_model, the model that answered (the reservation names the one asked for; they differ when the
-- asked one is not served and another answered). An estimate written when the reply was settled as
-- stale is replaced. Needs the secret whose hash the reservation stored (held only by the API process
-- that reserved), so a user cannot settle a real reply at a lower figure. false when the secret is
-- wrong or it was settled.
create function public.settle_tokens(
  p_reservation_id uuid,
  p_secret         text,
  p_input_tokens   integer,
  p_output_tokens  integer,
  p_latency_ms     integer,
  p_model          text default null
) returns boolean
language plpgsql
security definer
set search_path = public, pg_temp
as $$
declare
  v_res public.usage_ledger;
begin
  if p_model is not null and char_length(p_model) > 100 then
    raise exception 'p_model must be at most 100 characters' using errcode = '22023';
  end if;
  select * into v_res from public.usage_ledger
   where reservation_id = p_reservation_id and entry = 'reserve' and user_id = auth.uid()
     and secret_hash = encode(sha256(convert_to(coalesce(p_secret, ''), 'UTF8')), 'hex');
  if not found then
    return false;
  end if;
  insert into public.usage_ledger as l (user_id, reservation_id, entry, kind, reply_id, model, tokens, input_tokens,
                                        output_tokens, latency_ms, reserved_at)
  values (v_res.user_id, p_reservation_id, 'settle', v_res.kind, v_res.reply_id, coalesce(p_model, v_res.model),
          coalesce(p_input_tokens, 0)::bigint + coalesce(p_output_tokens, 0) - v_res.tokens,
          coalesce(p_input_tokens, 0), coalesce(p_output_tokens, 0), p_latency_ms, v_res.reserved_at)
  on conflict (reservation_id, entry) do update
     set model = excluded.model, tokens = excluded.tokens, input_tokens = excluded.input_tokens,
         output_tokens = excluded.output_tokens, latency_ms = excluded.latency_ms, estimated = false,
         created_at = now()
   where l.estimated;
  return found;
end
$$;

-- reserve_title(p_reservation_id uuid, p_model text, p_tokens integer, p_budget bigint, p_since timestamptz,
--   p_secret_hash text) returns jsonb {"status": "reserved"} | {"status": "over_budget", "used": bigint}
-- A title is a model call too: its worst case is reserved like a reply's (same lock, same rule: only
-- if it fits what is left of p_budget; 0 = no budget) and settled by settle_tokens. A title that does
-- not fit is not asked for: the conversation takes its first words instead.
create function public.reserve_title(
  p_reservation_id uuid,
  p_model          text,
  p_tokens         integer,
  p_budget         bigint,
  p_since          timestamptz,
  p_secret_hash    text
) returns jsonb
language plpgsql
volatile
security definer
set search_path = public, pg_temp
as $$
declare
  v_used bigint;
begin
  if auth.uid() is null then
    raise exception 'no user' using errcode = '42501';
  end if;
  if p_reservation_id is null or p_tokens is null or p_tokens < 0 or p_since is null or coalesce(p_budget, 0) < 0
     or p_secret_hash is null or p_secret_hash !~ '^[0-9a-f]{64}$'
     or (p_model is not null and char_length(p_model) > 100) then
    raise exception 'a reservation needs an id, p_tokens >= 0, p_since, p_budget >= 0 and a SHA-256 hex p_secret_hash'
      using errcode = '22023';
  end if;
  if coalesce(p_budget, 0) > 0 then
    perform pg_advisory_xact_lock(hashtextextended('usage_ledger:' || auth.uid()::text, 0));
    select coalesce(sum(tokens), 0) into v_used
      from public.usage_ledger where user_id = auth.uid() and reserved_at >= p_since;
    if v_used + p_tokens > p_budget then
      return jsonb_build_object('status', 'over_budget', 'used', v_used);
    end if;
  end if;
  insert into public.usage_ledger (user_id, reservation_id, entry, kind, model, tokens, secret_hash)
  values (auth.uid(), p_reservation_id, 'reserve', 'title', p_model, p_tokens, p_secret_hash);
  return jsonb_build_object('status', 'reserved');
end
$$;

-- reserve_call(p_reservation_id uuid, p_model text, p_tokens integer, p_budget bigint, p_since timestamptz,
--   p_secret_hash text, p_max_streaming integer, p_stale_ms integer, p_open_ms integer) returns jsonb
--   {"status": "reserved"} | {"status": "over_budget", "used": bigint} | {"status": "too_many", "streaming": integer}
-- A model call that stores nothing but its ledger entry (the Anthropic and OpenAI formats without a
-- conversation): reserved like a reply, under the same lock and the same rules: at most
-- p_max_streaming (0 or null = no cap) of the caller's replies and calls at once (open_replies), and
-- only if its worst case fits what is left of p_budget (0 = no budget). It counts as open until
-- settle_tokens settles it, or for p_open_ms at most.
create function public.reserve_call(
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

-- ---------------------------------------------------------------------------------------------
-- API keys (the key itself never reaches the database, only its SHA-256)
-- ---------------------------------------------------------------------------------------------

-- create_api_key(p_name text, p_prefix text, p_key_hash text, p_expires_at timestamptz) returns jsonb
--   The new key's public fields. SECURITY DEFINER: api_keys has no insert grant, so a key's owner is
--   always auth.uid() and its hash is never readable back.
create function public.create_api_key(
  p_name       text,
  p_prefix     text,
  p_key_hash   text,
  p_expires_at timestamptz
) returns jsonb
language plpgsql
security definer
set search_path = public, pg_temp
as $$
declare
  v_key public.api_keys;
begin
  if auth.uid() is null then
    raise exception 'no user' using errcode = '42501';
  end if;
  insert into public.api_keys (user_id, name, prefix, key_hash, expires_at)
  values (auth.uid(), p_name, p_prefix, p_key_hash, p_expires_at)
  returning * into v_key;
  return jsonb_build_object('id', v_key.id, 'name', v_key.name, 'prefix', v_key.prefix,
    'created_at', v_key.created_at, 'last_used_at', v_key.last_used_at, 'expires_at', v_key.expires_at);
end
$$;

-- revoke_api_key(p_id uuid) returns boolean: false when it is not the caller's live key. A revoked
-- key stays revoked: there is no update grant to undo it.
create function public.revoke_api_key(p_id uuid) returns boolean
language plpgsql
security definer
set search_path = public, pg_temp
as $$
begin
  update public.api_keys set revoked_at = now()
   where id = p_id and user_id = auth.uid() and revoked_at is null;
  return found;
end
$$;

-- list_api_keys() returns json: the caller's live (not revoked) keys, newest first, public fields only.
create function public.list_api_keys() returns json
language sql
stable
security invoker
set search_path = public
as $$
  select coalesce(json_agg(k order by k.created_at desc, k.id desc), '[]')
    from (select id, name, prefix, created_at, last_used_at, expires_at from public.api_keys
           where user_id = (select auth.uid()) and revoked_at is null) k
$$;

-- authenticate_api_key(p_key_hash text) returns uuid (server-only)
--   The owner of a live key (not revoked, not expired), else null. Marks it used, at most once a minute.
create function public.authenticate_api_key(p_key_hash text) returns uuid
language sql
security invoker
set search_path = public, pg_temp
as $$
  with k as (
    select id, user_id, last_used_at from public.api_keys
     where key_hash = p_key_hash and revoked_at is null and (expires_at is null or expires_at > now())
  ), touched as (
    update public.api_keys a set last_used_at = now()
      from k where a.id = k.id and (k.last_used_at is null or k.last_used_at < now() - interval '1 minute')
  )
  select user_id from k
$$;

-- ---------------------------------------------------------------------------------------------
-- Accounts. Registering and signing in happen before there is a user: those functions are
-- server-only. get_user is the signed-in caller's own account.
-- ---------------------------------------------------------------------------------------------

-- create_user(p_email text, p_password_hash text, p_display_name text) returns json (server-only)
--   The new account's public fields. The email arrives normalised; one already taken, in any case,
--   fails with 23505 (users_email_lower_key).
create function public.create_user(p_email text, p_password_hash text, p_display_name text)
returns json
language sql
volatile
security invoker
set search_path = public, pg_temp
as $$
  with u as (
    insert into public.users (email, password_hash, display_name)
    values (p_email, p_password_hash, p_display_name)
    returning id, email, display_name, created_at)
  select to_json(u) from u
$$;

-- find_login(p_email text) returns json (server-only)
--   The account with this email, in any case, with its password hash; null when there is none.
create function public.find_login(p_email text) returns json
language sql
stable
security invoker
set search_path = public, pg_temp
as $$
  select to_json(u) from (
    select id, email, display_name, created_at, password_hash from public.users
     where lower(email) = lower(p_email)) u
$$;

-- find_login_by_id(p_user_id uuid) returns json (server-only): find_login's answer, by id.
create function public.find_login_by_id(p_user_id uuid) returns json
language sql
stable
security invoker
set search_path = public, pg_temp
as $$
  select to_json(u) from (
    select id, email, display_name, created_at, password_hash from public.users
     where id = p_user_id) u
$$;

-- get_user() returns json: the caller's account (never its password hash); null without one.
create function public.get_user() returns json
language sql
stable
security invoker
set search_path = public
as $$
  select to_json(u) from (
    select id, email, display_name, created_at from public.users
     where id = (select auth.uid())) u
$$;

-- ---------------------------------------------------------------------------------------------
-- Sessions (server-only): refresh-token families
-- ---------------------------------------------------------------------------------------------

-- create_session(p_user_id uuid, p_token_hash text, p_expires_at timestamptz) returns uuid (the family)
create function public.create_session(p_user_id uuid, p_token_hash text, p_expires_at timestamptz)
returns uuid
language sql
security invoker
set search_path = public, pg_temp
as $$
  insert into public.refresh_tokens (user_id, family_id, token_hash, expires_at)
  values (p_user_id, gen_random_uuid(), p_token_hash, p_expires_at)
  returning family_id
$$;

-- rotate_refresh_token(p_token_hash text, p_new_hash text, p_expires_at timestamptz) returns jsonb
--   {"status": "ok", "user_id": ...}: the token was live; it is now spent and p_new_hash replaces it.
--   {"status": "reused"}: the token was already rotated (a copy is in someone else's hands): the
--     whole family is revoked, the live successor included.
--   {"status": "invalid"}: unknown, expired or revoked.
create function public.rotate_refresh_token(p_token_hash text, p_new_hash text, p_expires_at timestamptz)
returns jsonb
language plpgsql
security invoker
set search_path = public, pg_temp
as $$
declare
  v_tok public.refresh_tokens;
begin
  select * into v_tok from public.refresh_tokens where token_hash = p_token_hash for update;
  if not found or v_tok.revoked_at is not null then
    return jsonb_build_object('status', 'invalid');
  end if;
  if v_tok.rotated_at is not null then
    update public.refresh_tokens set revoked_at = now() where family_id = v_tok.family_id and revoked_at is null;
    return jsonb_build_object('status', 'reused');
  end if;
  if v_tok.expires_at <= now() then
    return jsonb_build_object('status', 'invalid');
  end if;
  update public.refresh_tokens set rotated_at = now() where id = v_tok.id;
  insert into public.refresh_tokens (user_id, family_id, token_hash, expires_at)
  values (v_tok.user_id, v_tok.family_id, p_new_hash, p_expires_at);
  return jsonb_build_object('status', 'ok', 'user_id', v_tok.user_id);
end
$$;

-- revoke_session(p_token_hash text) returns boolean: revokes the token's whole family (sign-out).
create function public.revoke_session(p_token_hash text) returns boolean
language plpgsql
security invoker
set search_path = public, pg_temp
as $$
begin
  update public.refresh_tokens set revoked_at = now()
   where revoked_at is null
     and family_id = (select family_id from public.refresh_tokens where token_hash = p_token_hash);
  return found;
end
$$;

-- revoke_user_sessions(p_user_id uuid) returns integer: revokes every refresh token of the user (sign
-- out everywhere; a password change too). Returns how many sessions were live: families that still
-- had an unspent, unexpired token. API keys are not sessions and stay.
create function public.revoke_user_sessions(p_user_id uuid) returns integer
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
create function public.change_password(p_user_id uuid, p_password_hash text) returns boolean
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

-- ---------------------------------------------------------------------------------------------
-- Throttling (server-only), shared by every instance because it lives here
-- ---------------------------------------------------------------------------------------------

-- attempts_retry_after(p_scope text, p_key text, p_window_seconds integer, p_max integer) returns integer
--   Seconds until fewer than p_max attempts of (scope, key) fall in the last p_window_seconds; 0 when
--   already fewer.
create function public.attempts_retry_after(p_scope text, p_key text, p_window_seconds integer, p_max integer)
returns integer
language sql
stable
security invoker
set search_path = public, pg_temp
as $$
  select coalesce((
    select greatest(1, ceil(extract(epoch from (a.created_at + make_interval(secs => p_window_seconds) - now())))::integer)
      from public.auth_attempts a
     where a.scope = p_scope and a.key = p_key and a.created_at > now() - make_interval(secs => p_window_seconds)
     order by a.created_at desc
     offset greatest(p_max, 1) - 1 limit 1
  ), 0)
$$;

-- login_retry_after(p_account text, p_ip text, p_window_seconds integer, p_max_account integer,
--   p_max_ip integer) returns integer: 0 = the login may be tried; else seconds to wait.
create function public.login_retry_after(
  p_account text, p_ip text, p_window_seconds integer, p_max_account integer, p_max_ip integer
) returns integer
language sql
stable
security invoker
set search_path = public, pg_temp
as $$
  select greatest(public.attempts_retry_after('login_account', p_account, p_window_seconds, p_max_account),
                  public.attempts_retry_after('login_ip', p_ip, p_window_seconds, p_max_ip))
$$;

-- record_login(p_account text, p_ip text, p_ok boolean): a failure counts against the account and
-- the IP; a success clears the account's failures. Rows older than a day are deleted on the way.
create function public.record_login(p_account text, p_ip text, p_ok boolean) returns void
language plpgsql
security invoker
set search_path = public, pg_temp
as $$
begin
  delete from public.auth_attempts where created_at < now() - interval '1 day'
     and ((scope = 'login_account' and key = p_account) or (scope = 'login_ip' and key = p_ip));
  if p_ok then
    delete from public.auth_attempts where scope = 'login_account' and key = p_account;
  else
    insert into public.auth_attempts (scope, key) values ('login_account', p_account), ('login_ip', p_ip);
  end if;
end
$$;

-- register_attempt(p_ip text, p_window_seconds integer, p_max integer) returns integer
--   Counts a registration from p_ip and returns 0, or returns the seconds to wait (and counts nothing)
--   when p_max were already made in the window. Serialised per IP.
create function public.register_attempt(p_ip text, p_window_seconds integer, p_max integer) returns integer
language plpgsql
security invoker
set search_path = public, pg_temp
as $$
declare
  v_wait integer;
begin
  perform pg_advisory_xact_lock(hashtextextended('register_ip:' || p_ip, 0));
  v_wait := public.attempts_retry_after('register_ip', p_ip, p_window_seconds, p_max);
  if v_wait > 0 then
    return v_wait;
  end if;
  delete from public.auth_attempts where scope = 'register_ip' and key = p_ip and created_at < now() - interval '1 day';
  insert into public.auth_attempts (scope, key) values ('register_ip', p_ip);
  return 0;
end
$$;
