-- Functions that read no table or type: text, time and key helpers.
-- The one file scripts/parley's migrate applies BEFORE the numbered
-- migrations too, because their DDL and backfills call these (sql/017's
-- constraints and UPDATEs call strip_bidi()). Anything added here must
-- work on an empty database. See docs/DESIGN.md, "SQL: migrations and
-- functions": every file in sql/functions is the one current definition of
-- its functions and triggers, applied with CREATE OR REPLACE, in file name
-- order (a LANGUAGE sql body may only call what an earlier file or an
-- earlier statement defines: PostgreSQL checks it at creation).

-- Timestamps leave the database as ISO 8601 UTC strings with milliseconds.
-- STABLE, as to_char is: declared IMMUTABLE over a STABLE body, PostgreSQL
-- does not inline it and plans its SQL on every call (sql/007: sends
-- took twice as long).
CREATE OR REPLACE FUNCTION iso(t timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- The advisory key the friends service uses for a pair of users: a send
-- and a block of the same pair run one after the other.
CREATE OR REPLACE FUNCTION pair_key(a bigint, b bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT hashtextextended(least(a, b)::text || ':' || greatest(a, b)::text, 7) $$;

-- Bidi controls (Unicode Bidi_Control: U+061C, U+200E, U+200F,
-- U+202A..U+202E, U+2066..U+2069) reorder how a name is shown ("evil"
-- shown as "live"). The services strip them from display and group names
-- (shared/valid.c, VALID_NAME); the constraint users_display_name_no_bidi
-- and conversations_check() keep any other path from storing one.
CREATE OR REPLACE FUNCTION strip_bidi(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT translate(s, U&'\061C\200E\200F\202A\202B\202C\202D\202E\2066\2067\2068\2069', '')
$$;

-- {key: value} when value is set, else {}: an optional event field.
CREATE OR REPLACE FUNCTION jsonb_opt(p_key text, p_value jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_value IS NULL OR p_value = 'null' THEN '{}'::jsonb
                ELSE jsonb_build_object(p_key, p_value) END
$$;

-- The advisory lock of one stored file (sql/018: uploads and the janitor).
CREATE OR REPLACE FUNCTION upload_blob_key(p_sha text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT hashtextextended('upload-blob:' || p_sha, 17)
$$;

-- The most member ids one message.delivered carries (a group has at most
-- 500 members; a bigger set is split into several events).
CREATE OR REPLACE FUNCTION receipt_max_ids() RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 500 $$;
