-- Friend relations: requests, friendships (stored in both directions),
-- blocks.

CREATE TABLE friend_requests (
    id          bigserial PRIMARY KEY,
    from_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    to_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    memo        text NOT NULL DEFAULT '' CHECK (char_length(memo) <= 200),
    state       text NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'accepted', 'rejected', 'canceled')),
    -- A request to someone who blocked the sender: the sender sees it as
    -- pending, the recipient never does.
    silent      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    decided_at  timestamptz,
    CHECK (from_id <> to_id)
);
-- At most one pending request per direction.
CREATE UNIQUE INDEX friend_requests_pending
    ON friend_requests (from_id, to_id) WHERE state = 'pending';
CREATE INDEX friend_requests_to ON friend_requests (to_id) WHERE state = 'pending';

CREATE TABLE friendships (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    friend_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, friend_id),
    CHECK (user_id <> friend_id)
);

CREATE TABLE blocks (
    blocker_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_id);
