-- Groups: a group is a conversation of kind 'group' with members and
-- roles. Every change locks the conversation row first (as send_message
-- does), so a message and a membership change are ordered. Each function
-- returns a status for the service to map to HTTP, and the users whose
-- streams got events.

-- A group with its members and their roles.
CREATE OR REPLACE FUNCTION group_json(p_conv bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', c.id, 'name', c.name,
        'created_at', iso(c.created_at),
        'members', (SELECT jsonb_agg(jsonb_build_object(
                'id', u.id, 'username', u.username,
                'display_name', u.display_name, 'role', cm.role)
                ORDER BY cm.joined_at, u.id)
            FROM conversation_members cm JOIN users u ON u.id = cm.user_id
            WHERE cm.conversation_id = c.id))
    FROM conversations c WHERE c.id = p_conv AND c.kind = 'group'
$$;

-- The actor's role in a group, locking the group row; NULL if the group is
-- unknown or the actor not a member (both are "not found" to them).
CREATE OR REPLACE FUNCTION group_lock_role(p_actor bigint, p_group bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    PERFORM 1 FROM conversations WHERE id = p_group AND kind = 'group' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT role INTO r FROM conversation_members
        WHERE conversation_id = p_group AND user_id = p_actor;
    RETURN r;
END $$;

CREATE OR REPLACE FUNCTION group_member_ids(p_group bigint) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(user_id), '{}') FROM conversation_members
    WHERE conversation_id = p_group
$$;

