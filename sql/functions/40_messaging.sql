-- Messages: sending, read marks, recalls (tables: sql/003, sql/020).

-- A message as clients see it (a recalled one without its body).
CREATE OR REPLACE FUNCTION message_json(m messages) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', m.id, 'conversation_id', m.conversation_id, 'seq', m.seq,
        'from', m.sender_id, 'type', m.type,
        'body', CASE WHEN m.recalled_at IS NULL THEN m.body END,
        'created_at', iso(m.created_at), 'client_id', m.client_id,
        'recalled', m.recalled_at IS NOT NULL)
$$;

-- The conversations' CHECK constraints as a trigger that runs only when
-- a column they read is written, not on every head bump (sql/020: 18% of
-- a send's database CPU); its errors are those of the constraints
-- (SQLSTATE 23514, same names).
CREATE OR REPLACE FUNCTION conversations_check() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE TRIGGER conversations_check BEFORE INSERT OR UPDATE OF kind, user_lo, user_hi, name, site_id
    ON conversations FOR EACH ROW EXECUTE FUNCTION conversations_check();

-- The direct conversation of a pair, created on first use.
CREATE OR REPLACE FUNCTION direct_conversation(a bigint, b bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    conv bigint;
BEGIN
    INSERT INTO conversations (kind, user_lo, user_hi)
        VALUES ('direct', least(a, b), greatest(a, b))
        ON CONFLICT (user_lo, user_hi) DO NOTHING RETURNING id INTO conv;
    IF conv IS NULL THEN
        SELECT id INTO conv FROM conversations
            WHERE user_lo = least(a, b) AND user_hi = greatest(a, b);
    ELSE
        INSERT INTO conversation_members (conversation_id, user_id)
            VALUES (conv, a), (conv, b);
    END IF;
    RETURN conv;
END $$;

-- status: created | duplicate | no_such_user | not_friends | blocked |
--         no_such_group | not_member | no_such_upload | upload_kind
-- A duplicate client_id answers `duplicate` before any refusal; `blocked`
-- only when the sender blocked `p_to`, blocked by `p_to` the sender gets
-- `not_friends` (sql/017). The messages service answers `not_member` as
-- it answers `no_such_group`; a site, which speaks for the group's
-- members, is told which.
--
-- The common send (no upload, an existing conversation, allowed) runs
-- four statements (sql/020): the pair lock, one UPDATE that checks the
-- pair (or the membership) and bumps the head, the message insert, and
-- send_emit(). Everything else takes send_message_full().
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
                  -- can_contact()'s rule on the row joined here (inlined:
                  -- no statement of its own)
                  AND pair_refusal(p, p_sender) IS NULL
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
CREATE OR REPLACE FUNCTION send_emit(conv bigint, p_sender bigint, p_to bigint, msg jsonb)
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

-- send_message() answering every case. A concurrent duplicate of a
-- client id makes the insert fail on the unique index, which rolls back
-- this block's writes and answers `duplicate`. A body {"upload_id": N}
-- names one of the sender's uploads (someone else's answers
-- `no_such_upload`, as a missing one does); the stored body is
-- upload_body() of it. Types image, audio and video need an upload of
-- that kind; `file` takes any.
CREATE OR REPLACE FUNCTION send_message_full(p_sender bigint, p_to bigint, p_group bigint,
    p_client text, p_type text, p_body jsonb,
    OUT status text, OUT message jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    conv    bigint;
    members bigint[];
    m       messages;
    up      uploads;
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
            status := can_contact(p_sender, p_to);
            IF status IS NOT NULL THEN
                RETURN;
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

-- Read up to p_seq (clamped to the head; never backwards). The senders of
-- the newly read messages and the reader's own devices get message.read.
-- status: ok | not_member
CREATE OR REPLACE FUNCTION mark_read(p_user bigint, p_conv bigint, p_seq bigint,
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
CREATE OR REPLACE FUNCTION recall_message(p_user bigint, p_msg bigint, p_window interval,
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
