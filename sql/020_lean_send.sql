-- A lean send_message() (issue 14, figure 1).
--
-- The common send (a text to a friend or to a group member, with a
-- client_id) ran about a dozen statements: two advisory locks, a duplicate
-- lookup, four pair checks (user, two blocks, friendship), an insert of
-- the conversation row ON CONFLICT DO NOTHING plus its lookup, the head
-- bump, the message insert and emit()'s two statements, each insert with
-- its foreign-key checks. Now it runs four: the pair lock, one UPDATE that
-- checks the pair (or the membership) and bumps the head, the message
-- insert, and one statement for the events. Everything else (a first
-- message, an upload, any refusal, a duplicate found before sending) takes
-- the full path below, which answers exactly as sql/018's did.

-- ------------------------------------------------------------ pair state

-- Friendship and block bits of an unordered pair, one row per pair that
-- ever had either; each bit mirrors one row of friendships or blocks (lo =
-- the lower user id). Maintained by the triggers below, so every writer
-- (the friends service, sites, admin functions, a test's or the bench's
-- plain SQL) keeps it right. Bits are set and cleared one at a time under
-- the row lock, never recomputed from a snapshot, so two writers of one
-- pair cannot lose each other's change.
CREATE TABLE pairs (
    user_lo      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_hi      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    lo_friend_hi boolean NOT NULL DEFAULT false, -- friendships (lo, hi)
    hi_friend_lo boolean NOT NULL DEFAULT false, -- friendships (hi, lo)
    lo_blocks_hi boolean NOT NULL DEFAULT false, -- blocks (lo, hi)
    hi_blocks_lo boolean NOT NULL DEFAULT false, -- blocks (hi, lo)
    PRIMARY KEY (user_lo, user_hi),
    CHECK (user_lo < user_hi)
);
CREATE INDEX pairs_hi ON pairs (user_hi);

-- Sets one bit of pair (a, b): `what` is 'friend' (a friendship a -> b)
-- or 'block' (a blocks b).
CREATE FUNCTION pair_set(a bigint, b bigint, what text, val boolean)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- Clearing never inserts: the row is there, or (a user's deletion
    -- cascading to friendships and pairs) already gone with the user.
    IF NOT val THEN
        UPDATE pairs SET
            lo_friend_hi = lo_friend_hi AND NOT (what = 'friend' AND a < b),
            hi_friend_lo = hi_friend_lo AND NOT (what = 'friend' AND a > b),
            lo_blocks_hi = lo_blocks_hi AND NOT (what = 'block' AND a < b),
            hi_blocks_lo = hi_blocks_lo AND NOT (what = 'block' AND a > b)
        WHERE user_lo = least(a, b) AND user_hi = greatest(a, b);
    ELSIF what = 'friend' THEN
        INSERT INTO pairs AS p (user_lo, user_hi, lo_friend_hi, hi_friend_lo)
            VALUES (least(a, b), greatest(a, b), val AND a < b, val AND a > b)
            ON CONFLICT (user_lo, user_hi) DO UPDATE SET
                lo_friend_hi = CASE WHEN a < b THEN val ELSE p.lo_friend_hi END,
                hi_friend_lo = CASE WHEN a > b THEN val ELSE p.hi_friend_lo END;
    ELSE
        INSERT INTO pairs AS p (user_lo, user_hi, lo_blocks_hi, hi_blocks_lo)
            VALUES (least(a, b), greatest(a, b), val AND a < b, val AND a > b)
            ON CONFLICT (user_lo, user_hi) DO UPDATE SET
                lo_blocks_hi = CASE WHEN a < b THEN val ELSE p.lo_blocks_hi END,
                hi_blocks_lo = CASE WHEN a > b THEN val ELSE p.hi_blocks_lo END;
    END IF;
END $$;

CREATE FUNCTION friendships_pair() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM pair_set(OLD.user_id, OLD.friend_id, 'friend', false);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pair_set(NEW.user_id, NEW.friend_id, 'friend', true);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER friendships_pair AFTER INSERT OR UPDATE OR DELETE ON friendships
    FOR EACH ROW EXECUTE FUNCTION friendships_pair();