-- status: ok | not_friends (detail = the ids) | too_many
CREATE OR REPLACE FUNCTION group_create(p_owner bigint, p_name text, p_members bigint[],
    p_max int, OUT status text, OUT group_id bigint, OUT detail bigint[],
    OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    everyone bigint[];
BEGIN
    SELECT array_agg(DISTINCT u) INTO everyone
        FROM unnest(p_members || p_owner) u;
    IF cardinality(everyone) > p_max THEN
        status := 'too_many'; RETURN;
    END IF;
    detail := not_friends_of(p_owner, array_remove(everyone, p_owner));
    IF detail IS NOT NULL THEN
        status := 'not_friends'; RETURN;
    END IF;
    INSERT INTO conversations (kind, name) VALUES ('group', p_name)
        RETURNING id INTO group_id;
    INSERT INTO conversation_members (conversation_id, user_id, role)
        SELECT group_id, u, CASE WHEN u = p_owner THEN 'owner' ELSE 'member' END
        FROM unnest(everyone) u;
    woken := emit(everyone, 'group.created', jsonb_build_object(
        'group_id', group_id, 'name', p_name, 'by', p_owner));
    status := 'ok';
END $$;

-- status: ok | not_found | forbidden | not_friends | too_many
CREATE OR REPLACE FUNCTION group_add(p_actor bigint, p_group bigint, p_users bigint[],
    p_max int, OUT status text, OUT detail bigint[], OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    role  text := group_lock_role(p_actor, p_group);
    added bigint[];
BEGIN
    IF role IS NULL THEN
        status := 'not_found'; RETURN;
    ELSIF role = 'member' THEN
        status := 'forbidden'; RETURN;
    END IF;
    SELECT array_agg(DISTINCT u) INTO added FROM unnest(p_users) u
        WHERE NOT u = ANY (group_member_ids(p_group));
    IF added IS NULL THEN
        status := 'ok'; woken := '{}'; RETURN;
    END IF;
    detail := not_friends_of(p_actor, added);
    IF detail IS NOT NULL THEN
        status := 'not_friends'; RETURN;
    END IF;
    IF cardinality(group_member_ids(p_group)) + cardinality(added) > p_max THEN
        status := 'too_many'; RETURN;
    END IF;
    INSERT INTO conversation_members (conversation_id, user_id)
        SELECT p_group, u FROM unnest(added) u;
    woken := emit(group_member_ids(p_group), 'group.members_added',
        jsonb_build_object('group_id', p_group, 'user_ids', to_jsonb(added), 'by', p_actor));
    status := 'ok';
END $$;

-- Takes p_user out of group p_group, whose row the caller has locked and
-- of which p_user is a member: hands an owner's group to the longest-
-- standing admin, else member, and tells everyone who was a member
-- (group.member_removed; `by` NULL when an operator did it). The one
-- rule for group_remove() and the admin service. Emits: call it last.
CREATE OR REPLACE FUNCTION group_expel(p_group bigint, p_user bigint, p_by bigint)
RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    target text;
    heir   bigint;
    before bigint[] := group_member_ids(p_group);
BEGIN
    DELETE FROM conversation_members cm
        WHERE cm.conversation_id = p_group AND cm.user_id = p_user
        RETURNING cm.role INTO target;
    IF target = 'owner' THEN
        SELECT cm.user_id INTO heir FROM conversation_members cm
            WHERE cm.conversation_id = p_group
            ORDER BY cm.role = 'admin' DESC, cm.joined_at, cm.user_id LIMIT 1;
        IF heir IS NOT NULL THEN
            UPDATE conversation_members SET role = 'owner'
                WHERE conversation_id = p_group AND user_id = heir;
        END IF;
    END IF;
    RETURN emit(before, 'group.member_removed', jsonb_build_object(
        'group_id', p_group, 'user_id', p_user, 'by', p_by, 'new_owner', heir));
END $$;

-- Removes p_user (p_user = p_actor: leaving). Owners remove anyone, admins
-- remove members; group_expel() hands an owner's group on.
-- status: ok | not_found | not_member | forbidden
CREATE OR REPLACE FUNCTION group_remove(p_actor bigint, p_group bigint, p_user bigint,
    OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    role   text := group_lock_role(p_actor, p_group);
    target text;
BEGIN
    IF role IS NULL THEN
        status := 'not_found'; RETURN;
    END IF;
    SELECT cm.role INTO target FROM conversation_members cm
        WHERE conversation_id = p_group AND user_id = p_user;
    IF target IS NULL THEN
        status := 'not_member'; RETURN;
    END IF;
    IF p_actor <> p_user AND NOT (role = 'owner' OR (role = 'admin' AND target = 'member')) THEN
        status := 'forbidden'; RETURN;
    END IF;
    woken := group_expel(p_group, p_user, p_actor);
    status := 'ok';
END $$;

-- status: ok | not_found | forbidden
CREATE OR REPLACE FUNCTION group_rename(p_actor bigint, p_group bigint, p_name text,
    OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    role text := group_lock_role(p_actor, p_group);
BEGIN
    IF role IS NULL THEN
        status := 'not_found'; RETURN;
    ELSIF role = 'member' THEN
        status := 'forbidden'; RETURN;
    END IF;
    UPDATE conversations SET name = p_name WHERE id = p_group;
    woken := emit(group_member_ids(p_group), 'group.renamed', jsonb_build_object(
        'group_id', p_group, 'name', p_name, 'by', p_actor));
    status := 'ok';
END $$;

-- Only the owner changes roles (admin <-> member).
-- status: ok | not_found | not_member | forbidden
CREATE OR REPLACE FUNCTION group_set_role(p_actor bigint, p_group bigint, p_user bigint,
    p_role text, OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    role text := group_lock_role(p_actor, p_group);
BEGIN
    IF role IS NULL THEN
        status := 'not_found'; RETURN;
    ELSIF role <> 'owner' OR p_user = p_actor THEN
        status := 'forbidden'; RETURN;
    END IF;
    UPDATE conversation_members SET role = p_role
        WHERE conversation_id = p_group AND user_id = p_user;
    IF NOT FOUND THEN
        status := 'not_member'; RETURN;
    END IF;
    woken := emit(group_member_ids(p_group), 'group.role_changed', jsonb_build_object(
        'group_id', p_group, 'user_id', p_user, 'role', p_role, 'by', p_actor));
    status := 'ok';
END $$;
