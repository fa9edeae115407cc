-- Fix: group_remove() failed with "column reference "role" is ambiguous"
-- (the PL/pgSQL variable `role` vs conversation_members.role) whenever the
-- owner left, so an owner could never leave (500). Same function, with the
-- heir query's column qualified.
CREATE OR REPLACE FUNCTION group_remove(p_actor bigint, p_group bigint, p_user bigint,
    OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    role   text := group_lock_role(p_actor, p_group);
    target text;
    heir   bigint;
    before bigint[];
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
    before := group_member_ids(p_group);
    DELETE FROM conversation_members WHERE conversation_id = p_group AND user_id = p_user;
    IF target = 'owner' THEN
        SELECT cm.user_id INTO heir FROM conversation_members cm
            WHERE cm.conversation_id = p_group
            ORDER BY cm.role = 'admin' DESC, cm.joined_at, cm.user_id LIMIT 1;
        IF heir IS NOT NULL THEN
            UPDATE conversation_members SET role = 'owner'
                WHERE conversation_id = p_group AND user_id = heir;
        END IF;
    END IF;
    woken := emit(before, 'group.member_removed', jsonb_build_object(
        'group_id', p_group, 'user_id', p_user, 'by', p_actor, 'new_owner', heir));
    status := 'ok';
END $$;
