-- Uploads (issue 17): files users send, stored on disk by the uploads
-- service (content-addressed by SHA-256, see services/uploads/), described
-- here. A message refers to an upload by id (`{"upload_id": N}`) and
-- send_message() fills in the rest from this row, so a client can neither
-- send someone else's file nor invent its size, type or dimensions.
--
-- Locks: upload_create() takes the owner's quota lock, then the blob
-- locks (sorted), then inserts; the service links the files into place
-- while they are held and commits. upload_collect() (the janitor) deletes
-- rows FOR UPDATE SKIP LOCKED and takes a blob's lock before it decides
-- to unlink the file, so a blob is never removed under a new upload of
-- the same bytes. send_message() locks the upload row after the
-- conversation, as the last row before the streams.

CREATE TABLE uploads (
    id          bigserial PRIMARY KEY,
    owner_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    thumb_sha256 text CHECK (thumb_sha256 ~ '^[0-9a-f]{64}$'),
    name        text NOT NULL CHECK (octet_length(name) BETWEEN 1 AND 255),
    size        bigint NOT NULL CHECK (size >= 0),
    thumb_size  bigint NOT NULL DEFAULT 0 CHECK (thumb_size >= 0),
    mime        text NOT NULL CHECK (octet_length(mime) BETWEEN 3 AND 127),
    kind        text NOT NULL CHECK (kind IN ('image', 'audio', 'video', 'file')),
    width       int CHECK (width > 0),
    height      int CHECK (height > 0),
    duration    double precision CHECK (duration >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- First time a message referred to it; never-sent uploads older than
    -- the grace period are collected.
    sent_at     timestamptz
);
CREATE INDEX uploads_owner ON uploads (owner_id);
CREATE INDEX uploads_sha ON uploads (sha256);
CREATE INDEX uploads_thumb_sha ON uploads (thumb_sha256) WHERE thumb_sha256 IS NOT NULL;
CREATE INDEX uploads_unsent ON uploads (created_at) WHERE sent_at IS NULL;

-- Messages that carry an upload, by upload: download rights and garbage
-- collection look a file's messages up here.
CREATE INDEX messages_upload ON messages (((body ->> 'upload_id')::bigint))
    WHERE body ? 'upload_id';

CREATE FUNCTION upload_blob_key(p_sha text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT hashtextextended('upload-blob:' || p_sha, 17)
$$;

-- What the uploader is told (POST /uploads) and what a message body holds.
CREATE FUNCTION upload_json(u uploads) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', u.id, 'name', u.name, 'size', u.size, 'mime', u.mime,
        'kind', u.kind, 'width', u.width, 'height', u.height,
        'url', '/api/v1/uploads/' || u.id,
        'thumbnail', CASE WHEN u.thumb_sha256 IS NOT NULL
                          THEN '/api/v1/uploads/' || u.id || '/thumbnail' END,
        'created_at', iso(u.created_at))
        || CASE WHEN u.duration IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object('duration', round(u.duration::numeric, 3)) END
$$;

CREATE FUNCTION upload_body(u uploads) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('upload_id', u.id)
        || (upload_json(u) - 'id' - 'kind' - 'created_at')
$$;

-- status: created | over_quota
-- Bytes counted: every upload the user holds, sent or not, with its
-- thumbnail. p_quota 0 = no quota.
CREATE FUNCTION upload_create(p_owner bigint, p_sha text, p_thumb_sha text,
    p_name text, p_size bigint, p_thumb_size bigint, p_mime text, p_kind text,
    p_width int, p_height int, p_duration double precision, p_quota bigint,
    OUT status text, OUT upload jsonb, OUT used bigint)
LANGUAGE plpgsql AS $$
DECLARE
    u uploads;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('upload-quota:' || p_owner, 17));
    SELECT coalesce(sum(size + thumb_size), 0) INTO used FROM uploads WHERE owner_id = p_owner;
    IF p_quota > 0 AND used + p_size + p_thumb_size > p_quota THEN
        status := 'over_quota'; RETURN;
    END IF;
    IF p_thumb_sha IS NOT NULL AND p_thumb_sha < p_sha THEN
        PERFORM pg_advisory_xact_lock(upload_blob_key(p_thumb_sha));
        PERFORM pg_advisory_xact_lock(upload_blob_key(p_sha));
    ELSE
        PERFORM pg_advisory_xact_lock(upload_blob_key(p_sha));
        IF p_thumb_sha IS NOT NULL AND p_thumb_sha <> p_sha THEN
            PERFORM pg_advisory_xact_lock(upload_blob_key(p_thumb_sha));
        END IF;
    END IF;
    INSERT INTO uploads (owner_id, sha256, thumb_sha256, name, size, thumb_size,
                         mime, kind, width, height, duration)
        VALUES (p_owner, p_sha, p_thumb_sha, p_name, p_size, p_thumb_size,
                p_mime, p_kind, p_width, p_height, p_duration)
        RETURNING * INTO u;
    upload := upload_json(u);
    used := used + p_size + p_thumb_size;
    status := 'created';
