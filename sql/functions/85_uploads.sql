-- Uploads (sql/018): rows describing the files the uploads service
-- stores; lock order in sql/018.

-- What the uploader is told (POST /uploads) and what a message body holds.
CREATE OR REPLACE FUNCTION upload_json(u uploads) RETURNS jsonb
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

-- A message body naming an upload: what clients need to show and fetch it.
CREATE OR REPLACE FUNCTION upload_body(u uploads) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('upload_id', u.id)
        || (upload_json(u) - 'id' - 'kind' - 'created_at')
$$;

-- status: created | over_quota
-- Bytes counted: every upload the user holds, sent or not, with its
-- thumbnail. p_quota 0 = no quota.
CREATE OR REPLACE FUNCTION upload_create(p_owner bigint, p_sha text, p_thumb_sha text,
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
CREATE OR REPLACE FUNCTION upload_fetch(p_user bigint, p_id bigint, p_thumb boolean,
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
CREATE OR REPLACE FUNCTION upload_collect(p_grace interval, p_batch int, p_sent boolean,
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
CREATE OR REPLACE FUNCTION upload_orphans(p_blobs text[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(b ORDER BY b), '{}') FROM unnest(p_blobs) b
    WHERE NOT EXISTS (SELECT 1 FROM uploads WHERE sha256 = b OR thumb_sha256 = b)
$$;
