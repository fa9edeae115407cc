-- Sites (tables: sql/011): their users, friendships, messages and pushes,
-- and the triggers that queue their webhooks.

-- A user as a site sees it: external_id is null for users not its own.
CREATE OR REPLACE FUNCTION site_user_json(p_user bigint, p_site bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', u.id, 'username', u.username,
        'display_name', u.display_name, 'external_id',
        (SELECT external_id FROM site_users
         WHERE user_id = u.id AND site_id = p_site))
    FROM users u WHERE u.id = p_user
$$;

-- Queues webhook `p_type` about `p_user` for the user's site, when that
-- site has a webhook for this type. `p_from` (may be null) becomes
-- data.from. Runs inside the writing transaction: the event and the write
-- commit together (an outbox), and no NOTIFY is sent (it would serialize
-- commits; the dispatcher polls a partial index instead).
CREATE OR REPLACE FUNCTION webhook_enqueue(p_user bigint, p_type text, p_from bigint,
    p_data jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO webhook_outbox (site_id, type, data)
    SELECT s.id, p_type, jsonb_build_object(
            'user', site_user_json(p_user, s.id),
            'from', CASE WHEN p_from IS NOT NULL THEN site_user_json(p_from, s.id) END)
            || p_data
    FROM site_users su JOIN sites s ON s.id = su.site_id
    WHERE su.user_id = p_user AND s.webhook_url IS NOT NULL
      AND p_type = ANY (s.webhook_events)
$$;

-- message.offline for each recipient linked to a subscribed site with no
-- device online (parley.online_window: set by every service connection
-- from PARLEY_ONLINE_WINDOW), in one statement straight into the outbox
-- (sql/012); call.missed for a missed call's record.
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

CREATE OR REPLACE TRIGGER messages_webhooks AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_webhooks();

-- friend.request, unless the request is silent (the recipient blocked the
-- sender and never sees it).
CREATE OR REPLACE FUNCTION friend_requests_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM webhook_enqueue(NEW.to_id, 'friend.request', NEW.from_id,
        jsonb_build_object('request', jsonb_build_object('id', NEW.id,
            'memo', NEW.memo, 'created_at', iso(NEW.created_at))));
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER friend_requests_webhooks AFTER INSERT ON friend_requests
    FOR EACH ROW WHEN (NOT NEW.silent)
    EXECUTE FUNCTION friend_requests_webhooks();

-- Creates or updates the user linked to (site, external id).
-- status: created | updated | username_taken | username_required
CREATE OR REPLACE FUNCTION site_user_put(p_site bigint, p_ext text, p_username text,
    p_display text, OUT status text, OUT user_json jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    uid bigint;
BEGIN
    -- Two PUTs of one new external id must not create two users.
    PERFORM pg_advisory_xact_lock(hashtextextended(p_site || '/' || p_ext, 13));
    SELECT user_id INTO uid FROM site_users WHERE site_id = p_site AND external_id = p_ext;
    BEGIN
        IF uid IS NULL THEN
            IF p_username IS NULL THEN
                status := 'username_required'; RETURN;
            END IF;
            INSERT INTO users (username, display_name)
                VALUES (p_username, coalesce(p_display, p_username)) RETURNING id INTO uid;
            INSERT INTO site_users (site_id, external_id, user_id) VALUES (p_site, p_ext, uid);
            status := 'created';
        ELSE
            UPDATE users SET username = coalesce(p_username, username),
                display_name = coalesce(p_display, display_name) WHERE id = uid;
            status := 'updated';
        END IF;
    EXCEPTION WHEN unique_violation THEN
        status := 'username_taken'; RETURN;
    END;
    user_json := site_user_json(uid, p_site);
END $$;

-- A login ticket is good once, before it expires.
-- status: ok | invalid | used | expired
CREATE OR REPLACE FUNCTION ticket_redeem(p_hash bytea, OUT status text, OUT user_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    t login_tickets;
BEGIN
    SELECT * INTO t FROM login_tickets WHERE hash = p_hash FOR UPDATE;
    IF NOT FOUND THEN
        status := 'invalid';
    ELSIF t.used_at IS NOT NULL THEN
        status := 'used';
    ELSIF t.expires_at <= now() THEN
        status := 'expired';
    ELSE
        UPDATE login_tickets SET used_at = now() WHERE hash = p_hash;
        status := 'ok';
        user_id := t.user_id;
    END IF;
END $$;

-- Makes two users friends without a request (a site importing its social
-- graph). Pending requests between them count as accepted.
-- status: created | exists | blocked
CREATE OR REPLACE FUNCTION site_friend_add(p_a bigint, p_b bigint,
    OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(pair_key(p_a, p_b));
    IF EXISTS (SELECT 1 FROM blocks WHERE (blocker_id = p_a AND blocked_id = p_b)
                                      OR (blocker_id = p_b AND blocked_id = p_a)) THEN
        status := 'blocked'; RETURN;
    END IF;
    INSERT INTO friendships (user_id, friend_id) VALUES (p_a, p_b), (p_b, p_a)
        ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        status := 'exists'; RETURN;
    END IF;
    UPDATE friend_requests SET state = 'accepted', decided_at = now()
        WHERE state = 'pending' AND ((from_id = p_a AND to_id = p_b)
                                  OR (from_id = p_b AND to_id = p_a));
    woken := emit(ARRAY[p_a, p_b], 'friend.added', jsonb_build_object(
        'users', jsonb_build_array(p_a, p_b),
        'profiles', (SELECT jsonb_agg(jsonb_build_object('id', id,
            'username', username, 'display_name', display_name) ORDER BY id)
            FROM users WHERE id IN (p_a, p_b))));
    status := 'created';
END $$;

-- status: removed | not_friends
CREATE OR REPLACE FUNCTION site_friend_remove(p_a bigint, p_b bigint,
    OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(pair_key(p_a, p_b));
    DELETE FROM friendships WHERE (user_id = p_a AND friend_id = p_b)
                               OR (user_id = p_b AND friend_id = p_a);
    IF NOT FOUND THEN
        status := 'not_friends'; RETURN;
    END IF;
    woken := emit(ARRAY[p_a, p_b], 'friend.removed', jsonb_build_object(
        'users', jsonb_build_array(p_a, p_b), 'by', NULL));
    status := 'removed';
END $$;

-- A group exists for a site when at least one of its members is the
-- site's user: a site cannot write into other sites' groups.
CREATE OR REPLACE FUNCTION site_group_visible(p_site bigint, p_group bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM conversations c
        JOIN conversation_members cm ON cm.conversation_id = c.id
        JOIN site_users su ON su.user_id = cm.user_id AND su.site_id = p_site
        WHERE c.id = p_group AND c.kind = 'group')
$$;

-- A system message (no sender) from a site: into a group, or into the
-- user's notices conversation with the site (created on first use).
-- status: created | no_such_group
CREATE OR REPLACE FUNCTION site_system_message(p_site bigint, p_user bigint,
    p_group bigint, p_body jsonb,
    OUT status text, OUT message jsonb, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    conv    bigint;
    members bigint[];
    m       messages;
BEGIN
    IF p_user IS NOT NULL THEN
        INSERT INTO conversations (kind, site_id, user_lo, name)
            SELECT 'system', p_site, p_user, name FROM sites WHERE id = p_site
            ON CONFLICT (site_id, user_lo) WHERE kind = 'system' DO NOTHING
            RETURNING id INTO conv;
        IF conv IS NULL THEN
            SELECT id INTO conv FROM conversations
                WHERE kind = 'system' AND site_id = p_site AND user_lo = p_user;
        ELSE
            INSERT INTO conversation_members (conversation_id, user_id)
                VALUES (conv, p_user);
        END IF;
        members := ARRAY[p_user];
    ELSE
        PERFORM 1 FROM conversations WHERE id = p_group AND kind = 'group' FOR UPDATE;
        IF NOT site_group_visible(p_site, p_group) THEN
            status := 'no_such_group'; RETURN;
        END IF;
        SELECT array_agg(user_id) INTO members FROM conversation_members
            WHERE conversation_id = p_group;
        conv := p_group;
    END IF;
    UPDATE conversations SET head = head + 1 WHERE id = conv RETURNING head INTO m.seq;
    INSERT INTO messages (conversation_id, seq, sender_id, type, body)
        VALUES (conv, m.seq, NULL, 'system', p_body) RETURNING * INTO m;
    message := message_json(m);
    woken := emit(members, 'message', jsonb_build_object('message', message));
    status := 'created';
END $$;

-- A site's push: to some of its users, to the members of a group who are
-- its users, or to all its users. Only the site's own users receive it.
-- status: ok | no_such_group
CREATE OR REPLACE FUNCTION site_push(p_site bigint, p_ext text[], p_group bigint,
    p_all boolean, p_event jsonb,
    OUT status text, OUT recipients int, OUT unknown text[], OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    users bigint[];
BEGIN
    IF p_group IS NOT NULL THEN
        IF NOT site_group_visible(p_site, p_group) THEN
            status := 'no_such_group'; RETURN;
        END IF;
        SELECT array_agg(cm.user_id) INTO users FROM conversation_members cm
            JOIN site_users su ON su.user_id = cm.user_id AND su.site_id = p_site
            WHERE cm.conversation_id = p_group;
    ELSIF p_all THEN
        SELECT array_agg(user_id) INTO users FROM site_users WHERE site_id = p_site;
    ELSE
        SELECT array_agg(user_id) INTO users FROM site_users
            WHERE site_id = p_site AND external_id = ANY (p_ext);
        SELECT coalesce(array_agg(e), '{}') INTO unknown FROM unnest(p_ext) e
            WHERE NOT EXISTS (SELECT 1 FROM site_users
                              WHERE site_id = p_site AND external_id = e);
    END IF;
    woken := emit(coalesce(users, '{}'), 'push', jsonb_build_object(
        'site', (SELECT name FROM sites WHERE id = p_site), 'event', p_event));
    recipients := cardinality(woken);
    status := 'ok';
END $$;