END $$;

-- May p_user fetch upload p_id? Its owner, and every member of a
-- conversation holding a message (not recalled) that carries it. Returns
-- the blob to serve (the thumbnail's with p_thumb), or no row: a refusal
-- and a missing id look the same.
CREATE FUNCTION upload_fetch(p_user bigint, p_id bigint, p_thumb boolean,
    OUT sha256 text, OUT name text, OUT mime text, OUT kind text)
RETURNS SETOF record
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_thumb THEN u.thumb_sha256 ELSE u.sha256 END,
           u.name, CASE WHEN p_thumb THEN 'image/jpeg' ELSE u.mime END, u.kind
    FROM uploads u
    WHERE u.id = p_id AND (NOT p_thumb OR u.thumb_sha256 IS NOT NULL)
      AND (u.owner_id = p_user OR EXISTS (
          SELECT 1 FROM messages m
          JOIN conversation_members cm ON cm.conversation_id = m.conversation_id
               AND cm.user_id = p_user
          WHERE (m.body ->> 'upload_id')::bigint = p_id AND m.body ? 'upload_id'
            AND m.recalled_at IS NULL))
$$;

-- The janitor: deletes up to p_batch uploads that no message carries,
-- and returns the blobs that no upload uses any more, which the caller
-- unlinks while this transaction still holds their locks, then commits.
-- Without p_sent: uploads never sent, made more than p_grace ago (the
-- partial index uploads_unsent: cheap every minute). With p_sent: sent
-- ones whose messages are all gone or recalled, the last send more than
-- p_grace ago (a scan of all sent uploads: the janitor runs it hourly).
CREATE FUNCTION upload_collect(p_grace interval, p_batch int, p_sent boolean,
    OUT ids bigint[], OUT blobs text[])
LANGUAGE plpgsql AS $$
DECLARE
    s text;
BEGIN
    WITH gone AS (
        DELETE FROM uploads WHERE id IN (
            SELECT u.id FROM uploads u
            WHERE u.created_at < now() - p_grace
              AND CASE WHEN p_sent THEN u.sent_at < now() - p_grace
                       AND NOT EXISTS (SELECT 1 FROM messages m
                           WHERE (m.body ->> 'upload_id')::bigint = u.id AND m.body ? 'upload_id'
                             AND (m.recalled_at IS NULL OR m.recalled_at > now() - p_grace))
                       ELSE u.sent_at IS NULL END
            ORDER BY u.id LIMIT p_batch
            FOR UPDATE SKIP LOCKED)
        -- Checked again on the row as it is now: a send that just set
        -- sent_at keeps its upload.
        AND (sent_at IS NULL OR sent_at < now() - p_grace)
        RETURNING id, sha256, thumb_sha256)
    SELECT array_agg(id ORDER BY id),
           ARRAY(SELECT DISTINCT x FROM (SELECT sha256 AS x FROM gone
                 UNION SELECT thumb_sha256 FROM gone) y WHERE x IS NOT NULL ORDER BY x)
        INTO ids, blobs FROM gone;
    IF ids IS NULL THEN
        ids := '{}'; blobs := '{}'; RETURN;
    END IF;
    FOREACH s IN ARRAY blobs LOOP
        PERFORM pg_advisory_xact_lock(upload_blob_key(s));
    END LOOP;
    blobs := ARRAY(SELECT b FROM unnest(blobs) b WHERE NOT EXISTS (
        SELECT 1 FROM uploads WHERE sha256 = b OR thumb_sha256 = b) ORDER BY b);
END $$;

-- Of the blobs named (files found on disk), those no upload uses: a file
-- left by a process that died between linking it and committing. The
-- caller takes each one's lock (upload_blob_lock) and asks again.
CREATE FUNCTION upload_orphans(p_blobs text[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(b ORDER BY b), '{}') FROM unnest(p_blobs) b
    WHERE NOT EXISTS (SELECT 1 FROM uploads WHERE sha256 = b OR thumb_sha256 = b)
$$;

-- status: created | duplicate | no_such_user | not_friends | blocked |
--         no_such_group | not_member | no_such_upload | upload_kind
-- `blocked` only when the sender blocked `p_to`; blocked by `p_to`, the
-- sender gets `not_friends` like any non-friend. (The messages service
-- answers `not_member` as it answers `no_such_group`; a site, which
-- speaks for the group's members, is told which.)
-- A body {"upload_id": N} names one of the sender's uploads (someone
-- else's answers `no_such_upload`, as a missing one does); the stored body
-- is upload_body() of it. Types image, audio and video need an upload of
-- that kind; `file` takes any.
CREATE OR REPLACE FUNCTION send_message(p_sender bigint, p_to bigint, p_group bigint,
    p_client text, p_type text, p_body jsonb,
    OUT status text, OUT message jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    conv    bigint;
    members bigint[];
    m       messages;
    up      uploads;
BEGIN
    IF p_client IS NOT NULL THEN
        -- Serializes retries of one client_id; the second sees the first.
        PERFORM pg_advisory_xact_lock(hashtextextended(p_sender || '/' || p_client, 11));
        SELECT * INTO m FROM messages WHERE sender_id = p_sender AND client_id = p_client;
        IF FOUND THEN
            status := 'duplicate'; message := message_json(m); RETURN;
        END IF;
    END IF;
    IF p_to IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(pair_key(p_sender, p_to));
        IF NOT EXISTS (SELECT 1 FROM users WHERE id = p_to) THEN
            status := 'no_such_user'; RETURN;
        END IF;
        IF EXISTS (SELECT 1 FROM blocks WHERE blocker_id = p_sender AND blocked_id = p_to) THEN
            status := 'blocked'; RETURN;
        END IF;
        IF EXISTS (SELECT 1 FROM blocks WHERE blocker_id = p_to AND blocked_id = p_sender)
           OR NOT EXISTS (SELECT 1 FROM friendships WHERE user_id = p_sender AND friend_id = p_to) THEN
            status := 'not_friends'; RETURN;
        END IF;
        INSERT INTO conversations (kind, user_lo, user_hi)
            VALUES ('direct', least(p_sender, p_to), greatest(p_sender, p_to))
            ON CONFLICT (user_lo, user_hi) DO NOTHING RETURNING id INTO conv;
        IF conv IS NULL THEN
            SELECT id INTO conv FROM conversations
                WHERE user_lo = least(p_sender, p_to) AND user_hi = greatest(p_sender, p_to);
        ELSE
            INSERT INTO conversation_members (conversation_id, user_id)
                VALUES (conv, p_sender), (conv, p_to);
        END IF;
        members := ARRAY[p_sender, p_to];
    ELSE
        -- The conversation row lock orders sends against member changes.
        PERFORM 1 FROM conversations WHERE id = p_group AND kind = 'group' FOR UPDATE;
        IF NOT FOUND THEN
            status := 'no_such_group'; RETURN;
        END IF;
        SELECT array_agg(user_id) INTO members FROM conversation_members
            WHERE conversation_id = p_group;
        IF members IS NULL OR NOT p_sender = ANY (members) THEN
            status := 'not_member'; RETURN;
        END IF;
        conv := p_group;
    END IF;
    IF p_body ? 'upload_id' THEN
        -- FOR UPDATE and the sent_at write: a janitor that picked the row
        -- skips it (SKIP LOCKED), or, if it locked it first, this waits
        -- and finds it gone.
        SELECT * INTO up FROM uploads
            WHERE id = (p_body ->> 'upload_id')::bigint AND owner_id = p_sender FOR UPDATE;
        IF NOT FOUND THEN
            status := 'no_such_upload'; RETURN;
        END IF;
        IF p_type <> 'file' AND p_type <> up.kind THEN
            status := 'upload_kind'; RETURN;
        END IF;
        UPDATE uploads SET sent_at = now() WHERE id = up.id;
        p_body := upload_body(up);
    END IF;
    UPDATE conversations SET head = head + 1 WHERE id = conv RETURNING head INTO m.seq;
    INSERT INTO messages (conversation_id, seq, sender_id, type, body, client_id)
        VALUES (conv, m.seq, p_sender, p_type, p_body, p_client) RETURNING * INTO m;
    message := message_json(m);
    woken := emit(members, 'message', jsonb_build_object('message', message));
    status := 'created';
END $$;
