-- Calls and rooms. The server owns a call's state: it decides who is busy,
-- ends unanswered calls and calls whose party went offline (calls_sweep(),
-- run by the calls service), and leaves a record of every ended call in the
-- pair's conversation.
--
-- Lock order, shared with send_message(): pair advisory lock, then the
-- per-user call locks, then call or room rows, then the conversation row,
-- then streams (emit()). An ending call therefore writes its record (the
-- conversation row) before it emits its own events.

CREATE TABLE calls (
    id             bigserial PRIMARY KEY,
    caller_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    callee_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    media          text NOT NULL CHECK (media IN ('audio', 'video')),
    state          text NOT NULL DEFAULT 'ringing'
                   CHECK (state IN ('ringing', 'active', 'ended')),
    reason         text CHECK (reason IN ('callee_offline', 'busy', 'timeout',
                   'rejected', 'canceled', 'hangup', 'disconnected')),
    ended_by       bigint,            -- the user whose act or absence ended it
    caller_device  bigint NOT NULL,   -- sessions: the devices in the call
    callee_device  bigint,
    ring_deadline  timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    answered_at    timestamptz,
    ended_at       timestamptz,
    caller_signals integer NOT NULL DEFAULT 0,
    callee_signals integer NOT NULL DEFAULT 0,
    CHECK (caller_id <> callee_id),
    CHECK ((state = 'ended') = (reason IS NOT NULL AND ended_at IS NOT NULL))
);
CREATE INDEX calls_caller ON calls (caller_id, id);
CREATE INDEX calls_callee ON calls (callee_id, id);
-- Live calls: the busy check and the sweeper read only these.
CREATE INDEX calls_live_caller ON calls (caller_id) WHERE state <> 'ended';
CREATE INDEX calls_live_callee ON calls (callee_id) WHERE state <> 'ended';
CREATE INDEX calls_ringing ON calls (ring_deadline) WHERE state = 'ringing';

-- call_json(): sql/functions/70_calls.sql

-- user_online(): sql/functions/20_accounts.sql

-- direct_conversation(): sql/functions/40_messaging.sql

-- The record an ended call leaves in the pair's history, as a message of
-- type 'call' from the caller: result missed | declined | canceled |
-- completed (with its duration in seconds).
-- call_record(): sql/functions/70_calls.sql

-- Ends a locked live call: record first, then the event to both parties
-- (call.timeout for an unanswered call, call.ended otherwise). A call
-- refused at once (busy, callee_offline) was never announced: it leaves
-- only the record, and the caller has its answer in the reply.
-- call_finish(): sql/functions/70_calls.sql

-- call_invite(): sql/functions/70_calls.sql

-- call_accept(): sql/functions/70_calls.sql

-- call_end(): sql/functions/70_calls.sql

-- Relays one signal to the other party. The row lock orders a call's
-- signals: the other party reads them in the order they were accepted.
-- status: ok | not_found | ended | wrong_device | too_many
-- call_signal(): sql/functions/70_calls.sql

-- Rooms: mesh calls of up to 8 people. The owner and the invited may join;
-- a room closes when its last member leaves.
CREATE TABLE rooms (
    id         bigserial PRIMARY KEY,
    owner_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    capacity   integer NOT NULL CHECK (capacity BETWEEN 2 AND 8),
    media      text NOT NULL CHECK (media IN ('audio', 'video')),
    created_at timestamptz NOT NULL DEFAULT now(),
    closed_at  timestamptz
);
CREATE INDEX rooms_open ON rooms (created_at) WHERE closed_at IS NULL;

CREATE TABLE room_invites (
    room_id bigint NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (room_id, user_id)
);

CREATE TABLE room_members (
    room_id   bigint NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device    bigint NOT NULL,
    joined_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    signals   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members (user_id);

-- room_json(): sql/functions/70_calls.sql

-- room_create(): sql/functions/70_calls.sql

-- Joining (again, from the same or another device) tells the others, who
-- drop any old connection to this user and wait for its offers: the joiner
-- is the initiator towards every peer already in the room.
-- status: ok | not_found | not_invited | closed | full
-- room_join(): sql/functions/70_calls.sql

-- room_leave(): sql/functions/70_calls.sql

-- room_signal(): sql/functions/70_calls.sql

-- The calls service's timers, run every second (rows already locked by a
-- request or another sweeper are left for the next round):
--  * ringing calls past their deadline end with 'timeout';
--  * live calls with a party none of whose devices is online end with
--    'disconnected';
--  * room members gone offline leave ('disconnected'); rooms nobody joined
--    within p_idle close.
-- calls_sweep(): sql/functions/70_calls.sql