CREATE FUNCTION blocks_pair() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM pair_set(OLD.blocker_id, OLD.blocked_id, 'block', false);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pair_set(NEW.blocker_id, NEW.blocked_id, 'block', true);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER blocks_pair AFTER INSERT OR UPDATE OR DELETE ON blocks
    FOR EACH ROW EXECUTE FUNCTION blocks_pair();

-- The rows that exist now. Nothing writes friendships or blocks while
-- migrations run (scripts/parley migrates before it starts services).
INSERT INTO pairs (user_lo, user_hi, lo_friend_hi, hi_friend_lo, lo_blocks_hi, hi_blocks_lo)
SELECT lo, hi, bool_or(k = 'f' AND a < b), bool_or(k = 'f' AND a > b),
       bool_or(k = 'b' AND a < b), bool_or(k = 'b' AND a > b)
FROM (SELECT 'f' AS k, user_id AS a, friend_id AS b, least(user_id, friend_id) AS lo,
             greatest(user_id, friend_id) AS hi FROM friendships
      UNION ALL
      SELECT 'b', blocker_id, blocked_id, least(blocker_id, blocked_id),
             greatest(blocker_id, blocked_id) FROM blocks) x
GROUP BY lo, hi;

-- ----------------------------------------------------- events' user check

-- events.user_id referenced users: two foreign-key checks per direct send
-- (a KEY SHARE lock, hence a WAL record, on both users' rows). Every event
-- is written by emit() or send_message() under its stream row's lock,
-- taken FOR UPDATE after the stream was found, so the user existed: a
-- user's deletion deletes the stream row (ON DELETE CASCADE), which waits
-- for that lock, or came first and the stream is skipped. What the foreign
-- key's cascade did, deleting a user's events, a trigger on the stream's
-- deletion does now: it runs after that wait, so it also sees the events
-- of a send that committed while the deletion waited.
ALTER TABLE events DROP CONSTRAINT events_user_id_fkey;
CREATE FUNCTION streams_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events WHERE user_id = OLD.user_id;
    RETURN NULL;
END $$;
CREATE TRIGGER streams_deleted AFTER DELETE ON streams
    FOR EACH ROW EXECUTE FUNCTION streams_deleted();

-- ------------------------------------------------- conversations' checks

-- Every send bumps conversations.head, and PostgreSQL checks each of a
-- row's CHECK constraints on every update, preparing their expressions
-- anew per statement (the bidi check inlines strip_bidi()'s SQL each
-- time): measured, 18% of a send's database CPU. The same rules as a
-- trigger that runs only when a column they read is written; its errors
-- are those of the constraints (SQLSTATE 23514, same names).
CREATE FUNCTION conversations_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    bad := CASE
        WHEN (NEW.kind = ANY (ARRAY['direct', 'group', 'system'])) IS FALSE
            THEN 'conversations_kind_check'
        WHEN (char_length(NEW.name) BETWEEN 1 AND 64) IS FALSE
            THEN 'conversations_name_check'
        WHEN ((NEW.kind = 'direct') = (NEW.user_lo IS NOT NULL AND NEW.user_hi IS NOT NULL
              AND NEW.user_lo < NEW.user_hi AND NEW.name IS NULL)) IS FALSE
            THEN 'conversations_check'
        WHEN (NEW.kind = 'direct' OR NEW.name IS NOT NULL) IS FALSE
            THEN 'conversations_check1'
        WHEN ((NEW.kind = 'system') = (NEW.site_id IS NOT NULL)) IS FALSE
            THEN 'conversations_system_site'
        WHEN (NEW.kind <> 'group' OR strip_bidi(NEW.name) = NEW.name) IS FALSE
            THEN 'conversations_group_name_no_bidi'
        END;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'new row for relation "conversations" violates check constraint "%"', bad
            USING ERRCODE = 'check_violation', CONSTRAINT = bad, TABLE = 'conversations';
    END IF;
    RETURN NEW;
END $$;
ALTER TABLE conversations DROP CONSTRAINT conversations_kind_check,
    DROP CONSTRAINT conversations_name_check, DROP CONSTRAINT conversations_check,
    DROP CONSTRAINT conversations_check1, DROP CONSTRAINT conversations_system_site,
    DROP CONSTRAINT conversations_group_name_no_bidi;
CREATE TRIGGER conversations_check BEFORE INSERT OR UPDATE OF kind, user_lo, user_hi, name, site_id
    ON conversations FOR EACH ROW EXECUTE FUNCTION conversations_check();

-- --------------------------------------------------------- send_message

-- status: created | duplicate | no_such_user | not_friends | blocked |
--         no_such_group | not_member | no_such_upload | upload_kind
-- (as in sql/018: a duplicate client_id answers `duplicate` before any
-- refusal; `blocked` only when the sender blocked `p_to`, blocked by
-- `p_to` the sender gets `not_friends`).
--
-- Idempotency: the unique index (sender_id, client_id) with INSERT ... ON
-- CONFLICT DO NOTHING, instead of an advisory lock per client id. A
-- second insert of one (sender, client_id) waits for the first's
-- transaction and, if that committed, inserts nothing: this undoes its
-- own head bump (it still holds the conversation row) and answers the
-- first message as `duplicate`. Lock order (sql/013): the pair's advisory
-- lock, the conversation row, the message's index entry, the streams.
CREATE OR REPLACE FUNCTION send_message(p_sender bigint, p_to bigint, p_group bigint,
    p_client text, p_type text, p_body jsonb,
    OUT status text, OUT message jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    conv bigint;
    seq  bigint;
    m    messages;
BEGIN
    IF NOT (p_body ? 'upload_id') THEN
        IF p_to IS NOT NULL THEN
            -- A send and a block (or unfriend) of one pair run one after
            -- the other: the friends service takes the same lock.
            PERFORM pg_advisory_xact_lock(pair_key(p_sender, p_to));
            UPDATE conversations c SET head = c.head + 1
                FROM pairs p
                WHERE p.user_lo = least(p_sender, p_to) AND p.user_hi = greatest(p_sender, p_to)
                  AND CASE WHEN p_sender < p_to THEN p.lo_friend_hi ELSE p.hi_friend_lo END
                  AND NOT p.lo_blocks_hi AND NOT p.hi_blocks_lo
                  AND c.user_lo = least(p_sender, p_to) AND c.user_hi = greatest(p_sender, p_to)
                RETURNING c.id, c.head INTO conv, seq;
        ELSE
            -- The conversation row lock orders sends against member
            -- changes; the insert below, a statement after it, sees the
            -- membership as of that lock.
            UPDATE conversations SET head = head + 1
                WHERE id = p_group AND kind = 'group'
                RETURNING id, head INTO conv, seq;
        END IF;
        IF conv IS NOT NULL THEN
            INSERT INTO messages (conversation_id, seq, sender_id, type, body, client_id)
                SELECT conv, seq, p_sender, p_type, p_body, p_client
                WHERE p_to IS NOT NULL OR EXISTS (SELECT 1 FROM conversation_members
                    WHERE conversation_id = conv AND user_id = p_sender)
                ON CONFLICT (sender_id, client_id) DO NOTHING
                RETURNING * INTO m;
            IF m.id IS NOT NULL THEN
                message := message_json(m);
                woken := send_emit(conv, p_sender, p_to, message);
                status := 'created';
                RETURN;
            END IF;
            -- A duplicate, or not a member: the full path says which.
            UPDATE conversations SET head = head - 1 WHERE id = conv;
        END IF;
    END IF;
    SELECT * INTO status, message, woken
        FROM send_message_full(p_sender, p_to, p_group, p_client, p_type, p_body);
END $$;

-- The message event of a new message in conv: to both of a pair, or to
-- every member of a group (read here, under the conversation row lock the
-- caller holds). emit() in one statement: the streams are locked in user
-- id order (the sorted, locking subquery), then bumped and written. Two
-- statements, not one with a CASE: each has one plan that fits every call
-- (PostgreSQL keeps it; a CASE over both made it plan each call anew).
CREATE FUNCTION send_emit(conv bigint, p_sender bigint, p_to bigint, msg jsonb)
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    got bigint[];
BEGIN
    IF p_to IS NOT NULL THEN
        WITH l AS (
            SELECT user_id FROM streams WHERE user_id IN (p_sender, p_to)
            ORDER BY user_id FOR UPDATE
        ), s AS (
            UPDATE streams st SET head = st.head + 1 FROM l
            WHERE st.user_id = l.user_id RETURNING st.user_id, st.head
        ), i AS (
            INSERT INTO events (user_id, seq, type, data)
            SELECT user_id, head, 'message', jsonb_build_object('message', msg) FROM s
            RETURNING user_id
        )
        SELECT coalesce(array_agg(user_id), '{}') INTO got FROM i;
    ELSE
        WITH l AS (
            SELECT st.user_id FROM streams st JOIN conversation_members cm
                ON cm.user_id = st.user_id AND cm.conversation_id = conv
            ORDER BY st.user_id FOR UPDATE OF st
        ), s AS (
            UPDATE streams st SET head = st.head + 1 FROM l
            WHERE st.user_id = l.user_id RETURNING st.user_id, st.head
        ), i AS (
            INSERT INTO events (user_id, seq, type, data)
            SELECT user_id, head, 'message', jsonb_build_object('message', msg) FROM s
            RETURNING user_id
        )
        SELECT coalesce(array_agg(user_id), '{}') INTO got FROM i;
    END IF;
    RETURN got;
END $$;

-- sql/018's send_message(), answering every case. Changes: no advisory
-- lock per client id (the insert's unique index does it: a concurrent
-- duplicate makes the insert fail, which rolls back this block's writes
-- and answers `duplicate`), and the pair's state read from pairs.
CREATE FUNCTION send_message_full(p_sender bigint, p_to bigint, p_group bigint,
    p_client text, p_type text, p_body jsonb,
    OUT status text, OUT message jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    conv    bigint;
    members bigint[];
    m       messages;
    up      uploads;
    pr      pairs;
    cname   text;
BEGIN
    IF p_client IS NOT NULL THEN
        SELECT * INTO m FROM messages WHERE sender_id = p_sender AND client_id = p_client;
        IF FOUND THEN
            status := 'duplicate'; message := message_json(m); RETURN;
        END IF;
    END IF;
    BEGIN
        IF p_to IS NOT NULL THEN
            PERFORM pg_advisory_xact_lock(pair_key(p_sender, p_to));
            IF NOT EXISTS (SELECT 1 FROM users WHERE id = p_to) THEN
                status := 'no_such_user'; RETURN;
            END IF;
            SELECT * INTO pr FROM pairs
                WHERE user_lo = least(p_sender, p_to) AND user_hi = greatest(p_sender, p_to);
            IF (CASE WHEN p_sender < p_to THEN pr.lo_blocks_hi ELSE pr.hi_blocks_lo END) THEN
                status := 'blocked'; RETURN;
            END IF;
            IF coalesce((CASE WHEN p_sender < p_to THEN pr.hi_blocks_lo ELSE pr.lo_blocks_hi END), false)
               OR NOT coalesce((CASE WHEN p_sender < p_to THEN pr.lo_friend_hi ELSE pr.hi_friend_lo END), false) THEN
                status := 'not_friends'; RETURN;
            END IF;
            conv := direct_conversation(p_sender, p_to);
            members := ARRAY[p_sender, p_to];
        ELSE
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
        IF p_body ? 'upload_id' THEN
            -- FOR UPDATE and the sent_at write: a janitor that picked the
            -- row skips it (SKIP LOCKED), or, if it locked it first, this
            -- waits and finds it gone.
            SELECT * INTO up FROM uploads
                WHERE id = (p_body ->> 'upload_id')::bigint AND owner_id = p_sender FOR UPDATE;
            IF NOT FOUND THEN
                status := 'no_such_upload'; RETURN;
            END IF;
            IF p_type <> 'file' AND p_type <> up.kind THEN
                status := 'upload_kind'; RETURN;
            END IF;
            UPDATE uploads SET sent_at = now() WHERE id = up.id;
            p_body := upload_body(up);
        END IF;
        UPDATE conversations SET head = head + 1 WHERE id = conv RETURNING head INTO m.seq;
        INSERT INTO messages (conversation_id, seq, sender_id, type, body, client_id)
            VALUES (conv, m.seq, p_sender, p_type, p_body, p_client) RETURNING * INTO m;
        message := message_json(m);
        woken := emit(members, 'message', jsonb_build_object('message', message));
        status := 'created';
    EXCEPTION WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS cname = CONSTRAINT_NAME;
        IF cname IS DISTINCT FROM 'messages_sender_id_client_id_key' THEN
            RAISE;
        END IF;
        SELECT * INTO m FROM messages WHERE sender_id = p_sender AND client_id = p_client;
        status := 'duplicate'; message := message_json(m); woken := NULL;
    END;
END $$;
