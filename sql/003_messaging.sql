-- Messaging: per-user event streams, conversations, messages, receipts.
--
-- Ordering: every user has one stream whose head is bumped under the
-- stream's row lock, in the same transaction as the event insert. A second
-- writer to the same user waits for that lock until the first commits, so
-- seq N+1 cannot be assigned, let alone committed, before seq N is visible:
-- a reader scanning seq > cursor never skips. Writers lock streams in
-- user_id order (emit(), sql/functions/10_events.sql) so fan-outs cannot
-- deadlock.

CREATE TABLE streams (
    user_id bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    head    bigint NOT NULL DEFAULT 0,   -- last seq handed out
    floor   bigint NOT NULL DEFAULT 0    -- events <= floor were pruned
);
INSERT INTO streams (user_id) SELECT id FROM users;

-- trigger users_stream: sql/functions/10_events.sql

CREATE TABLE events (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    type       text NOT NULL,
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, seq)
);
CREATE INDEX events_created ON events (created_at);

-- emit(): sql/functions/10_events.sql

-- Sessions are devices: their poll cursor drives delivery receipts and
-- their last poll drives presence.
ALTER TABLE sessions
    ADD COLUMN acked_seq    bigint NOT NULL DEFAULT 0,
    ADD COLUMN last_poll_at timestamptz;
CREATE INDEX sessions_polling ON sessions (user_id, last_poll_at)
    WHERE revoked_at IS NULL;

CREATE TABLE presence (
    user_id bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    online  boolean NOT NULL,
    since   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE conversations (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('direct', 'group')),
    user_lo    bigint REFERENCES users (id) ON DELETE CASCADE, -- direct only
    user_hi    bigint REFERENCES users (id) ON DELETE CASCADE,
    name       text CHECK (char_length(name) BETWEEN 1 AND 64),
    head       bigint NOT NULL DEFAULT 0,   -- last message seq
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_lo, user_hi),
    CHECK ((kind = 'direct') = (user_lo IS NOT NULL AND user_hi IS NOT NULL
                                AND user_lo < user_hi AND name IS NULL)),
    CHECK (kind = 'direct' OR name IS NOT NULL)
);

CREATE TABLE conversation_members (
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            text NOT NULL DEFAULT 'member'
                    CHECK (role IN ('owner', 'admin', 'member')),
    read_seq        bigint NOT NULL DEFAULT 0,  -- high-water marks
    delivered_seq   bigint NOT NULL DEFAULT 0,
    joined_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_user ON conversation_members (user_id);
CREATE UNIQUE INDEX conversation_one_owner ON conversation_members (conversation_id)
    WHERE role = 'owner';

CREATE TABLE messages (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             bigint NOT NULL,
    sender_id       bigint REFERENCES users (id) ON DELETE SET NULL, -- NULL: system
    type            text NOT NULL
                    CHECK (type IN ('text', 'image', 'file', 'audio', 'video', 'system', 'call')),
    body            jsonb NOT NULL,
    client_id       text CHECK (char_length(client_id) BETWEEN 1 AND 64),
    created_at      timestamptz NOT NULL DEFAULT now(),
    recalled_at     timestamptz,
    UNIQUE (conversation_id, seq),
    UNIQUE (sender_id, client_id)
);
