-- What a poll acknowledges: delivery marks, presence, coalesced receipts
-- (sql/013, sql/021).

-- Delivery marks and presence. The session row, then the device's
-- membership rows (conversation order), then the presence row, then the
-- streams (presence only: the receipts go to receipt_pending, appended
-- after the membership rows and locking nothing).
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
                INSERT INTO receipt_pending (conversation_id, user_id, seq, senders)
                    VALUES (rec.conv, p_user, rec.seq, rec.senders);
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

-- One flush: takes up to p_batch pending rows (oldest first) and emits,
-- per conversation, sender and seq, one message.delivered to the sender
-- naming the members who reached seq. A member with several rows counts
-- with its highest seq per sender, so a sender never sees a member's mark
-- go back. Shapes (docs/EVENTS.md): direct {conversation_id, user_id,
-- seq}, as before; group {conversation_id, user_id, user_ids, seq},
-- user_ids ascending, user_id its first (what a client that knows only
-- user_id reads).
--
-- One flusher at a time (a try-lock: a second one returns busy at once and
-- tries again a flush interval later), so concurrent flushers never split
-- one interval's receipts into more events. Lock order: the advisory lock,
-- the pending rows, then the streams in one emit_events() (sql/013).
-- Returns the senders to wake, how many rows were taken (p_batch: call
-- again), and busy.
CREATE OR REPLACE FUNCTION receipts_flush(p_batch int,
    OUT woken bigint[], OUT taken int, OUT busy boolean)
LANGUAGE plpgsql AS $$
DECLARE
    evs stream_event[];
BEGIN
    woken := '{}';
    taken := 0;
    busy := NOT pg_try_advisory_xact_lock(hashtextextended('parley receipts_flush', 21));
    IF busy THEN
        RETURN;
    END IF;
    WITH d AS (
        DELETE FROM receipt_pending WHERE id IN (
            SELECT id FROM receipt_pending ORDER BY id LIMIT p_batch
            FOR UPDATE SKIP LOCKED)
        RETURNING conversation_id, user_id, seq, senders
    ), s AS (
        SELECT d.conversation_id AS conv, x.sender, d.user_id AS member,
               max(d.seq) AS seq
        FROM d CROSS JOIN LATERAL unnest(d.senders) AS x (sender)
        WHERE x.sender IS NOT NULL AND x.sender <> d.user_id
        GROUP BY 1, 2, 3
    ), r AS (
        SELECT s.*, c.kind, (row_number() OVER (PARTITION BY s.conv, s.sender, s.seq
                   ORDER BY s.member) - 1) / receipt_max_ids() AS part
        FROM s JOIN conversations c ON c.id = s.conv
    ), g AS (
        SELECT conv, sender, seq, kind, array_agg(member ORDER BY member) AS members
        FROM r GROUP BY conv, sender, seq, kind, part
    )
    SELECT (SELECT count(*) FROM d),
           array_agg(ROW(ARRAY[g.sender], 'message.delivered',
               CASE WHEN g.kind = 'group' THEN
                   jsonb_build_object('conversation_id', g.conv, 'user_id', g.members[1],
                       'user_ids', to_jsonb(g.members), 'seq', g.seq)
               ELSE
                   jsonb_build_object('conversation_id', g.conv, 'user_id', g.members[1],
                       'seq', g.seq)
               END)::stream_event ORDER BY g.sender, g.conv, g.seq, g.members[1])
        INTO taken, evs FROM g;
    IF cardinality(evs) > 0 THEN
        woken := emit_events(evs);
    END IF;
END $$;
