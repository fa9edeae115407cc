-- Sites: other web sites (a PHP site, say) that bring their own users.
-- A site signs its server-to-server requests with its secret (HMAC; see
-- shared/sign.c and README "Request signing"), links its user ids to
-- Parley users, hands its users one-time login tickets, and receives
-- webhooks from an outbox drained by the parley-webhooks process.
--
-- The secret is kept as is: an HMAC check needs the key itself. Rotation
-- keeps the previous secret valid for a grace period.

CREATE TABLE sites (
    id                bigserial PRIMARY KEY,
    name              text NOT NULL UNIQUE
                      CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
    secret            text NOT NULL CHECK (length(secret) BETWEEN 16 AND 256),
    secret_prev       text CHECK (length(secret_prev) BETWEEN 16 AND 256),
    secret_prev_until timestamptz,
    webhook_url       text CHECK (webhook_url ~ '^https?://[^[:space:]]+$'
                                  AND length(webhook_url) <= 2048),
    webhook_events    text[] NOT NULL
                      DEFAULT '{message.offline,call.missed,friend.request}'
                      CHECK (webhook_events <@ '{message.offline,call.missed,friend.request}'),
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- A site's user id ("external id") -> the Parley user it created. A Parley
-- user belongs to at most one site.
CREATE TABLE site_users (
    site_id     bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    external_id text NOT NULL CHECK (external_id ~ '^[A-Za-z0-9._@:+=-]{1,128}$'),
    user_id     bigint NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, external_id)
);

-- Nonces of accepted signed requests, kept longer than the timestamp
-- window (300 s either way) so a replay inside it is always caught.
CREATE TABLE site_nonces (
    site_id bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    nonce   text NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, nonce)
);
CREATE INDEX site_nonces_seen ON site_nonces (seen_at);

-- One-time login tickets, stored hashed like session tokens.
CREATE TABLE login_tickets (
    hash       bytea PRIMARY KEY CHECK (length(hash) = 32),
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    site_id    bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX login_tickets_expires ON login_tickets (expires_at);

-- System messages to one user from a site land in that user's read-only
-- "notices" conversation with the site (kind 'system', named after it).
ALTER TABLE conversations DROP CONSTRAINT conversations_kind_check;
ALTER TABLE conversations
    ADD CONSTRAINT conversations_kind_check
        CHECK (kind IN ('direct', 'group', 'system')),
    ADD COLUMN site_id bigint REFERENCES sites (id) ON DELETE CASCADE,
    ADD CONSTRAINT conversations_system_site
        CHECK ((kind = 'system') = (site_id IS NOT NULL));
CREATE UNIQUE INDEX conversations_system ON conversations (site_id, user_lo)
    WHERE kind = 'system';

CREATE TABLE webhook_outbox (
    id              bigserial PRIMARY KEY,
    site_id         bigint NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    type            text NOT NULL,
    data            jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    -- While a dispatcher holds a row this is its lease: a dispatcher that
    -- dies mid-delivery leaves the row due again when the lease ends.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text,
    finished_at     timestamptz
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_outbox_finished ON webhook_outbox (finished_at)
    WHERE state <> 'pending';

-- site_user_json(): sql/functions/80_sites.sql

-- webhook_enqueue(): sql/functions/80_sites.sql

-- trigger messages_webhooks: sql/functions/80_sites.sql

-- trigger friend_requests_webhooks: sql/functions/80_sites.sql

-- site_user_put(): sql/functions/80_sites.sql

-- ticket_redeem(): sql/functions/80_sites.sql

-- site_friend_add(): sql/functions/80_sites.sql

-- site_friend_remove(): sql/functions/80_sites.sql

-- site_group_visible(): sql/functions/80_sites.sql

-- site_system_message(): sql/functions/80_sites.sql

-- site_push(): sql/functions/80_sites.sql
