-- Refusals that reveal nothing, names that cannot reorder text, and TURN
-- credentials bound to one call (issue 12, items 9, 11 and 12).
--
-- Blocks: a message, call or room invite to someone who blocked the
-- sender answered 403 `blocked`, while the same to any other non-friend
-- answered `not_friends`; that gave the block away (a friend request to
-- someone who blocked you is stored silently so that it does not). Now
-- only the blocker hears `blocked` (they know, and need to be told why
-- they cannot write: unblock first); the blocked user gets exactly what a
-- non-friend gets, `not_friends`, from the same checks in the same order.
--
-- ICE: call_invite(), call_accept() and room_join() take the TURN
-- credentials the calls service minted for this call (the database does
-- not hold the secret) and put them into call.invite, call.accepted and
-- room.peer_joined as `ice`. call_invite() takes the call id too, drawn
-- by the service beforehand, because the credential's username names it.
-- Their argument lists change, hence the DROPs below (CREATE OR REPLACE
-- cannot change them); the new ones are in sql/functions/70_calls.sql.

-- strip_bidi() (sql/functions/00_pure.sql) strips the bidi controls from
-- the names stored before, and the constraints keep any other path from
-- storing one again. scripts/parley's migrate applies 00_pure.sql before
-- the numbered migrations, so on a fresh database the function exists
-- when this UPDATE and these constraints call it.

UPDATE users SET display_name = CASE WHEN strip_bidi(display_name) = '' THEN username
                                     ELSE strip_bidi(display_name) END
    WHERE strip_bidi(display_name) <> display_name;
UPDATE conversations SET name = CASE WHEN strip_bidi(name) = '' THEN 'Group ' || id
                                     ELSE strip_bidi(name) END
    WHERE kind = 'group' AND strip_bidi(name) <> name;
ALTER TABLE users ADD CONSTRAINT users_display_name_no_bidi
    CHECK (strip_bidi(display_name) = display_name);
ALTER TABLE conversations ADD CONSTRAINT conversations_group_name_no_bidi
    CHECK (kind <> 'group' OR strip_bidi(name) = name);

-- send_message(), call_invite() and room_create() answer `blocked` only
-- to the blocker: the rule is can_contact() now (sql/functions/
-- 30_friends.sql); jsonb_opt() adds `ice` to events.

DROP FUNCTION IF EXISTS call_invite(bigint, bigint, bigint, text, interval, interval);
DROP FUNCTION IF EXISTS call_accept(bigint, bigint, bigint);
DROP FUNCTION IF EXISTS room_join(bigint, bigint, bigint);
