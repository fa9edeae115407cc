-- Refusals that reveal nothing, names that cannot reorder text, and TURN
-- credentials bound to one call (issue 12, items 9, 11 and 12).
--
-- Blocks: a message, call or room invite to someone who blocked the
-- sender answered 403 `blocked`, while the same to any other non-friend
-- answered `not_friends`; that gave the block away (a friend request to
-- someone who blocked you is stored silently so that it does not). Now
-- only the blocker hears `blocked` (they know, and need to be told why
-- they cannot write: unblock first); the blocked user gets exactly what a
-- non-friend gets, `not_friends`, from the same checks in the same order.
--
-- ICE: call_invite(), call_accept() and room_join() take the TURN
-- credentials the calls service minted for this call (the database does
-- not hold the secret) and put them into call.invite, call.accepted and
-- room.peer_joined as `ice`. call_invite() takes the call id too, drawn
-- by the service beforehand, because the credential's username names it.
-- Their argument lists change, hence DROP and CREATE.

-- Bidi controls (Unicode Bidi_Control: U+061C, U+200E, U+200F,
-- U+202A..U+202E, U+2066..U+2069) reorder how a name is shown ("evil"
-- shown as "live"). The services strip them from display and group names
-- (shared/valid.c, VALID_NAME); this strips the names stored before, and
-- the constraints keep any other path from storing one again.
CREATE FUNCTION strip_bidi(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT translate(s, U&'\061C\200E\200F\202A\202B\202C\202D\202E\2066\2067\2068\2069', '')
$$;

UPDATE users SET display_name = CASE WHEN strip_bidi(display_name) = '' THEN username
                                     ELSE strip_bidi(display_name) END
    WHERE strip_bidi(display_name) <> display_name;
UPDATE conversations SET name = CASE WHEN strip_bidi(name) = '' THEN 'Group ' || id
                                     ELSE strip_bidi(name) END
    WHERE kind = 'group' AND strip_bidi(name) <> name;
ALTER TABLE users ADD CONSTRAINT users_display_name_no_bidi
    CHECK (strip_bidi(display_name) = display_name);
ALTER TABLE conversations ADD CONSTRAINT conversations_group_name_no_bidi
    CHECK (kind <> 'group' OR strip_bidi(name) = name);

-- status: created | duplicate | no_such_user | not_friends | blocked |
--         no_such_group | not_member
-- `blocked` only when the sender blocked `p_to`; blocked by `p_to`, the
-- sender gets `not_friends` like any non-friend. (The messages service
-- answers `not_member` as it answers `no_such_group`; a site, which
-- speaks for the group's members, is told which.)
CREATE OR REPLACE FUNCTION send_message(p_sender bigint, p_to bigint, p_group bigint,
    p_client text, p_type text, p_body jsonb,
    OUT status text, OUT message jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    conv    bigint;
    members bigint[];
    m       messages;
BEGIN
    IF p_client IS NOT NULL THEN
        -- Serializes retries of one client_id; the second sees the first.
        PERFORM pg_advisory_xact_lock(hashtextextended(p_sender || '/' || p_client, 11));
        SELECT * INTO m FROM messages WHERE sender_id = p_sender AND client_id = p_client;
        IF FOUND THEN
            status := 'duplicate'; message := message_json(m); RETURN;
        END IF;
    END IF;
    IF p_to IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(pair_key(p_sender, p_to));
        IF NOT EXISTS (SELECT 1 FROM users WHERE id = p_to) THEN
            status := 'no_such_user'; RETURN;
        END IF;
        IF EXISTS (SELECT 1 FROM blocks WHERE blocker_id = p_sender AND blocked_id = p_to) THEN
            status := 'blocked'; RETURN;
        END IF;
        IF EXISTS (SELECT 1 FROM blocks WHERE blocker_id = p_to AND blocked_id = p_sender)
           OR NOT EXISTS (SELECT 1 FROM friendships WHERE user_id = p_sender AND friend_id = p_to) THEN
            status := 'not_friends'; RETURN;
        END IF;
        INSERT INTO conversations (kind, user_lo, user_hi)
            VALUES ('direct', least(p_sender, p_to), greatest(p_sender, p_to))
            ON CONFLICT (user_lo, user_hi) DO NOTHING RETURNING id INTO conv;
        IF conv IS NULL THEN
            SELECT id INTO conv FROM conversations
                WHERE user_lo = least(p_sender, p_to) AND user_hi = greatest(p_sender, p_to);
        ELSE
            INSERT INTO conversation_members (conversation_id, user_id)
                VALUES (conv, p_sender), (conv, p_to);
        END IF;
        members := ARRAY[p_sender, p_to];
    ELSE
        -- The conversation row lock orders sends against member changes.
        PERFORM 1 FROM conversations WHERE id = p_group AND kind = 'group' FOR UPDATE;
        IF NOT FOUND THEN
            status := 'no_such_group'; RETURN;
        END IF;
        SELECT array_agg(user_id) INTO members FROM conversation_members
            WHERE conversation_id = p_group;
        IF members IS NULL OR NOT p_sender = ANY (members) THEN
            status := 'not_member'; RETURN;
        END IF;
        conv := p_group;
    END IF;
    UPDATE conversations SET head = head + 1 WHERE id = conv RETURNING head INTO m.seq;
    INSERT INTO messages (conversation_id, seq, sender_id, type, body, client_id)
        VALUES (conv, m.seq, p_sender, p_type, p_body, p_client) RETURNING * INTO m;
    message := message_json(m);
    woken := emit(members, 'message', jsonb_build_object('message', message));
    status := 'created';
END $$;

-- {key: value} when value is set, else {}: an optional event field.
CREATE FUNCTION jsonb_opt(p_key text, p_value jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_value IS NULL OR p_value = 'null' THEN '{}'::jsonb
                ELSE jsonb_build_object(p_key, p_value) END
$$;

-- status: created | no_such_user | blocked | not_friends | busy |
--         caller_busy | callee_offline
-- p_id: the new call's id (nextval of calls_id_seq, drawn by the service
-- so that the callee's TURN credential, p_ice, can name the call; NULL
-- draws one here). p_ice goes into call.invite as `ice`.
DROP FUNCTION call_invite(bigint, bigint, bigint, text, interval, interval);
CREATE FUNCTION call_invite(p_caller bigint, p_device bigint, p_callee bigint,
    p_media text, p_window interval, p_ring interval, p_id bigint, p_ice jsonb,
    OUT status text, OUT call jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    c calls;
BEGIN
    PERFORM pg_advisory_xact_lock(pair_key(p_caller, p_callee));
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = p_callee) THEN
        status := 'no_such_user'; RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM blocks WHERE blocker_id = p_caller AND blocked_id = p_callee) THEN
        status := 'blocked'; RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM blocks WHERE blocker_id = p_callee AND blocked_id = p_caller)
       OR NOT EXISTS (SELECT 1 FROM friendships WHERE user_id = p_caller AND friend_id = p_callee) THEN
        status := 'not_friends'; RETURN;
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
-- call.accepted as `ice` (the caller offers, and gathers, only now).
DROP FUNCTION call_accept(bigint, bigint, bigint);
CREATE FUNCTION call_accept(p_user bigint, p_device bigint, p_call bigint, p_ice jsonb,
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

-- status: created | no_such_user | not_friends | blocked
-- `blocked` only when the owner blocked an invitee; an invitee who
-- blocked the owner is refused as a non-friend.
CREATE OR REPLACE FUNCTION room_create(p_owner bigint, p_capacity int, p_media text,
    p_invite bigint[], OUT status text, OUT room jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    rid     bigint;
    invited bigint[];
BEGIN
    invited := ARRAY(SELECT DISTINCT u FROM unnest(p_invite) u WHERE u <> p_owner ORDER BY u);
    IF (SELECT count(*) FROM users WHERE id = ANY (invited)) < cardinality(invited) THEN
        status := 'no_such_user'; RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM blocks WHERE blocker_id = p_owner AND blocked_id = ANY (invited)) THEN
        status := 'blocked'; RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM blocks WHERE blocked_id = p_owner AND blocker_id = ANY (invited))
       OR (SELECT count(*) FROM friendships WHERE user_id = p_owner
           AND friend_id = ANY (invited)) < cardinality(invited) THEN
        status := 'not_friends'; RETURN;
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
DROP FUNCTION room_join(bigint, bigint, bigint);
CREATE FUNCTION room_join(p_user bigint, p_device bigint, p_room bigint, p_ice jsonb,
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
