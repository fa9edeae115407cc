-- The operator console's actions (sql/019): each checks, acts, writes its
-- audit row and emits its events in one transaction.

-- One audit row, written by the action's own transaction. Takes no lock
-- but the foreign-key check on the admin's users row. An admin whose
-- account is gone fails the whole action: nothing happens unlogged.
CREATE OR REPLACE FUNCTION admin_log(p_admin bigint, p_action text, p_type text,
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
CREATE OR REPLACE FUNCTION admin_end_sessions(p_user bigint, OUT ended integer,
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

-- The presence event admin_end_sessions() owes the friends, if any.
CREATE OR REPLACE FUNCTION admin_offline_emit(p_user bigint, p_offline boolean)
RETURNS bigint[]
LANGUAGE sql AS $$
    SELECT CASE WHEN p_offline THEN emit(friends_of(p_user), 'presence',
        jsonb_build_object('user_id', p_user, 'online', false)) ELSE '{}' END
$$;

-- status: ok | not_found
CREATE OR REPLACE FUNCTION admin_kick(p_admin bigint, p_user bigint, p_reason text,
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
CREATE OR REPLACE FUNCTION admin_suspend(p_admin bigint, p_user bigint, p_suspend boolean,
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

-- status: ok | not_found | not_member
CREATE OR REPLACE FUNCTION admin_group_remove(p_admin bigint, p_group bigint, p_user bigint,
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
CREATE OR REPLACE FUNCTION admin_group_delete(p_admin bigint, p_group bigint,
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
CREATE OR REPLACE FUNCTION admin_message_delete(p_admin bigint, p_msg bigint,
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
