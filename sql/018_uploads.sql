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

-- upload_blob_key(): sql/functions/00_pure.sql

-- upload_json(): sql/functions/85_uploads.sql

-- upload_body(): sql/functions/85_uploads.sql

-- upload_create(): sql/functions/85_uploads.sql

-- upload_fetch(): sql/functions/85_uploads.sql

-- upload_collect(): sql/functions/85_uploads.sql

-- upload_orphans(): sql/functions/85_uploads.sql

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
-- send_message(): sql/functions/40_messaging.sql
