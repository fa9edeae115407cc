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

-- A revoked (or deleted) session must stop reading at once, polls already
-- parked in the poll service included. The poll service wakes a user's
-- parked polls on a hint for that user and re-checks the session before it
-- answers (401 for a dead one), so every way of ending a session sends
-- that hint: logout, DELETE /auth/sessions/{id}, and whatever comes later.
-- NOTIFY inside the writing transaction takes the cluster's notify lock at
-- commit (see shared/notify.h for why the send path avoids it); ending a
-- session is rare enough for that, and a hint sent at commit can never
-- wake a poll before the revocation is visible to it.
CREATE OR REPLACE FUNCTION session_ended_hint() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('parley_events',
        (CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END)::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER sessions_revoked_hint AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW
    WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION session_ended_hint();
CREATE TRIGGER sessions_deleted_hint AFTER DELETE ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL)
    EXECUTE FUNCTION session_ended_hint();
