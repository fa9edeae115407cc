-- Lock order: stream rows last, all at once, in user id order.
--
-- 003 said emit() makes fan-outs deadlock-free because it locks streams in
-- user id order. That holds for one emit() per transaction only. Under load
-- the database reported 11-45 deadlocks a minute, because
--  * poll_ack() emitted one message.delivered per conversation, each
--    locking that conversation's senders: across conversations the senders'
--    streams were locked in conversation order, not user id order, against
--    send_message() locking the same streams in id order;
--  * poll_ack() then took the presence row after those stream locks, while
--    presence_sweep() takes presence rows first and friends' streams after;
--  * presence_sweep(), room_leave() and calls_sweep() emitted once per
--    user, room or call; call_accept() emitted to the caller, then to the
--    callee; calls_sweep() wrote each call's record (the conversation row)
--    after earlier calls' stream locks, against send_message() taking the
--    conversation row before streams;
--  * prune_events() raised stream floors with one UPDATE in join order.
--
-- The rule now: a transaction takes its stream row locks in one step, and
-- that step is its last lock: emit() (one event) or emit_events() (several,
-- in order) is called at most once per transaction, after every other row
-- and advisory lock, and locks every stream it writes in user id order.
-- Functions that used to emit on the way collect stream_event values and
-- emit them at the end; helpers shared with sweeps (call_close,
-- room_depart) return their events instead of emitting.
--
-- Why this cannot deadlock: a transaction holding a stream lock only ever
-- waits for a stream of a higher user id (nothing else comes after), so
-- no wait-for cycle passes through a stream lock. The locks before it
-- follow one order: advisory locks (client id, pair, the two call locks in
-- id order), then rows: session, call, conversation, membership and
-- message, room, seat, presence. Where a transaction takes several rows of
-- one table it takes them in id order (presence, rooms, a device's
-- memberships) or SKIP LOCKED (the sweeps' calls and presence rows);
-- calls_sweep()'s several conversation rows are those of live calls,
-- whose pairs share no user, and every other writer takes one. The
-- only locks after the streams are the foreign-key checks of the events
-- insert (KEY SHARE on users rows); they conflict only with deleting a
-- user or changing an id or username, which no emitting transaction does.
--
-- Every event still goes to the same streams in the same relative order,
-- and each function returns the same users; send_message() is untouched
-- (a single emit() already).

-- One event for emit_events(): its recipients (duplicates count once, as
-- in emit()), type and data.
CREATE TYPE stream_event AS (users bigint[], type text, data jsonb);

-- Appends the events in array order (a user who gets several gets them
-- in that order), locking every recipient's stream first, all in one
-- statement in user id order. Each emit() after that locks again only
-- rows this transaction already holds, so it never waits. Returns the
-- emit() results concatenated, as the callers used to build them.
CREATE FUNCTION emit_events(evs stream_event[]) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    e   stream_event;
    got bigint[] := '{}';
BEGIN
    IF cardinality(evs) > 1 THEN
        PERFORM 1 FROM streams
            WHERE user_id = ANY (ARRAY(SELECT unnest(x.users) FROM unnest(evs) x))
            ORDER BY user_id FOR UPDATE;
    END IF;
    FOREACH e IN ARRAY coalesce(evs, '{}') LOOP
        got := got || emit(e.users, e.type, e.data);
    END LOOP;
    RETURN got;
END $$;

-- Delivery receipts and presence, with one emit at the end: the session
-- row, then the device's membership rows (conversation order), then the
-- presence row, then the streams.
CREATE OR REPLACE FUNCTION poll_ack(p_session bigint, p_user bigint, p_since bigint)
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    old    bigint;
    evs    stream_event[] := '{}';
    rec    record;
BEGIN
    SELECT s.acked_seq, least(p_since, st.head) INTO old, p_since
        FROM sessions s JOIN streams st ON st.user_id = s.user_id
        WHERE s.id = p_session FOR UPDATE OF s;
    UPDATE sessions SET last_poll_at = now(), acked_seq = greatest(acked_seq, p_since)
        WHERE id = p_session;
    IF p_since > old THEN
        FOR rec IN
            SELECT (data #>> '{message,conversation_id}')::bigint AS conv,
                   max((data #>> '{message,seq}')::bigint) AS seq,
                   array_agg(DISTINCT (data #>> '{message,from}')::bigint) AS senders
            FROM events
            WHERE user_id = p_user AND seq > old AND seq <= p_since AND type = 'message'
              AND (data #>> '{message,from}')::bigint <> p_user
            GROUP BY 1 ORDER BY 1
        LOOP
            UPDATE conversation_members SET delivered_seq = rec.seq
                WHERE conversation_id = rec.conv AND user_id = p_user
                  AND delivered_seq < rec.seq;
            IF FOUND THEN
                evs := evs || ROW(rec.senders, 'message.delivered',
                    jsonb_build_object('conversation_id', rec.conv,
                                       'user_id', p_user, 'seq', rec.seq))::stream_event;
            END IF;
        END LOOP;
    END IF;
    -- Presence: the first poll after being offline tells the friends.
    INSERT INTO presence AS p (user_id, online) VALUES (p_user, true)
        ON CONFLICT (user_id) DO UPDATE SET online = true, since = now()
        WHERE NOT p.online;
    IF FOUND THEN
        evs := evs || ROW(friends_of(p_user), 'presence',
            jsonb_build_object('user_id', p_user, 'online', true))::stream_event;
    END IF;
    IF cardinality(evs) = 0 THEN
        RETURN '{}';
    END IF;
    RETURN emit_events(evs);
END $$;

-- Takes the presence rows in user id order, skipping rows a poll_ack()
-- holds (that user is polling right now; the next sweep looks again) or
-- another sweep holds, then emits every friend's presence event at once.
CREATE OR REPLACE FUNCTION presence_sweep(p_window interval) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    gone bigint[];
BEGIN
    SELECT array_agg(q.user_id ORDER BY q.user_id) INTO gone FROM (
        SELECT p.user_id FROM presence p
        WHERE p.online AND NOT EXISTS (
            SELECT 1 FROM sessions s WHERE s.user_id = p.user_id
              AND s.revoked_at IS NULL AND s.last_poll_at > now() - p_window)
        ORDER BY p.user_id FOR UPDATE SKIP LOCKED) q;
    IF gone IS NULL THEN
        RETURN '{}';
    END IF;
    UPDATE presence SET online = false, since = now() WHERE user_id = ANY (gone);
    RETURN emit_events(ARRAY(
        SELECT ROW(friends_of(u), 'presence',
                   jsonb_build_object('user_id', u, 'online', false))::stream_event
        FROM unnest(gone) u ORDER BY u));
END $$;

-- Retention with the streams locked in user id order before their floors
-- rise (the UPDATE alone locked them in join order).
CREATE OR REPLACE FUNCTION prune_events(p_keep interval, p_batch int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    ids  bigint[];
    tops bigint[];
    cnts bigint[];
    n    bigint;
BEGIN
    WITH d AS (
        DELETE FROM events WHERE ctid = ANY (ARRAY(
            SELECT ctid FROM events WHERE created_at < now() - p_keep LIMIT p_batch))
        RETURNING user_id, seq
    )
    SELECT array_agg(user_id ORDER BY user_id), array_agg(top ORDER BY user_id),
           array_agg(cnt ORDER BY user_id) INTO ids, tops, cnts
        FROM (SELECT user_id, max(seq) AS top, count(*) AS cnt FROM d GROUP BY user_id) f;
    IF ids IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM 1 FROM streams WHERE user_id = ANY (ids) ORDER BY user_id FOR UPDATE;
    WITH u AS (
        UPDATE streams s SET floor = greatest(s.floor, f.top)
        FROM unnest(ids, tops, cnts) AS f (user_id, top, cnt)
        WHERE s.user_id = f.user_id RETURNING f.cnt
    )
    SELECT coalesce(sum(cnt), 0) INTO n FROM u;
    RETURN n;
END $$;

-- The record an ended call leaves in the pair's history (a 'call' message
-- from the caller; result missed | declined | canceled | completed). It
-- writes the message and returns its event for the caller to emit: it
-- used to emit itself, before call_finish() emitted again. The return type
-- changes, hence DROP; only call_close() below calls it.
DROP FUNCTION call_record(calls);
CREATE FUNCTION call_record(c calls) RETURNS stream_event
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
CREATE FUNCTION call_close(p_call bigint, p_reason text, p_by bigint,
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

-- status: ok | not_found | not_callee | answered_elsewhere | ended
-- The caller's call.accepted and the callee's call.answered_elsewhere in
-- one emit (they were two, caller first: not id order).
CREATE OR REPLACE FUNCTION call_accept(p_user bigint, p_device bigint, p_call bigint,
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
            jsonb_build_object('call', call))::stream_event,
        ROW(ARRAY[c.callee_id], 'call.answered_elsewhere',
            jsonb_build_object('call', call, 'device', p_device))::stream_event]);
    status := 'ok';
END $$;

-- Leaves a room without emitting: the room row, the seat, and the events
-- (room.peer_left to those still in; room.closed to everyone invited when
-- nobody is). status: ok | not_found | not_member
CREATE FUNCTION room_depart(p_user bigint, p_room bigint, p_reason text,
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

-- The calls service's timers (see 008 and 009): every call, seat and room
-- this round ends is locked and written first; all their events go out in
-- one emit at the end, in the order the old per-item emits had.
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
