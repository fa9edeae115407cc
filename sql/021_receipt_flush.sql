-- Coalesced delivery receipts.
--
-- poll_ack() used to emit message.delivered into every sender's stream in
-- the acknowledging transaction. For a message to a 500-member group that
-- was 499 transactions queueing on the sender's stream row lock, each
-- also waking the sender (bench figure 4: 128 ms to the last member, one
-- recipient 4 ms). Now poll_ack() still raises the member's own
-- delivered_seq (its own row) but only appends what it would have told
-- to receipt_pending; the poll service's flusher (services/poll/
-- poll_receipts.c) calls receipts_flush() every PARLEY_RECEIPT_FLUSH_MS
-- while there is something to flush, and that one transaction emits per
-- (conversation, sender, seq) one message.delivered naming every member
-- who reached seq: a 500-member message costs the sender a few events.
--
-- Pending rows are in the database, so a poll service that dies between
-- an acknowledgement and its flush loses nothing: the next flusher (any
-- poll process, any host; one at a time under an advisory lock) sends it.

-- What an acknowledgement owes: `user_id` (whose device acknowledged)
-- reached `seq` in the conversation; `senders` are the senders of the
-- newly acknowledged messages (the member excluded), the receipt's
-- recipients. Append-only for poll_ack() (no row is ever updated, so an
-- acknowledgement never waits for the flusher); no foreign keys, whose
-- KEY SHARE on the conversation row would queue the acknowledgements of a
-- group behind its sends (send_message() locks that row). A deleted
-- conversation's or user's rows are dropped by the flush.
CREATE TABLE receipt_pending (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL,
    user_id         bigint NOT NULL,
    seq             bigint NOT NULL,
    senders         bigint[] NOT NULL
);

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

-- The most member ids one message.delivered carries (a group has at most
-- 500 members; a bigger set is split into several events).
CREATE FUNCTION receipt_max_ids() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 500 $$;

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
CREATE FUNCTION receipts_flush(p_batch int,
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
