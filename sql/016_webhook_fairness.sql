-- Webhook fairness (issue 12): a site whose receiver never answers must
-- not delay the other sites' deliveries. Dispatchers claim through
-- webhook_claim(): sites in turn (the least recently served first), at
-- most p_per_site deliveries of one site in flight across all
-- dispatchers, nothing from a site paused after a failure streak.
-- webhook_finish() records an attempt and keeps that streak.

-- Set while a dispatcher holds the row (the attempt is in flight),
-- cleared when the attempt is recorded; lease_pid is the holder's
-- database backend. A dispatcher that dies leaves them set: its rows do
-- not count as in flight once that backend is gone, and a dispatcher
-- starting takes them back at once (webhook_reclaim) instead of after
-- the lease.
ALTER TABLE webhook_outbox ADD COLUMN lease_until timestamptz,
    ADD COLUMN lease_pid integer;

-- The claim looks for due rows site by site.
DROP INDEX webhook_outbox_due;
CREATE INDEX webhook_outbox_site_due ON webhook_outbox (site_id, next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_outbox_in_flight ON webhook_outbox (site_id, lease_until)
    WHERE lease_until IS NOT NULL;

-- Per-site delivery state, one row per site (made by the trigger on sites,
-- sql/functions/82_webhooks.sql).
CREATE TABLE webhook_sites (
    site_id      bigint PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    -- Attempts that failed in a row (any success resets it).
    fail_streak  integer NOT NULL DEFAULT 0,
    -- No claims for this site before this: from the third failure in a
    -- row on, each failure outside a pause starts one, twice as long as
    -- the one before (pauses counts them).
    paused_until timestamptz,
    pauses       integer NOT NULL DEFAULT 0,
    -- The last claim that took rows of this site: the turn order.
    served_at    timestamptz
);
INSERT INTO webhook_sites (site_id) SELECT id FROM sites;

-- trigger sites_webhook_state_url: sql/functions/82_webhooks.sql

-- webhook_claim(): sql/functions/82_webhooks.sql

-- webhook_finish(): sql/functions/82_webhooks.sql

-- webhook_release(): sql/functions/82_webhooks.sql

-- webhook_reclaim(): sql/functions/82_webhooks.sql

-- What sites were told before: libcurl's own words (they named hosts and
-- told a closed port from a filtered one). The coarse texts the
-- dispatcher uses now.
UPDATE webhook_outbox SET last_error = CASE
        WHEN last_error LIKE '%internal address%'
            THEN 'refused: internal address'
        WHEN last_error ILIKE '%timed out%' OR last_error ILIKE '%timeout%'
            THEN 'timeout'
        WHEN last_error = 'the site has no webhook URL' THEN 'no webhook URL'
        WHEN last_error = 'the URL cannot be parsed' THEN 'invalid URL'
        ELSE 'connection failed' END
WHERE last_error IS NOT NULL AND last_error !~ '^HTTP [0-9]+$';
