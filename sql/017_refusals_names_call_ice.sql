-- Names that cannot reorder text, refusals that reveal nothing, and TURN
-- credentials bound to one call (issue 12, items 11, 9 and 12).

-- Bidi controls (Unicode Bidi_Control: U+061C, U+200E, U+200F,
-- U+202A..U+202E, U+2066..U+2069) reorder how a name is shown ("evil"
-- shown as "live"). The services strip them from display and group names
-- (shared/valid.c, VALID_NAME); this strips the names stored before, and
-- the constraints keep any other path from storing one again.
CREATE FUNCTION strip_bidi(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT translate(s, U&'\061C\200E\200F\202A\202B\202C\202D\202E\2066\2067\2068\2069', '')
$$;

UPDATE users SET display_name = CASE WHEN strip_bidi(display_name) = '' THEN username
                                     ELSE strip_bidi(display_name) END
    WHERE strip_bidi(display_name) <> display_name;
UPDATE conversations SET name = CASE WHEN strip_bidi(name) = '' THEN 'Group ' || id
                                     ELSE strip_bidi(name) END
    WHERE kind = 'group' AND strip_bidi(name) <> name;
ALTER TABLE users ADD CONSTRAINT users_display_name_no_bidi
    CHECK (strip_bidi(display_name) = display_name);
ALTER TABLE conversations ADD CONSTRAINT conversations_group_name_no_bidi
    CHECK (kind <> 'group' OR strip_bidi(name) = name);
