-- The operator console (issue 17): who is an admin, suspended accounts,
-- the audit log, and the database functions of the admin service
-- (services/admin). Every admin action is one function: it checks, acts,
-- writes its audit row and emits its events in one transaction, so an
-- action is in the log if and only if it happened.

-- Admins are granted and revoked only by `scripts/parley admin`, as the
-- schema owner. The services' role may read the table, never write it
-- (the REVOKE at the end), so no request to any service can make anyone
-- an admin, whatever goes wrong in it.
CREATE TABLE admins (
    user_id    bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by text NOT NULL CHECK (char_length(granted_by) BETWEEN 1 AND 80)
);

-- A suspended user cannot log in (auth_session_start() in shared/auth.c
-- inserts a session only for a user who is not), no session of theirs is
-- accepted (the lookups there join users), and suspending revokes them
-- all. Their messages, friendships and groups stay.
ALTER TABLE users ADD COLUMN suspended_at timestamptz;

-- What operators did. admin_id is the admin (NULL for the command line,
-- or once that account is deleted); actor keeps who it was: the admin's
-- username at the time, or "cli:<OS user>". Append-only for the services'
-- role (see the REVOKE below).
CREATE TABLE admin_audit (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    admin_id    bigint REFERENCES users (id) ON DELETE SET NULL,
    actor       text NOT NULL CHECK (char_length(actor) BETWEEN 1 AND 80),
    action      text NOT NULL CHECK (action ~ '^[a-z]+\.[a-z_]+$'),
    target_type text NOT NULL CHECK (target_type IN ('user', 'group', 'message')),
    target_id   bigint NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
                CHECK (jsonb_typeof(detail) = 'object' AND length(detail::text) <= 65536)
);
CREATE INDEX admin_audit_target ON admin_audit (target_type, target_id, id);

-- Which transport keeps a session online: the poll service and the
-- WebSocket gateway both refresh last_poll_at (poll_ack(), their
-- janitors) with the same shared statements, and differ only in the
-- connection's application_name (shared/db.c sets it to the service's
-- name; the gateway's are parley-gateway*). NULL: not refreshed since this migration.
ALTER TABLE sessions ADD COLUMN transport text
    CHECK (transport IN ('poll', 'websocket'));

CREATE FUNCTION sessions_transport() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The gateway has several connections per worker (parley-gateway,
    -- -async for acks, -listen), all named from parley-gateway.
    NEW.transport := CASE
        WHEN current_setting('application_name') = 'poll' THEN 'poll'
        WHEN current_setting('application_name') LIKE 'parley-gateway%'
            OR current_setting('application_name') = 'gateway'
            THEN 'websocket'
        ELSE NEW.transport END;
    RETURN NEW;
END $$;

CREATE TRIGGER sessions_transport BEFORE UPDATE OF last_poll_at ON sessions
    FOR EACH ROW WHEN (NEW.last_poll_at IS DISTINCT FROM OLD.last_poll_at)
    EXECUTE FUNCTION sessions_transport();

