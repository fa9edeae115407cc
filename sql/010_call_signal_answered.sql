-- The callee signals only from the device that answered: before an answer
-- no device of theirs is in the call (call_signal() used to let any of
-- them relay while the call rang).
CREATE OR REPLACE FUNCTION call_signal(p_user bigint, p_device bigint, p_call bigint,
    p_kind text, p_data jsonb, p_max int,
    OUT status text, OUT woken bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    c     calls;
    other bigint;
BEGIN
    SELECT * INTO c FROM calls WHERE id = p_call FOR UPDATE;
    IF NOT FOUND OR p_user NOT IN (c.caller_id, c.callee_id) THEN
        status := 'not_found'; RETURN;
    ELSIF c.state = 'ended' THEN
        status := 'ended'; RETURN;
    END IF;
    IF p_user = c.caller_id THEN
        IF p_device <> c.caller_device THEN
            status := 'wrong_device'; RETURN;
        ELSIF c.caller_signals >= p_max THEN
            status := 'too_many'; RETURN;
        END IF;
        UPDATE calls SET caller_signals = caller_signals + 1 WHERE id = p_call;
        other := c.callee_id;
    ELSE
        IF c.state = 'ringing' THEN
            status := 'not_answered'; RETURN;
        ELSIF p_device <> c.callee_device THEN
            status := 'wrong_device'; RETURN;
        ELSIF c.callee_signals >= p_max THEN
            status := 'too_many'; RETURN;
        END IF;
        UPDATE calls SET callee_signals = callee_signals + 1 WHERE id = p_call;
        other := c.caller_id;
    END IF;
    woken := emit(ARRAY[other], 'call.signal', jsonb_build_object('call_id', c.id,
        'kind', p_kind, 'data', p_data, 'from', p_user));
    status := 'ok';
END $$;
