-- Webhook delivery (sql/016): fair claims across sites, attempts, leases.

-- Per-site delivery state (webhook_sites): a row for each new site, and a
-- new URL starts with a clean failure record.
CREATE OR REPLACE FUNCTION sites_webhook_state() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO webhook_sites (site_id) VALUES (NEW.id)
            ON CONFLICT DO NOTHING;
    ELSE
        -- A new URL is a new receiver: the old one's failures do not
        -- hold it back.
        UPDATE webhook_sites SET fail_streak = 0, pauses = 0,
            paused_until = NULL
        WHERE site_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER sites_webhook_state_insert AFTER INSERT ON sites
    FOR EACH ROW EXECUTE FUNCTION sites_webhook_state();

CREATE OR REPLACE TRIGGER sites_webhook_state_url AFTER UPDATE OF webhook_url ON sites
    FOR EACH ROW WHEN (OLD.webhook_url IS DISTINCT FROM NEW.webhook_url)
    EXECUTE FUNCTION sites_webhook_state();

-- Claims at most p_limit due deliveries for one dispatcher: site by site
-- in turn, at most p_per_site of one site in flight (counting every live
-- dispatcher's: the site's row is locked while it is served, and a site
-- another dispatcher is serving is skipped), none of a paused site. Each
-- claimed row gets one more attempt and a lease of p_lease s: it is due
-- again when that passes unless its attempt is recorded first.
CREATE OR REPLACE FUNCTION webhook_claim(p_limit integer, p_per_site integer,
    p_lease float8)
RETURNS TABLE (c_id bigint, c_attempts integer, c_age float8, c_type text,
    c_site text, c_secret text, c_url text, c_body text)
LANGUAGE plpgsql AS $$
DECLARE
    w      record;
    v_left integer := p_limit;
    v_k    integer;
    v_n    integer;
    v_live integer[] := ARRAY(SELECT pid FROM pg_stat_activity);
BEGIN
    FOR w IN
        SELECT ws.site_id FROM webhook_sites ws
        WHERE (ws.paused_until IS NULL OR ws.paused_until <= now())
          AND EXISTS (SELECT 1 FROM webhook_outbox o
                      WHERE o.site_id = ws.site_id AND o.state = 'pending'
                        AND o.next_attempt_at <= now())
        ORDER BY ws.served_at NULLS FIRST, ws.site_id
        FOR UPDATE OF ws SKIP LOCKED
    LOOP
        SELECT p_per_site - count(*) INTO v_k FROM webhook_outbox o
        WHERE o.site_id = w.site_id AND o.lease_until IS NOT NULL
          AND o.lease_until > now() AND o.lease_pid = ANY (v_live);
        v_k := least(v_k, v_left);
        CONTINUE WHEN v_k <= 0;
        RETURN QUERY
        WITH due AS (
            SELECT o.id FROM webhook_outbox o
            WHERE o.site_id = w.site_id AND o.state = 'pending'
              AND o.next_attempt_at <= now()
            ORDER BY o.next_attempt_at LIMIT v_k
            FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE webhook_outbox o SET attempts = o.attempts + 1,
                next_attempt_at = now() + make_interval(secs => p_lease),
                lease_until = now() + make_interval(secs => p_lease),
                lease_pid = pg_backend_pid()
            FROM due WHERE o.id = due.id
            RETURNING o.id, o.attempts, o.created_at, o.type, o.data,
                o.site_id
        )
        SELECT c.id, c.attempts,
            extract(epoch FROM now() - c.created_at)::float8, c.type,
            s.name, s.secret, s.webhook_url,
            jsonb_build_object('id', c.id, 'type', c.type, 'created_at',
                iso(c.created_at), 'site', s.name, 'data', c.data)::text
        FROM claimed c JOIN sites s ON s.id = c.site_id;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        IF v_n > 0 THEN
            UPDATE webhook_sites SET served_at = now()
            WHERE site_id = w.site_id;
            v_left := v_left - v_n;
            EXIT WHEN v_left <= 0;
        END IF;
    END LOOP;
END $$;

-- Records an attempt of delivery p_id: p_state 'pending' (retried in
-- p_wait_ms), 'delivered' or 'failed'. A delivery resets its site's
-- failure streak; a failure of the site's receiver (p_strike) adds to it,
-- and from the third in a row on, unless the site is paused already (its
-- other deliveries were in flight), pauses the site's claims: p_backoff_ms
-- for the first pause, doubling with each one after it, at most 5
-- minutes, +-20%. So a site that is down gets one round of at most
-- PARLEY_WEBHOOK_PER_SITE attempts per pause, whatever its backlog.
CREATE OR REPLACE FUNCTION webhook_finish(p_id bigint, p_state text,
    p_status integer, p_error text, p_wait_ms float8, p_strike boolean,
    p_backoff_ms float8)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_site bigint;
BEGIN
    UPDATE webhook_outbox SET state = p_state, last_status = p_status,
        last_error = p_error, lease_until = NULL, lease_pid = NULL,
        finished_at = CASE WHEN p_state = 'pending' THEN NULL ELSE now() END,
        next_attempt_at = CASE WHEN p_state = 'pending'
            THEN now() + make_interval(secs => p_wait_ms / 1000)
            ELSE next_attempt_at END
    WHERE id = p_id RETURNING site_id INTO v_site;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF p_state = 'delivered' THEN
        UPDATE webhook_sites SET fail_streak = 0, pauses = 0,
            paused_until = NULL
        WHERE site_id = v_site AND (fail_streak <> 0 OR pauses <> 0);
    ELSIF p_strike THEN
        -- SET expressions read the row as it was.
        UPDATE webhook_sites SET fail_streak = fail_streak + 1,
            pauses = pauses + 1,
            paused_until = now() + make_interval(secs =>
                least(p_backoff_ms * power(2::float8, least(pauses, 16)),
                    300000) * (0.8 + 0.4 * random()) / 1000)
        WHERE site_id = v_site AND fail_streak + 1 >= 3
          AND (paused_until IS NULL OR paused_until <= now());
        IF NOT FOUND THEN
            UPDATE webhook_sites SET fail_streak = fail_streak + 1
            WHERE site_id = v_site;
        END IF;
    END IF;
END $$;

-- A dispatcher told to stop hands back what it has in flight: due again
-- at once.
CREATE OR REPLACE FUNCTION webhook_release(p_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE webhook_outbox SET next_attempt_at = now(), lease_until = NULL,
        lease_pid = NULL
    WHERE id = ANY (p_ids) AND state = 'pending' AND lease_until IS NOT NULL
$$;

-- A dispatcher starting takes back the deliveries of dispatchers that
-- died mid-attempt (killed, crashed: their backends are gone), due at
-- once rather than when their leases end. Returns how many.
CREATE OR REPLACE FUNCTION webhook_reclaim() RETURNS bigint
LANGUAGE sql AS $$
    WITH r AS (
        UPDATE webhook_outbox SET next_attempt_at = now(), lease_until = NULL,
            lease_pid = NULL
        WHERE lease_until IS NOT NULL AND state = 'pending'
          AND (lease_pid IS NULL
               OR lease_pid NOT IN (SELECT pid FROM pg_stat_activity))
        RETURNING 1)
    SELECT count(*) FROM r
$$;
