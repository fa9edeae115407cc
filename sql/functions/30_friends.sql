-- Friendships and blocks: the pairs mirror (sql/020) and the rules on who
-- may reach whom.

-- Sets one bit of pair (a, b): `what` is 'friend' (a friendship a -> b)
-- or 'block' (a blocks b).
CREATE OR REPLACE FUNCTION pair_set(a bigint, b bigint, what text, val boolean)
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

-- pairs mirrors friendships and blocks (sql/020), whoever writes them.
CREATE OR REPLACE FUNCTION friendships_pair() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM pair_set(OLD.user_id, OLD.friend_id, 'friend', false);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pair_set(NEW.user_id, NEW.friend_id, 'friend', true);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER friendships_pair AFTER INSERT OR UPDATE OR DELETE ON friendships
    FOR EACH ROW EXECUTE FUNCTION friendships_pair();

CREATE OR REPLACE FUNCTION blocks_pair() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM pair_set(OLD.blocker_id, OLD.blocked_id, 'block', false);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pair_set(NEW.blocker_id, NEW.blocked_id, 'block', true);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER blocks_pair AFTER INSERT OR UPDATE OR DELETE ON blocks
    FOR EACH ROW EXECUTE FUNCTION blocks_pair();

-- Friends of a user (for presence fan-out).
CREATE OR REPLACE FUNCTION friends_of(p_user bigint) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(friend_id), '{}') FROM friendships WHERE user_id = p_user
$$;

-- Users in p_users who are not p_actor's friends (NULL when all are).
CREATE OR REPLACE FUNCTION not_friends_of(p_actor bigint, p_users bigint[]) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT array_agg(u) FROM unnest(p_users) u
    WHERE NOT EXISTS (SELECT 1 FROM friendships WHERE user_id = p_actor AND friend_id = u)
$$;
