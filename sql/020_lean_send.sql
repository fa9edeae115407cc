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
-- the full path (send_message_full()), which answers exactly as sql/018's
-- did.

-- ------------------------------------------------------------ pair state

-- Friendship and block bits of an unordered pair, one row per pair that
-- ever had either; each bit mirrors one row of friendships or blocks (lo =
-- the lower user id). Maintained by triggers (sql/functions/
-- 30_friends.sql), so every writer (the friends service, sites, admin
-- functions, a test's or the bench's plain SQL) keeps it right. Bits are set and cleared one at a time under
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

-- pair_set(): sql/functions/30_friends.sql

-- trigger friendships_pair: sql/functions/30_friends.sql

-- trigger blocks_pair: sql/functions/30_friends.sql

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
-- trigger streams_deleted: sql/functions/10_events.sql

-- ------------------------------------------------- conversations' checks

-- conversations_check(): sql/functions/40_messaging.sql
ALTER TABLE conversations DROP CONSTRAINT conversations_kind_check,
    DROP CONSTRAINT conversations_name_check, DROP CONSTRAINT conversations_check,
    DROP CONSTRAINT conversations_check1, DROP CONSTRAINT conversations_system_site,
    DROP CONSTRAINT conversations_group_name_no_bidi;
-- trigger conversations_check: sql/functions/40_messaging.sql

-- --------------------------------------------------------- send_message

-- send_message(): sql/functions/40_messaging.sql

-- send_emit(): sql/functions/40_messaging.sql

-- send_message_full(): sql/functions/40_messaging.sql
