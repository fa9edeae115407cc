-- Streams and events (tables: sql/003, sql/013, sql/020). emit() and
-- emit_events() are the only writers of other users' streams; lock order
-- rules in sql/013.

-- Every user has a stream (sql/003).
CREATE OR REPLACE FUNCTION streams_for_new_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO streams (user_id) VALUES (NEW.id);
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER users_stream AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION streams_for_new_user();

-- A user's events go with their stream (events has no foreign key to
-- users since sql/020, which says why).
CREATE OR REPLACE FUNCTION streams_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events WHERE user_id = OLD.user_id;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER streams_deleted AFTER DELETE ON streams
    FOR EACH ROW EXECUTE FUNCTION streams_deleted();

-- Appends one event per user in `users` (duplicates ignored), locking the
-- streams in id order. Returns the users that got it (for wake-up hints).
CREATE OR REPLACE FUNCTION emit(users bigint[], etype text, edata jsonb)
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    got bigint[];
BEGIN
    PERFORM 1 FROM streams WHERE user_id = ANY (users)
        ORDER BY user_id FOR UPDATE;
    WITH s AS (
        UPDATE streams SET head = head + 1
        WHERE user_id = ANY (users) RETURNING user_id, head
    ), i AS (
        INSERT INTO events (user_id, seq, type, data)
        SELECT user_id, head, etype, edata FROM s RETURNING user_id
    )
    SELECT coalesce(array_agg(user_id), '{}') INTO got FROM i;
    RETURN got;
END $$;

-- Appends the events in array order (a user who gets several gets them
-- in that order), locking every recipient's stream first, all in one
-- statement in user id order. Each emit() after that locks again only
-- rows this transaction already holds, so it never waits. Returns the
-- emit() results concatenated, as the callers used to build them.
CREATE OR REPLACE FUNCTION emit_events(evs stream_event[]) RETURNS bigint[]
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

-- Retention: deletes events older than p_keep (at most p_batch rows) and
-- raises each stream's floor so a cursor below it gets 410. The streams
-- are locked in user id order before their floors rise (sql/013).
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
