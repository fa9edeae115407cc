-- Stream tokens, and revocation that reaches parked polls.
--
-- A script-tag (JSONP) client has to put its credential in a URL, and URLs
-- end up in browser history, proxy logs and Referer headers. So the URL
-- never carries the session token: POST /api/v1/auth/stream-token mints a
-- short-lived token that only GET /api/v1/events accepts. Like session
-- tokens it is stored as BLAKE2b-256 of the token; it belongs to the
-- session that minted it, and it dies with it: the lookup (shared/auth.c)
-- joins the session and requires it live, and the row goes when the
-- session row goes. The poll janitor deletes expired rows.
CREATE TABLE stream_tokens (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    session_id bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX stream_tokens_session ON stream_tokens (session_id);
CREATE INDEX stream_tokens_expires ON stream_tokens (expires_at);

-- session_ended_hint(): sql/functions/20_accounts.sql

-- trigger sessions_deleted_hint: sql/functions/20_accounts.sql
