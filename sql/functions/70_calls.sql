-- Calls and rooms (tables and lock order: sql/008, sql/013). The server
-- owns a call's state: it decides who is busy, ends unanswered calls and
-- calls whose party went offline (calls_sweep()), and leaves a record of
-- every ended call in the pair's conversation.

-- A call as its parties see it (duration in whole seconds once ended).
CREATE OR REPLACE FUNCTION call_json(c calls) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', c.id, 'state', c.state, 'from', c.caller_id, 'to', c.callee_id,
        'media', c.media, 'created_at', iso(c.created_at),
        'answered_at', iso(c.answered_at), 'ended_at', iso(c.ended_at),
        'reason', c.reason, 'ended_by', c.ended_by,
        'duration', CASE WHEN c.answered_at IS NOT NULL AND c.ended_at IS NOT NULL
            THEN floor(extract(epoch FROM c.ended_at - c.answered_at))::int END)
$$;

-- The record an ended call leaves in the pair's history (a 'call' message
-- from the caller; result missed | declined | canceled | completed). It
-- writes the message and returns its event for the caller to emit.
CREATE OR REPLACE FUNCTION call_record(c calls) RETURNS stream_event
LANGUAGE plpgsql AS $$
DECLARE
    conv   bigint;
    m      messages;
    result text;
BEGIN
    result := CASE
        WHEN c.answered_at IS NOT NULL THEN 'completed'
        WHEN c.reason = 'rejected' THEN 'declined'
        WHEN c.reason = 'canceled' THEN 'canceled'
        WHEN c.reason = 'disconnected' AND c.ended_by = c.caller_id THEN 'canceled'
        ELSE 'missed' END;
    conv := direct_conversation(c.caller_id, c.callee_id);
    UPDATE conversations SET head = head + 1 WHERE id = conv RETURNING head INTO m.seq;
    INSERT INTO messages (conversation_id, seq, sender_id, type, body)
        VALUES (conv, m.seq, c.caller_id, 'call', jsonb_strip_nulls(jsonb_build_object(
            'call_id', c.id, 'media', c.media, 'result', result, 'reason', c.reason,
            'duration', (call_json(c)) -> 'duration')))
        RETURNING * INTO m;
    RETURN ROW(ARRAY[c.caller_id, c.callee_id], 'message',
        jsonb_build_object('message', message_json(m)))::stream_event;
END $$;

-- Ends a locked live call without emitting: the call row, the record (the
-- conversation row), and the events to send, record first, then
-- call.timeout for an unanswered call or call.ended (none for a call
-- refused at once: busy, callee_offline).
CREATE OR REPLACE FUNCTION call_close(p_call bigint, p_reason text, p_by bigint,
    OUT call jsonb, OUT evs stream_event[])
LANGUAGE plpgsql AS $$
DECLARE
    c calls;
BEGIN
    UPDATE calls SET state = 'ended', reason = p_reason, ended_by = p_by,
        ended_at = now() WHERE id = p_call RETURNING * INTO c;
    call := call_json(c);
    evs := ARRAY[call_record(c)];
    IF p_reason NOT IN ('busy', 'callee_offline') THEN
        evs := evs || ROW(ARRAY[c.caller_id, c.callee_id],
            CASE WHEN p_reason = 'timeout' THEN 'call.timeout' ELSE 'call.ended' END,
            jsonb_build_object('call', call))::stream_event;
    END IF;
END $$;

