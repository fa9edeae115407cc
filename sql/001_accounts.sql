-- Accounts: users, sessions (one per device), login throttling.

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL,
    display_name  text NOT NULL,
    password_hash text,                 -- NULL: no password login (SSO users)
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_username_format
        CHECK (username ~ '^[a-z0-9_.-]{3,32}$'),
    CONSTRAINT users_display_name_length
        CHECK (char_length(display_name) BETWEEN 1 AND 64)
);
-- COLLATE "C" makes prefix search a plain btree range scan.
CREATE UNIQUE INDEX users_username_key ON users (username COLLATE "C");

CREATE TABLE sessions (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    user_agent   text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 255),
    ip           text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;

-- Failed logins per key ("u:<username>" or "a:<address>"), shared by every
-- accounts process so throttling holds across threads and restarts.
CREATE TABLE auth_throttle (
    key           text PRIMARY KEY,
    failures      integer NOT NULL,
    window_start  timestamptz NOT NULL,
    blocked_until timestamptz
);

-- iso(): sql/functions/00_pure.sql
