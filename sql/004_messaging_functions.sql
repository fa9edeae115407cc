-- Messaging write paths as functions: each send, read mark, recall or poll
-- acknowledgement is one round trip and one transaction (see
-- ../shared/NOTES.md: round trips per send are the write-rate budget).

CREATE FUNCTION message_json(m messages) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', m.id, 'conversation_id', m.conversation_id, 'seq', m.seq,
        'from', m.sender_id, 'type', m.type,
        'body', CASE WHEN m.recalled_at IS NULL THEN m.body END,
        'created_at', iso(m.created_at), 'client_id', m.client_id,
        'recalled', m.recalled_at IS NOT NULL)
$$;

-- The advisory key the friends service uses for a pair of users: a send
-- and a block of the same pair run one after the other.
CREATE FUNCTION pair_key(a bigint, b bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT hashtextextended(least(a, b) || ':' || greatest(a, b), 7)
$$;

-- status: created | duplicate | no_such_user | not_friends | blocked |
--         no_such_group | not_member
CREATE FUNCTION send_message(p_sender bigint, p_to bigint, p_group bigint,
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
        IF EXISTS (SELECT 1 FROM blocks WHERE (blocker_id = p_sender AND blocked_id = p_to)
                                          OR (blocker_id = p_to AND blocked_id = p_sender)) THEN
            status := 'blocked'; RETURN;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM friendships WHERE user_id = p_sender AND friend_id = p_to) THEN
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

-- Read up to p_seq (clamped to the head; never backwards). The senders of
-- the newly read messages and the reader's own devices get message.read.
-- status: ok | not_member
CREATE FUNCTION mark_read(p_user bigint, p_conv bigint, p_seq bigint,
    OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    old     bigint;
    newseq  bigint;
    senders bigint[];
BEGIN
    SELECT cm.read_seq, least(p_seq, c.head) INTO old, newseq
        FROM conversation_members cm JOIN conversations c ON c.id = cm.conversation_id
        WHERE cm.conversation_id = p_conv AND cm.user_id = p_user FOR UPDATE OF cm;
    IF NOT FOUND THEN
        status := 'not_member'; RETURN;
    END IF;
    status := 'ok';
    IF newseq <= old THEN
        RETURN;
    END IF;
    UPDATE conversation_members SET read_seq = newseq
        WHERE conversation_id = p_conv AND user_id = p_user;
    SELECT array_agg(DISTINCT sender_id) INTO senders FROM messages
        WHERE conversation_id = p_conv AND seq > old AND seq <= newseq
          AND sender_id IS NOT NULL AND sender_id <> p_user;
    woken := emit(coalesce(senders, '{}') || p_user, 'message.read',
        jsonb_build_object('conversation_id', p_conv, 'user_id', p_user, 'seq', newseq));
END $$;

-- status: ok | not_found | not_sender | too_late | already
CREATE FUNCTION recall_message(p_user bigint, p_msg bigint, p_window interval,
    OUT status text, OUT message jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    m       messages;
    members bigint[];
BEGIN
    SELECT msg.* INTO m FROM messages msg
        JOIN conversation_members cm ON cm.conversation_id = msg.conversation_id
            AND cm.user_id = p_user
        WHERE msg.id = p_msg FOR UPDATE OF msg;
    IF NOT FOUND THEN
        status := 'not_found'; RETURN;
    ELSIF m.sender_id IS DISTINCT FROM p_user THEN
        status := 'not_sender'; RETURN;
    ELSIF m.recalled_at IS NOT NULL THEN
        status := 'already'; message := message_json(m); RETURN;
    ELSIF m.created_at < now() - p_window THEN
        status := 'too_late'; RETURN;
    END IF;
    UPDATE messages SET recalled_at = now() WHERE id = p_msg RETURNING * INTO m;
    message := message_json(m);
    SELECT array_agg(user_id) INTO members FROM conversation_members
        WHERE conversation_id = m.conversation_id;
    woken := emit(members, 'message.recalled', jsonb_build_object(
        'message_id', m.id, 'conversation_id', m.conversation_id, 'seq', m.seq));
    status := 'ok';
END $$;

-- Friends of a user (for presence fan-out).
CREATE FUNCTION friends_of(p_user bigint) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(friend_id), '{}') FROM friendships WHERE user_id = p_user
$$;

-- A device polled with cursor p_since: records the acknowledgement (which
-- gives the senders message.delivered once per conversation high-water
-- mark) and the poll time (which keeps the user online). Returns the users
-- whose streams got events.
CREATE FUNCTION poll_ack(p_session bigint, p_user bigint, p_since bigint)
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    old    bigint;
    woken  bigint[] := '{}';
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
                woken := woken || emit(rec.senders, 'message.delivered',
                    jsonb_build_object('conversation_id', rec.conv,
                                       'user_id', p_user, 'seq', rec.seq));
            END IF;
        END LOOP;
    END IF;
    -- Presence: the first poll after being offline tells the friends.
    INSERT INTO presence AS p (user_id, online) VALUES (p_user, true)
        ON CONFLICT (user_id) DO UPDATE SET online = true, since = now()
        WHERE NOT p.online;
    IF FOUND THEN
        woken := woken || emit(friends_of(p_user), 'presence',
            jsonb_build_object('user_id', p_user, 'online', true));
    END IF;
    RETURN woken;
END $$;

-- Users none of whose devices polled within p_window go offline; their
-- friends get presence events. Run on a tick by the poll service.
CREATE FUNCTION presence_sweep(p_window interval) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    woken bigint[] := '{}';
    u     bigint;
BEGIN
    FOR u IN
        UPDATE presence p SET online = false, since = now()
        WHERE p.online AND NOT EXISTS (
            SELECT 1 FROM sessions s WHERE s.user_id = p.user_id
              AND s.revoked_at IS NULL AND s.last_poll_at > now() - p_window)
        RETURNING p.user_id
    LOOP
        woken := woken || emit(friends_of(u), 'presence',
            jsonb_build_object('user_id', u, 'online', false));
    END LOOP;
    RETURN woken;
END $$;

-- Retention: deletes events older than p_keep (at most p_batch rows) and
-- raises each stream's floor so a cursor below it gets 410.
CREATE FUNCTION prune_events(p_keep interval, p_batch int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    WITH d AS (
        DELETE FROM events WHERE ctid = ANY (ARRAY(
            SELECT ctid FROM events WHERE created_at < now() - p_keep LIMIT p_batch))
        RETURNING user_id, seq
    ), f AS (
        SELECT user_id, max(seq) AS seq, count(*) AS n FROM d GROUP BY user_id
    ), u AS (
        UPDATE streams s SET floor = greatest(s.floor, f.seq)
        FROM f WHERE s.user_id = f.user_id RETURNING f.n
    )
    SELECT coalesce(sum(u.n), 0) INTO n FROM u;
    RETURN n;
END $$;