-- call_close() and its one emit: the last step of call_invite() and
-- call_end().
CREATE OR REPLACE FUNCTION call_finish(p_call bigint, p_reason text, p_by bigint,
    OUT call jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    evs stream_event[];
BEGIN
    SELECT f.call, f.evs INTO call, evs FROM call_close(p_call, p_reason, p_by) f;
    woken := emit_events(evs);
END $$;

-- status: created | no_such_user | blocked | not_friends | busy |
--         caller_busy | callee_offline
-- p_id: the new call's id (nextval of calls_id_seq, drawn by the service
-- so that the callee's TURN credential, p_ice, can name the call; NULL
-- draws one here). p_ice goes into call.invite as `ice`.
CREATE OR REPLACE FUNCTION call_invite(p_caller bigint, p_device bigint, p_callee bigint,
    p_media text, p_window interval, p_ring interval, p_id bigint, p_ice jsonb,
    OUT status text, OUT call jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    c calls;
BEGIN
    PERFORM pg_advisory_xact_lock(pair_key(p_caller, p_callee));
    status := can_contact(p_caller, p_callee);
    IF status IS NOT NULL THEN
        RETURN;
    END IF;
    -- One live call per user: both users' call locks, in id order, make the
    -- check and the insert one step for every invite touching either.
    PERFORM pg_advisory_xact_lock(hashtextextended('call:' || least(p_caller, p_callee), 13));
    PERFORM pg_advisory_xact_lock(hashtextextended('call:' || greatest(p_caller, p_callee), 13));
    IF EXISTS (SELECT 1 FROM calls WHERE state <> 'ended'
               AND (caller_id = p_caller OR callee_id = p_caller)) THEN
        status := 'caller_busy'; RETURN;
    END IF;
    INSERT INTO calls (id, caller_id, callee_id, media, caller_device, ring_deadline)
        VALUES (coalesce(p_id, nextval(pg_get_serial_sequence('calls', 'id'))),
                p_caller, p_callee, p_media, p_device, now() + p_ring)
        RETURNING * INTO c;
    IF EXISTS (SELECT 1 FROM calls WHERE state <> 'ended' AND id <> c.id
               AND (caller_id = p_callee OR callee_id = p_callee)) THEN
        -- The callee sees a missed call in the history.
        SELECT f.call, f.woken INTO call, woken FROM call_finish(c.id, 'busy', p_callee) f;
        status := 'busy'; RETURN;
    END IF;
    IF NOT user_online(p_callee, p_window) THEN
        SELECT f.call, f.woken INTO call, woken FROM call_finish(c.id, 'callee_offline', p_callee) f;
        status := 'callee_offline'; RETURN;
    END IF;
    call := call_json(c);
    woken := emit(ARRAY[p_callee], 'call.invite', jsonb_build_object('call', call,
        'caller', (SELECT jsonb_build_object('id', id, 'username', username,
                   'display_name', display_name) FROM users WHERE id = p_caller))
        || jsonb_opt('ice', p_ice));
    status := 'created';
END $$;

-- status: ok | not_found | not_callee | answered_elsewhere | ended
-- p_ice: the caller's TURN credentials for this call, sent with
-- call.accepted as `ice` (the caller offers, and gathers, only now). The
-- caller's call.accepted and the callee's call.answered_elsewhere go out
-- in one emit.
CREATE OR REPLACE FUNCTION call_accept(p_user bigint, p_device bigint, p_call bigint, p_ice jsonb,
    OUT status text, OUT call jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    c calls;
BEGIN
    SELECT * INTO c FROM calls WHERE id = p_call FOR UPDATE;
    IF NOT FOUND OR p_user NOT IN (c.caller_id, c.callee_id) THEN
        status := 'not_found'; RETURN;
    ELSIF p_user <> c.callee_id THEN
        status := 'not_callee'; RETURN;
    ELSIF c.state = 'ended' THEN
        status := 'ended'; RETURN;
    ELSIF c.state = 'active' THEN
        -- A retried accept from the winning device is answered again.
        status := CASE WHEN c.callee_device = p_device THEN 'ok'
                       ELSE 'answered_elsewhere' END;
        call := call_json(c);
        RETURN;
    END IF;
    UPDATE calls SET state = 'active', answered_at = now(), callee_device = p_device
        WHERE id = p_call RETURNING * INTO c;
    call := call_json(c);
    woken := emit_events(ARRAY[
        ROW(ARRAY[c.caller_id], 'call.accepted',
            jsonb_build_object('call', call) || jsonb_opt('ice', p_ice))::stream_event,
        ROW(ARRAY[c.callee_id], 'call.answered_elsewhere',
            jsonb_build_object('call', call, 'device', p_device))::stream_event]);
    status := 'ok';
END $$;

-- p_action: reject (callee, ringing) | cancel (caller, ringing) |
--           hangup (either party, active)
-- status: ok | not_found | not_callee | not_caller | not_ringing |
--         not_active | ended
CREATE OR REPLACE FUNCTION call_end(p_user bigint, p_call bigint, p_action text,
    OUT status text, OUT call jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    c calls;
BEGIN
    SELECT * INTO c FROM calls WHERE id = p_call FOR UPDATE;
    IF NOT FOUND OR p_user NOT IN (c.caller_id, c.callee_id) THEN
        status := 'not_found'; RETURN;
    ELSIF p_action = 'reject' AND p_user <> c.callee_id THEN
        status := 'not_callee'; RETURN;
    ELSIF p_action = 'cancel' AND p_user <> c.caller_id THEN
        status := 'not_caller'; RETURN;
    ELSIF c.state = 'ended' THEN
        status := 'ended'; call := call_json(c); RETURN;
    ELSIF p_action IN ('reject', 'cancel') AND c.state <> 'ringing' THEN
        status := 'not_ringing'; RETURN;
    ELSIF p_action = 'hangup' AND c.state <> 'active' THEN
        status := 'not_active'; RETURN;
    END IF;
    SELECT f.call, f.woken INTO call, woken FROM call_finish(p_call,
        CASE p_action WHEN 'reject' THEN 'rejected' WHEN 'cancel' THEN 'canceled'
                      ELSE 'hangup' END, p_user) f;
    status := 'ok';
END $$;

-- Relays one signal to the other party. The row lock orders a call's
-- signals: the other party reads them in the order they were accepted.
-- The callee signals only from the device that answered: before an answer
-- no device of theirs is in the call.
-- status: ok | not_found | ended | wrong_device | too_many | not_answered
CREATE OR REPLACE FUNCTION call_signal(p_user bigint, p_device bigint, p_call bigint,
    p_kind text, p_data jsonb, p_max int,
    OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    c     calls;
    other bigint;
BEGIN
    SELECT * INTO c FROM calls WHERE id = p_call FOR UPDATE;
    IF NOT FOUND OR p_user NOT IN (c.caller_id, c.callee_id) THEN
        status := 'not_found'; RETURN;
    ELSIF c.state = 'ended' THEN
        status := 'ended'; RETURN;
    END IF;
    IF p_user = c.caller_id THEN
        IF p_device <> c.caller_device THEN
            status := 'wrong_device'; RETURN;
        ELSIF c.caller_signals >= p_max THEN
            status := 'too_many'; RETURN;
        END IF;
        UPDATE calls SET caller_signals = caller_signals + 1 WHERE id = p_call;
        other := c.callee_id;
    ELSE
        IF c.state = 'ringing' THEN
            status := 'not_answered'; RETURN;
        ELSIF p_device <> c.callee_device THEN
            status := 'wrong_device'; RETURN;
        ELSIF c.callee_signals >= p_max THEN
            status := 'too_many'; RETURN;
        END IF;
        UPDATE calls SET callee_signals = callee_signals + 1 WHERE id = p_call;
        other := c.caller_id;
    END IF;
    woken := emit(ARRAY[other], 'call.signal', jsonb_build_object('call_id', c.id,
        'kind', p_kind, 'data', p_data, 'from', p_user));
    status := 'ok';
END $$;

-- A room: owner, members in the order they joined, everyone invited.
CREATE OR REPLACE FUNCTION room_json(p_room bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', r.id, 'owner', r.owner_id,
        'capacity', r.capacity, 'media', r.media,
        'created_at', iso(r.created_at), 'closed', r.closed_at IS NOT NULL,
        'members', coalesce((SELECT jsonb_agg(m.user_id ORDER BY m.joined_at, m.user_id)
            FROM room_members m WHERE m.room_id = r.id), '[]'),
        'invited', coalesce((SELECT jsonb_agg(i.user_id ORDER BY i.user_id)
            FROM room_invites i WHERE i.room_id = r.id), '[]'))
    FROM rooms r WHERE r.id = p_room
$$;

-- status: created | no_such_user | not_friends | blocked
-- `blocked` only when the owner blocked an invitee; an invitee who
-- blocked the owner is refused as a non-friend (can_contact()).
CREATE OR REPLACE FUNCTION room_create(p_owner bigint, p_capacity int, p_media text,
    p_invite bigint[], OUT status text, OUT room jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    rid     bigint;
    invited bigint[];
BEGIN
    invited := ARRAY(SELECT DISTINCT u FROM unnest(p_invite) u WHERE u <> p_owner ORDER BY u);
    -- Every invitee by can_contact(); the first refusal in its order
    -- (no_such_user, then blocked, then not_friends) answers for all.
    status := (SELECT r FROM unnest(invited) u, can_contact(p_owner, u) r
               WHERE r IS NOT NULL
               ORDER BY array_position(ARRAY['no_such_user', 'blocked', 'not_friends'], r)
               LIMIT 1);
    IF status IS NOT NULL THEN
        RETURN;
    END IF;
    INSERT INTO rooms (owner_id, capacity, media) VALUES (p_owner, p_capacity, p_media)
        RETURNING id INTO rid;
    INSERT INTO room_invites (room_id, user_id)
        SELECT rid, u FROM unnest(invited || p_owner) u;
    room := room_json(rid);
    woken := emit(invited, 'room.invite', jsonb_build_object('room', room,
        'from', (SELECT jsonb_build_object('id', id, 'username', username,
                 'display_name', display_name) FROM users WHERE id = p_owner)));
    status := 'created';
END $$;

-- Joining (again, from the same or another device) tells the others, who
-- drop any old connection to this user and wait for its offers: the joiner
-- is the initiator towards every peer already in the room. Each peer's
-- room.peer_joined carries, as `ice`, that peer's TURN credentials for
-- the room: p_ice maps user ids (as text) to them, for everyone invited
-- (the invitations never change once the room exists).
-- status: ok | not_found | not_invited | closed | full
-- (the calls service answers not_invited as it answers not_found)
CREATE OR REPLACE FUNCTION room_join(p_user bigint, p_device bigint, p_room bigint, p_ice jsonb,
    OUT status text, OUT peers bigint[], OUT room jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    r rooms;
BEGIN
    SELECT * INTO r FROM rooms WHERE id = p_room FOR UPDATE;
    IF NOT FOUND THEN
        status := 'not_found'; RETURN;
    ELSIF NOT EXISTS (SELECT 1 FROM room_invites WHERE room_id = p_room AND user_id = p_user) THEN
        status := 'not_invited'; RETURN;
    ELSIF r.closed_at IS NOT NULL THEN
        status := 'closed'; RETURN;
    END IF;
    peers := ARRAY(SELECT user_id FROM room_members WHERE room_id = p_room
        AND user_id <> p_user ORDER BY joined_at, user_id);
    IF NOT EXISTS (SELECT 1 FROM room_members WHERE room_id = p_room AND user_id = p_user) THEN
        IF cardinality(peers) >= r.capacity THEN
            status := 'full'; RETURN;
        END IF;
        INSERT INTO room_members (room_id, user_id, device) VALUES (p_room, p_user, p_device);
    ELSE
        UPDATE room_members SET device = p_device, signals = 0
            WHERE room_id = p_room AND user_id = p_user;
    END IF;
    room := room_json(p_room);
    IF cardinality(peers) = 0 THEN
        woken := '{}';
    ELSE
        woken := emit_events(ARRAY(
            SELECT ROW(ARRAY[p], 'room.peer_joined', jsonb_build_object('room_id', p_room,
                'user_id', p_user, 'members', room -> 'members')
                || jsonb_opt('ice', p_ice -> p::text))::stream_event
            FROM unnest(peers) WITH ORDINALITY AS x (p, n) ORDER BY n));
    END IF;
    status := 'ok';
END $$;

-- Leaves a room without emitting: the room row, the seat, and the events
-- (room.peer_left to those still in; room.closed to everyone invited when
-- nobody is). status: ok | not_found | not_member
CREATE OR REPLACE FUNCTION room_depart(p_user bigint, p_room bigint, p_reason text,
    OUT status text, OUT evs stream_event[])
LANGUAGE plpgsql AS $$
DECLARE
    rest bigint[];
BEGIN
    evs := '{}';
    PERFORM 1 FROM rooms WHERE id = p_room FOR UPDATE;
    IF NOT FOUND OR NOT EXISTS (SELECT 1 FROM room_invites
                                WHERE room_id = p_room AND user_id = p_user) THEN
        status := 'not_found'; RETURN;
    END IF;
    DELETE FROM room_members WHERE room_id = p_room AND user_id = p_user;
    IF NOT FOUND THEN
        status := 'not_member'; RETURN;
    END IF;
    rest := ARRAY(SELECT user_id FROM room_members WHERE room_id = p_room ORDER BY user_id);
    evs := ARRAY[ROW(rest, 'room.peer_left', jsonb_build_object('room_id', p_room,
        'user_id', p_user, 'reason', p_reason))::stream_event];
    IF cardinality(rest) = 0 THEN
        UPDATE rooms SET closed_at = now() WHERE id = p_room;
        evs := evs || ROW(ARRAY(SELECT user_id FROM room_invites WHERE room_id = p_room),
            'room.closed', jsonb_build_object('room_id', p_room))::stream_event;
    END IF;
    status := 'ok';
END $$;

-- status: ok | not_found | not_member
CREATE OR REPLACE FUNCTION room_leave(p_user bigint, p_room bigint, p_reason text,
    OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    evs stream_event[];
BEGIN
    SELECT d.status, d.evs INTO status, evs FROM room_depart(p_user, p_room, p_reason) d;
    IF status = 'ok' THEN
        woken := emit_events(evs);
    END IF;
END $$;

-- status: ok | not_found | not_member | peer_not_member | too_many
CREATE OR REPLACE FUNCTION room_signal(p_user bigint, p_room bigint, p_to bigint,
    p_kind text, p_data jsonb, p_max int,
    OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    sent integer;
BEGIN
    SELECT signals INTO sent FROM room_members WHERE room_id = p_room AND user_id = p_user
        FOR UPDATE;
    IF NOT FOUND THEN
        status := CASE WHEN EXISTS (SELECT 1 FROM room_invites
                                    WHERE room_id = p_room AND user_id = p_user)
                       THEN 'not_member' ELSE 'not_found' END;
        RETURN;
    ELSIF NOT EXISTS (SELECT 1 FROM room_members WHERE room_id = p_room AND user_id = p_to)
          OR p_to = p_user THEN
        status := 'peer_not_member'; RETURN;
    ELSIF sent >= p_max THEN
        status := 'too_many'; RETURN;
    END IF;
    UPDATE room_members SET signals = signals + 1 WHERE room_id = p_room AND user_id = p_user;
    woken := emit(ARRAY[p_to], 'room.signal', jsonb_build_object('room_id', p_room,
        'kind', p_kind, 'data', p_data, 'from', p_user));
    status := 'ok';
END $$;

-- The calls service's timers, run every second (rows already locked by a
-- request or another sweeper are left for the next round):
--  * ringing calls past their deadline end with 'timeout';
--  * live calls with a party none of whose devices is online end with
--    'disconnected' (found first, then locked and checked again: the
--    sweep never holds every live call, sql/009);
--  * room members gone offline leave ('disconnected'); rooms nobody joined
--    within p_idle close.
-- Every call, seat and room this round ends is locked and written first;
-- all their events go out in one emit at the end (sql/013).
CREATE OR REPLACE FUNCTION calls_sweep(p_window interval, p_idle interval) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    evs  stream_event[] := '{}';
    c    calls;
    gone bigint;
    rec  record;
BEGIN
    FOR c IN SELECT * FROM calls WHERE state = 'ringing' AND ring_deadline <= now()
             ORDER BY id FOR UPDATE SKIP LOCKED LOOP
        evs := evs || (call_close(c.id, 'timeout', NULL)).evs;
    END LOOP;
    FOR c IN SELECT * FROM calls WHERE id IN (
                 SELECT id FROM calls WHERE state <> 'ended'
                   AND (NOT user_online(caller_id, p_window)
                        OR NOT user_online(callee_id, p_window)))
             ORDER BY id FOR UPDATE SKIP LOCKED LOOP
        CONTINUE WHEN c.state = 'ended';
        gone := CASE WHEN NOT user_online(c.caller_id, p_window) THEN c.caller_id
                     WHEN NOT user_online(c.callee_id, p_window) THEN c.callee_id END;
        IF gone IS NOT NULL THEN
            evs := evs || (call_close(c.id, 'disconnected', gone)).evs;
        END IF;
    END LOOP;
    FOR rec IN SELECT m.room_id, m.user_id FROM room_members m
               WHERE NOT user_online(m.user_id, p_window) ORDER BY 1, 2 LOOP
        evs := evs || (room_depart(rec.user_id, rec.room_id, 'disconnected')).evs;
    END LOOP;
    FOR rec IN SELECT r.id FROM rooms r WHERE r.closed_at IS NULL
               AND r.created_at < now() - p_idle
               AND NOT EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id)
               FOR UPDATE SKIP LOCKED LOOP
        UPDATE rooms SET closed_at = now() WHERE id = rec.id;
        evs := evs || ROW(ARRAY(SELECT user_id FROM room_invites WHERE room_id = rec.id),
            'room.closed', jsonb_build_object('room_id', rec.id))::stream_event;
    END LOOP;
    IF cardinality(evs) = 0 THEN
        RETURN '{}';
    END IF;
    RETURN emit_events(evs);
END $$;
