-- The message.offline part of the messages trigger as one statement: the
-- recipients linked to a subscribed site, minus those with a device
-- online, straight into the outbox. 011 ran a query per recipient
-- (user_online) after the loop's own query; with every recipient linked
-- and online that cost sends 23% (make bench, figure 6).
CREATE OR REPLACE FUNCTION messages_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    win interval;
    c   calls;
BEGIN
    -- The common case (no site wants webhooks) costs one tiny lookup.
    IF NOT EXISTS (SELECT 1 FROM sites WHERE webhook_url IS NOT NULL) THEN
        RETURN NULL;
    END IF;
    IF NEW.type = 'call' THEN
        IF NEW.body ->> 'result' = 'missed' THEN
            SELECT * INTO c FROM calls WHERE id = (NEW.body ->> 'call_id')::bigint;
            IF FOUND THEN
                PERFORM webhook_enqueue(c.callee_id, 'call.missed', c.caller_id,
                    jsonb_build_object('call', jsonb_build_object('id', c.id,
                        'media', c.media, 'reason', c.reason,
                        'created_at', iso(c.created_at))));
            END IF;
        END IF;
        RETURN NULL;
    END IF;
    win := make_interval(secs => coalesce(nullif(
        current_setting('parley.online_window', true), ''), '60')::int);
    -- Offline as in user_online(): no live session polled within win.
    INSERT INTO webhook_outbox (site_id, type, data)
    SELECT s.id, 'message.offline', jsonb_build_object(
            'user', site_user_json(cm.user_id, s.id),
            'from', CASE WHEN NEW.sender_id IS NOT NULL
                         THEN site_user_json(NEW.sender_id, s.id) END,
            'message', message_json(NEW))
    FROM conversation_members cm
    JOIN site_users su ON su.user_id = cm.user_id
    JOIN sites s ON s.id = su.site_id
    WHERE cm.conversation_id = NEW.conversation_id
      AND cm.user_id IS DISTINCT FROM NEW.sender_id
      AND s.webhook_url IS NOT NULL
      AND 'message.offline' = ANY (s.webhook_events)
      AND NOT EXISTS (SELECT 1 FROM sessions se WHERE se.user_id = cm.user_id
          AND se.revoked_at IS NULL AND se.expires_at > now()
          AND se.last_poll_at > now() - win);
    RETURN NULL;
END $$;