-- One audit row, written by the action's own transaction. Takes no lock
-- but the foreign-key check on the admin's users row. An admin whose
-- account is gone fails the whole action: nothing happens unlogged.
CREATE FUNCTION admin_log(p_admin bigint, p_action text, p_type text,
    p_target bigint, p_detail jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    got bigint;
BEGIN
    INSERT INTO admin_audit (admin_id, actor, action, target_type, target_id, detail)
    SELECT p_admin, u.username, p_action, p_type, p_target,
           jsonb_strip_nulls(coalesce(p_detail, '{}'))
    FROM users u WHERE u.id = p_admin
    RETURNING id INTO got;
    IF got IS NULL THEN
        RAISE EXCEPTION 'admin % does not exist', p_admin;
    END IF;
    RETURN got;
END $$;

-- Ends every live session of p_user (their parked polls wake through the
-- trigger of sql/014 and answer 401; the gateway closes sockets with
-- 4401), and takes the user offline at once instead of after the online
-- window: no session of theirs is left to poll. Lock order: session rows in
-- id order, then the presence row. `offline`: tell the friends, with
-- admin_offline_emit() (the streams come last, after the audit row).
CREATE FUNCTION admin_end_sessions(p_user bigint, OUT ended integer,
    OUT offline boolean)
LANGUAGE plpgsql AS $$
BEGIN
    WITH s AS (
        SELECT id FROM sessions
        WHERE user_id = p_user AND revoked_at IS NULL AND expires_at > now()
        ORDER BY id FOR UPDATE
    ), r AS (
        UPDATE sessions SET revoked_at = now()
        WHERE id IN (SELECT id FROM s) RETURNING 1
    )
    SELECT count(*) INTO ended FROM r;
    UPDATE presence SET online = false, since = now()
        WHERE user_id = p_user AND online;
    offline := FOUND;
END $$;

CREATE FUNCTION admin_offline_emit(p_user bigint, p_offline boolean)
RETURNS bigint[]
LANGUAGE sql AS $$
    SELECT CASE WHEN p_offline THEN emit(friends_of(p_user), 'presence',
        jsonb_build_object('user_id', p_user, 'online', false)) ELSE '{}' END
$$;

-- status: ok | not_found
CREATE FUNCTION admin_kick(p_admin bigint, p_user bigint, p_reason text,
    OUT status text, OUT ended integer, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    offline boolean;
BEGIN
    PERFORM 1 FROM users WHERE id = p_user;
    IF NOT FOUND THEN
        status := 'not_found'; RETURN;
    END IF;
    SELECT e.ended, e.offline INTO ended, offline FROM admin_end_sessions(p_user) e;
    PERFORM admin_log(p_admin, 'user.kick', 'user', p_user,
        jsonb_build_object('reason', p_reason, 'sessions', ended));
    woken := admin_offline_emit(p_user, offline);
    status := 'ok';
END $$;

-- Suspends (p_suspend) or restores an account. Suspending ends every
-- session as a kick does; an admin cannot suspend themselves (they would
-- lock themselves out). The users row comes before the sessions, the
-- order in which a login's session insert takes them (shared/auth.c).
-- status: ok | not_found | self
CREATE FUNCTION admin_suspend(p_admin bigint, p_user bigint, p_suspend boolean,
    p_reason text, OUT status text, OUT changed boolean, OUT ended integer,
    OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    was     timestamptz;
    offline boolean := false;
BEGIN
    IF p_suspend AND p_user = p_admin THEN
        status := 'self'; RETURN;
    END IF;
    SELECT suspended_at INTO was FROM users WHERE id = p_user FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        status := 'not_found'; RETURN;
    END IF;
    changed := (was IS NULL) = p_suspend;
    IF changed THEN
        UPDATE users SET suspended_at = CASE WHEN p_suspend THEN now() END
            WHERE id = p_user;
    END IF;
    ended := 0;
    IF p_suspend THEN
        SELECT e.ended, e.offline INTO ended, offline FROM admin_end_sessions(p_user) e;
    END IF;
    PERFORM admin_log(p_admin, CASE WHEN p_suspend THEN 'user.suspend' ELSE 'user.restore' END,
        'user', p_user, jsonb_build_object('reason', p_reason, 'changed', changed,
            'sessions', CASE WHEN p_suspend THEN ended END));
    woken := admin_offline_emit(p_user, offline);
    status := 'ok';
END $$;

-- Takes p_user out of group p_group, whose row the caller has locked and
-- of which p_user is a member: hands an owner's group to the longest-
-- standing admin, else member, and tells everyone who was a member
-- (group.member_removed; `by` NULL when an operator did it). The one
-- rule for group_remove() and the admin service. Emits: call it last.
CREATE FUNCTION group_expel(p_group bigint, p_user bigint, p_by bigint)
RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    target text;
    heir   bigint;
    before bigint[] := group_member_ids(p_group);
BEGIN
    DELETE FROM conversation_members cm
        WHERE cm.conversation_id = p_group AND cm.user_id = p_user
        RETURNING cm.role INTO target;
    IF target = 'owner' THEN
        SELECT cm.user_id INTO heir FROM conversation_members cm
            WHERE cm.conversation_id = p_group
            ORDER BY cm.role = 'admin' DESC, cm.joined_at, cm.user_id LIMIT 1;
        IF heir IS NOT NULL THEN
            UPDATE conversation_members SET role = 'owner'
                WHERE conversation_id = p_group AND user_id = heir;
        END IF;
    END IF;
    RETURN emit(before, 'group.member_removed', jsonb_build_object(
        'group_id', p_group, 'user_id', p_user, 'by', p_by, 'new_owner', heir));
END $$;

-- The same function as in sql/006, its removal now group_expel().
CREATE OR REPLACE FUNCTION group_remove(p_actor bigint, p_group bigint, p_user bigint,
    OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    role   text := group_lock_role(p_actor, p_group);
    target text;
BEGIN
    IF role IS NULL THEN
        status := 'not_found'; RETURN;
    END IF;
    SELECT cm.role INTO target FROM conversation_members cm
        WHERE conversation_id = p_group AND user_id = p_user;
    IF target IS NULL THEN
        status := 'not_member'; RETURN;
    END IF;
    IF p_actor <> p_user AND NOT (role = 'owner' OR (role = 'admin' AND target = 'member')) THEN
        status := 'forbidden'; RETURN;
    END IF;
    woken := group_expel(p_group, p_user, p_actor);
    status := 'ok';
END $$;

-- status: ok | not_found | not_member
CREATE FUNCTION admin_group_remove(p_admin bigint, p_group bigint, p_user bigint,
    OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM conversations WHERE id = p_group AND kind = 'group' FOR UPDATE;
    IF NOT FOUND THEN
        status := 'not_found'; RETURN;
    END IF;
    PERFORM 1 FROM conversation_members WHERE conversation_id = p_group AND user_id = p_user;
    IF NOT FOUND THEN
        status := 'not_member'; RETURN;
    END IF;
    PERFORM admin_log(p_admin, 'group.remove_member', 'group', p_group,
        jsonb_build_object('user_id', p_user));
    woken := group_expel(p_group, p_user, NULL);
    status := 'ok';
END $$;

-- Deletes a group with its messages. Each member gets
-- group.member_removed about themselves (with `deleted`: true), the
-- event clients already act on: the conversation is gone for them.
-- Lock order: the group row, its member and message rows (the cascade),
-- the streams. status: ok | not_found
CREATE FUNCTION admin_group_delete(p_admin bigint, p_group bigint,
    OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    gname   text;
    members bigint[];
BEGIN
    SELECT name INTO gname FROM conversations WHERE id = p_group AND kind = 'group' FOR UPDATE;
    IF NOT FOUND THEN
        status := 'not_found'; RETURN;
    END IF;
    members := group_member_ids(p_group);
    PERFORM admin_log(p_admin, 'group.delete', 'group', p_group,
        jsonb_build_object('name', gname, 'members', to_jsonb(members),
            'messages', (SELECT head FROM conversations WHERE id = p_group)));
    DELETE FROM conversations WHERE id = p_group;
    woken := emit_events(ARRAY(
        SELECT ROW(ARRAY[u], 'group.member_removed', jsonb_build_object(
            'group_id', p_group, 'user_id', u, 'by', NULL, 'new_owner', NULL,
            'deleted', true))::stream_event
        FROM unnest(members) u ORDER BY u));
    status := 'ok';
END $$;

-- Deletes a message for everyone, as a recall does (the body is gone from
-- every reply; members get message.recalled, with by_operator: true),
-- and also erases the body from the database: an operator deletes what
-- must not be kept. The audit row keeps who sent what kind of message
-- where and when, never its content.
-- status: ok | not_found
CREATE FUNCTION admin_message_delete(p_admin bigint, p_msg bigint,
    OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    m       messages;
    members bigint[];
BEGIN
    SELECT * INTO m FROM messages WHERE id = p_msg FOR UPDATE;
    IF NOT FOUND THEN
        status := 'not_found'; RETURN;
    END IF;
    UPDATE messages SET recalled_at = coalesce(recalled_at, now()), body = '{}'
        WHERE id = p_msg;
    PERFORM admin_log(p_admin, 'message.delete', 'message', p_msg,
        jsonb_build_object('conversation_id', m.conversation_id, 'seq', m.seq,
            'from', m.sender_id, 'type', m.type, 'created_at', iso(m.created_at),
            'recalled_before', m.recalled_at IS NOT NULL));
    SELECT array_agg(user_id) INTO members FROM conversation_members
        WHERE conversation_id = m.conversation_id;
    woken := emit(coalesce(members, '{}'), 'message.recalled', jsonb_build_object(
        'message_id', m.id, 'conversation_id', m.conversation_id, 'seq', m.seq,
        'by_operator', true));
    status := 'ok';
END $$;

-- The services' role (every role the owner granted table rights to, by
-- default privileges) reads admins and appends to admin_audit, nothing
-- more. scripts/parley's pg_grants repeats this after its blanket GRANT.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT DISTINCT grantee FROM information_schema.role_table_grants
             WHERE table_schema = current_schema()
               AND table_name IN ('admins', 'admin_audit')
               AND grantee NOT IN (current_user, 'PUBLIC')
    LOOP
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON admins FROM %I', r.grantee);
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON admin_audit FROM %I', r.grantee);
    END LOOP;
END $$;
