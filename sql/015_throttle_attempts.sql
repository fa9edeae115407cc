-- Throttling counts attempts, not failures (issue 12, items 5 and 6).
--
-- Before, a login checked the counts, then the password, then counted a
-- failure: concurrent guesses all passed the check before any was counted
-- (24 at once got 11 password checks against a limit of 5). Now one call
-- counts the attempt on every key it concerns, refusing when one is at its
-- limit, before the password is checked; an attempt that turns out
-- correct, or that never got checked, is given back. Each key has one
-- fixed window: `attempts` count until `window_end`, then start over.
--
-- Keys (services/accounts/accounts_throttle.c): "u:<name>", "p:<name>@<addr>",
-- "a:<addr>" for logins, "r:<addr>" for registrations, where <addr> is the
-- client address (an IPv6 one by its /64).

ALTER TABLE auth_throttle ADD COLUMN window_end timestamptz;
UPDATE auth_throttle
    SET window_end = greatest(window_start + interval '15 minutes',
                              coalesce(blocked_until, '-infinity'));
ALTER TABLE auth_throttle
    ALTER COLUMN window_end SET NOT NULL,
    DROP COLUMN window_start,
    DROP COLUMN blocked_until;
ALTER TABLE auth_throttle RENAME COLUMN failures TO attempts;
-- Expired rows are swept a few at a time (throttle_take).
CREATE INDEX auth_throttle_window_end ON auth_throttle (window_end);

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
