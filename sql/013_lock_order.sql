-- Lock order: stream rows last, all at once, in user id order.
--
-- 003 said emit() makes fan-outs deadlock-free because it locks streams in
-- user id order. That holds for one emit() per transaction only. Under load
-- the database reported 11-45 deadlocks a minute, because
--  * poll_ack() emitted one message.delivered per conversation, each
--    locking that conversation's senders: across conversations the senders'
--    streams were locked in conversation order, not user id order, against
--    send_message() locking the same streams in id order;
--  * poll_ack() then took the presence row after those stream locks, while
--    presence_sweep() takes presence rows first and friends' streams after;
--  * presence_sweep(), room_leave() and calls_sweep() emitted once per
--    user, room or call; call_accept() emitted to the caller, then to the
--    callee; calls_sweep() wrote each call's record (the conversation row)
--    after earlier calls' stream locks, against send_message() taking the
--    conversation row before streams;
--  * prune_events() raised stream floors with one UPDATE in join order.
--
-- The rule now: a transaction takes its stream row locks in one step, and
-- that step is its last lock: emit() (one event) or emit_events() (several,
-- in order) is called at most once per transaction, after every other row
-- and advisory lock, and locks every stream it writes in user id order.
-- Functions that used to emit on the way collect stream_event values and
-- emit them at the end; helpers shared with sweeps (call_close,
-- room_depart) return their events instead of emitting.
--
-- Why this cannot deadlock: a transaction holding a stream lock only ever
-- waits for a stream of a higher user id (nothing else comes after), so
-- no wait-for cycle passes through a stream lock. The locks before it
-- follow one order: advisory locks (client id, pair, the two call locks in
-- id order), then rows: session, call, conversation, membership and
-- message, room, seat, presence. Where a transaction takes several rows of
-- one table it takes them in id order (presence, rooms, a device's
-- memberships) or SKIP LOCKED (the sweeps' calls and presence rows);
-- calls_sweep()'s several conversation rows are those of live calls,
-- whose pairs share no user, and every other writer takes one. The
-- only locks after the streams are the foreign-key checks of the events
-- insert (KEY SHARE on users rows); they conflict only with deleting a
-- user or changing an id or username, which no emitting transaction does.
--
-- Every event still goes to the same streams in the same relative order,
-- and each function returns the same users; send_message() is untouched
-- (a single emit() already).

-- One event for emit_events(): its recipients (duplicates count once, as
-- in emit()), type and data.
CREATE TYPE stream_event AS (users bigint[], type text, data jsonb);

-- emit_events(): sql/functions/10_events.sql

-- Delivery receipts and presence, with one emit at the end: the session
-- row, then the device's membership rows (conversation order), then the
-- presence row, then the streams.
-- poll_ack(): sql/functions/50_poll.sql

-- presence_sweep(): sql/functions/50_poll.sql

-- prune_events(): sql/functions/10_events.sql

-- The record an ended call leaves in the pair's history (a 'call' message
-- from the caller; result missed | declined | canceled | completed). It
-- writes the message and returns its event for the caller to emit: it
-- used to emit itself, before call_finish() emitted again. The return type
-- changes, hence DROP; only call_close() calls it.
DROP FUNCTION IF EXISTS call_record(calls);
-- call_record(): sql/functions/70_calls.sql

-- call_close(): sql/functions/70_calls.sql

-- call_finish(): sql/functions/70_calls.sql

-- status: ok | not_found | not_callee | answered_elsewhere | ended
-- The caller's call.accepted and the callee's call.answered_elsewhere in
-- one emit (they were two, caller first: not id order).
-- call_accept(): sql/functions/70_calls.sql

-- room_depart(): sql/functions/70_calls.sql

-- room_leave(): sql/functions/70_calls.sql

-- calls_sweep(): sql/functions/70_calls.sql
