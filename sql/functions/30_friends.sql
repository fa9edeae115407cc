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

-- can_contact()'s rule on a pairs row already read, for `a` towards the
-- other user of the row (a row of NULLs: no row, never friends). A SQL
-- expression PostgreSQL inlines, so send_message()'s common path checks
-- the row it joins in its one UPDATE without a statement of its own.
CREATE OR REPLACE FUNCTION pair_refusal(p pairs, a bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN coalesce(CASE WHEN a = p.user_lo THEN p.lo_blocks_hi ELSE p.hi_blocks_lo END, false)
            THEN 'blocked'
        WHEN coalesce(CASE WHEN a = p.user_lo THEN p.hi_blocks_lo ELSE p.lo_blocks_hi END, false)
          OR NOT coalesce(CASE WHEN a = p.user_lo THEN p.lo_friend_hi ELSE p.hi_friend_lo END, false)
            THEN 'not_friends'
    END
$$;

-- May `a` message, call or invite `b`? The one rule of send_message(),
-- call_invite() and room_create(): NULL when a may, else why not, the
-- first of
--   no_such_user  b does not exist;
--   blocked       a blocked b: only the blocker hears of a block (they
--                 must learn why they cannot write: unblock first);
--   not_friends   b blocked a, or they are not friends: the one blocked
--                 hears exactly what any non-friend hears, so a refusal
--                 gives no block away (sql/017).
-- Read from pairs, which mirrors friendships and blocks. send_message()
-- and call_invite() hold the pair's advisory lock (pair_key()) around it,
-- as the friends service does when it blocks or unfriends.
CREATE OR REPLACE FUNCTION can_contact(a bigint, b bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    pr pairs;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM users WHERE id = b) THEN
        RETURN 'no_such_user';
    END IF;
    SELECT * INTO pr FROM pairs WHERE user_lo = least(a, b) AND user_hi = greatest(a, b);
    RETURN pair_refusal(pr, a);
END $$;
