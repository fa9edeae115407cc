-- The operator console (issue 17): who is an admin, suspended accounts,
-- the audit log, and the database functions of the admin service
-- (services/admin). Every admin action is one function: it checks, acts,
-- writes its audit row and emits its events in one transaction, so an
-- action is in the log if and only if it happened.

-- Admins are granted and revoked only by `scripts/parley admin`, as the
-- schema owner. The services' role may read the table, never write it
-- (the REVOKE at the end), so no request to any service can make anyone
-- an admin, whatever goes wrong in it.
CREATE TABLE admins (
    user_id    bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by text NOT NULL CHECK (char_length(granted_by) BETWEEN 1 AND 80)
);

-- A suspended user cannot log in (auth_session_start() in shared/auth.c
-- inserts a session only for a user who is not), no session of theirs is
-- accepted (the lookups there join users), and suspending revokes them
-- all. Their messages, friendships and groups stay.
ALTER TABLE users ADD COLUMN suspended_at timestamptz;

-- What operators did. admin_id is the admin (NULL for the command line,
-- or once that account is deleted); actor keeps who it was: the admin's
-- username at the time, or "cli:<OS user>". Append-only for the services'
-- role (see the REVOKE below).
CREATE TABLE admin_audit (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    admin_id    bigint REFERENCES users (id) ON DELETE SET NULL,
    actor       text NOT NULL CHECK (char_length(actor) BETWEEN 1 AND 80),
    action      text NOT NULL CHECK (action ~ '^[a-z]+\.[a-z_]+$'),
    target_type text NOT NULL CHECK (target_type IN ('user', 'group', 'message')),
    target_id   bigint NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
                CHECK (jsonb_typeof(detail) = 'object' AND length(detail::text) <= 65536)
);
CREATE INDEX admin_audit_target ON admin_audit (target_type, target_id, id);

-- Which transport keeps a session online: the poll service and the
-- WebSocket gateway both refresh last_poll_at (poll_ack(), their
-- janitors) with the same shared statements, and differ only in the
-- connection's application_name (shared/db.c sets it to the service's
-- name; the gateway's are parley-gateway*). NULL: not refreshed since this migration.
ALTER TABLE sessions ADD COLUMN transport text
    CHECK (transport IN ('poll', 'websocket'));

-- sessions_transport(): sql/functions/20_accounts.sql

-- trigger sessions_transport: sql/functions/20_accounts.sql

-- admin_log(): sql/functions/90_admin.sql

-- admin_end_sessions(): sql/functions/90_admin.sql

-- admin_offline_emit(): sql/functions/90_admin.sql

-- admin_kick(): sql/functions/90_admin.sql

-- admin_suspend(): sql/functions/90_admin.sql

-- group_expel(): sql/functions/60_groups.sql

-- group_remove(): sql/functions/60_groups.sql

-- admin_group_remove(): sql/functions/90_admin.sql

-- admin_group_delete(): sql/functions/90_admin.sql

-- admin_message_delete(): sql/functions/90_admin.sql

-- The services' role (every role the owner granted table rights to, by
-- default privileges) reads admins and appends to admin_audit, nothing
-- more. scripts/parley's pg_grants repeats this after its blanket GRANT.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT DISTINCT grantee FROM information_schema.role_table_grants
             WHERE table_schema = current_schema()
               AND table_name IN ('admins', 'admin_audit')
               AND grantee NOT IN (current_user, 'PUBLIC')
    LOOP
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON admins FROM %I', r.grantee);
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON admin_audit FROM %I', r.grantee);
    END LOOP;
END $$;
