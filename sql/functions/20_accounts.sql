-- Sessions and login throttling (tables: sql/001, sql/014, sql/015,
-- sql/019).

-- A revoked (or deleted) session must stop reading at once, polls already
-- parked in the poll service included. The poll service wakes a user's
-- parked polls on a hint for that user and re-checks the session before it
-- answers (401 for a dead one), so every way of ending a session sends
-- that hint: logout, DELETE /auth/sessions/{id}, and whatever comes later.
-- NOTIFY inside the writing transaction takes the cluster's notify lock at
-- commit (see shared/notify.h for why the send path avoids it); ending a
-- session is rare enough for that, and a hint sent at commit can never
-- wake a poll before the revocation is visible to it.
CREATE OR REPLACE FUNCTION session_ended_hint() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('parley_events',
        (CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END)::text);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER sessions_revoked_hint AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW
    WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION session_ended_hint();

CREATE OR REPLACE TRIGGER sessions_deleted_hint AFTER DELETE ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL)
    EXECUTE FUNCTION session_ended_hint();

-- Which transport keeps a session online, by the connection's
-- application_name (sql/019).
CREATE OR REPLACE FUNCTION sessions_transport() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The gateway has several connections per worker (parley-gateway,
    -- -async for acks, -listen), all named from parley-gateway.
    NEW.transport := CASE
        WHEN current_setting('application_name') = 'poll' THEN 'poll'
        WHEN current_setting('application_name') LIKE 'parley-gateway%'
            OR current_setting('application_name') = 'gateway'
            THEN 'websocket'
        ELSE NEW.transport END;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER sessions_transport BEFORE UPDATE OF last_poll_at ON sessions
    FOR EACH ROW WHEN (NEW.last_poll_at IS DISTINCT FROM OLD.last_poll_at)
    EXECUTE FUNCTION sessions_transport();

-- A user is online while one of their devices polled within p_window (the
-- poll service refreshes the time of polls it holds).
CREATE OR REPLACE FUNCTION user_online(p_user bigint, p_window interval) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM sessions WHERE user_id = p_user
        AND revoked_at IS NULL AND expires_at > now()
        AND last_poll_at > now() - p_window)
$$;

-- Counts one attempt on each of p_keys, unless one of them already holds
-- its limit (p_limits, same order) of attempts within its window: then it
-- counts none and returns the seconds until the first such key's window
-- allows again (the longest wait of them). Returns 0 when counted.
-- The rows are locked in key order, so concurrent calls never deadlock,
-- and counting and checking are one step: of N concurrent attempts at a
-- limit L, at most L are let through.
CREATE OR REPLACE FUNCTION throttle_take(p_keys text[], p_limits integer[],
                                         p_window integer)
    RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    k    record;
    t    auth_throttle;
    wait double precision := 0;
BEGIN
    IF cardinality(p_keys) IS DISTINCT FROM cardinality(p_limits) THEN
        RAISE EXCEPTION 'throttle_take: % keys but % limits',
            cardinality(p_keys), cardinality(p_limits);
    END IF;
    FOR k IN SELECT u.key, u.lim
             FROM unnest(p_keys, p_limits) AS u(key, lim) ORDER BY u.key
    LOOP
        INSERT INTO auth_throttle AS a (key, attempts, window_end)
        VALUES (k.key, 0, now() + make_interval(secs => p_window))
        ON CONFLICT (key) DO UPDATE SET
            attempts = CASE WHEN a.window_end <= now() THEN 0
                            ELSE a.attempts END,
            window_end = CASE WHEN a.window_end <= now()
                              THEN now() + make_interval(secs => p_window)
                              ELSE a.window_end END
        RETURNING * INTO t;
        IF t.attempts >= k.lim THEN
            wait := greatest(wait, extract(epoch FROM t.window_end - now()));
        END IF;
    END LOOP;
    IF wait = 0 THEN
        UPDATE auth_throttle SET attempts = attempts + 1
            WHERE key = ANY (p_keys);
    END IF;
    -- A few expired rows of other clients go; SKIP LOCKED: this never
    -- waits while holding the rows above, so it cannot deadlock.
    DELETE FROM auth_throttle WHERE key IN (
        SELECT key FROM auth_throttle WHERE window_end < now()
        LIMIT 8 FOR UPDATE SKIP LOCKED);
    RETURN CASE WHEN wait > 0 THEN greatest(1, ceil(wait)) ELSE 0 END;
END $$;

-- Gives back one attempt on each of p_keys (one throttle_take counted and
-- that was not a failure) and forgets p_clear entirely. Key order again.
CREATE OR REPLACE FUNCTION throttle_return(p_keys text[], p_clear text[])
    RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    k record;
BEGIN
    FOR k IN SELECT DISTINCT u.key, u.key = ANY (coalesce(p_clear, '{}')) AS clear
             FROM unnest(coalesce(p_keys, '{}') || coalesce(p_clear, '{}'))
                  AS u(key)
             ORDER BY u.key
    LOOP
        IF k.clear THEN
            DELETE FROM auth_throttle WHERE key = k.key;
        ELSE
            UPDATE auth_throttle SET attempts = attempts - 1
                WHERE key = k.key AND attempts > 0;
        END IF;
    END LOOP;
END $$;
