-- calls_sweep() without holding every live call: it used to lock each live
-- call row every second to look at its parties, so accepts, hang-ups and
-- signals waited behind the sweep and every live row was rewritten. Now
-- it finds the calls with an offline party first, then locks only those
-- (skipping rows a request holds) and checks again under the lock.
CREATE OR REPLACE FUNCTION calls_sweep(p_window interval, p_idle interval) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    woken bigint[] := '{}';
    c     calls;
    gone  bigint;
    rec   record;
BEGIN
    FOR c IN SELECT * FROM calls WHERE state = 'ringing' AND ring_deadline <= now()
             ORDER BY id FOR UPDATE SKIP LOCKED LOOP
        woken := woken || (call_finish(c.id, 'timeout', NULL)).woken;
    END LOOP;
    FOR c IN SELECT * FROM calls WHERE id IN (
                 SELECT id FROM calls WHERE state <> 'ended'
                   AND (NOT user_online(caller_id, p_window)
                        OR NOT user_online(callee_id, p_window)))
             ORDER BY id FOR UPDATE SKIP LOCKED LOOP
        CONTINUE WHEN c.state = 'ended';
        gone := CASE WHEN NOT user_online(c.caller_id, p_window) THEN c.caller_id
                     WHEN NOT user_online(c.callee_id, p_window) THEN c.callee_id END;
        IF gone IS NOT NULL THEN
            woken := woken || (call_finish(c.id, 'disconnected', gone)).woken;
        END IF;
    END LOOP;
    FOR rec IN SELECT m.room_id, m.user_id FROM room_members m
               WHERE NOT user_online(m.user_id, p_window) ORDER BY 1, 2 LOOP
        woken := woken || (room_leave(rec.user_id, rec.room_id, 'disconnected')).woken;
    END LOOP;
    FOR rec IN SELECT r.id FROM rooms r WHERE r.closed_at IS NULL
               AND r.created_at < now() - p_idle
               AND NOT EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id)
               FOR UPDATE SKIP LOCKED LOOP
        UPDATE rooms SET closed_at = now() WHERE id = rec.id;
        woken := woken || emit(ARRAY(SELECT user_id FROM room_invites WHERE room_id = rec.id),
            'room.closed', jsonb_build_object('room_id', rec.id));
    END LOOP;
    RETURN woken;
END $$;
