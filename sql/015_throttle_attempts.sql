-- Throttling counts attempts, not failures (issue 12, items 5 and 6).
--
-- Before, a login checked the counts, then the password, then counted a
-- failure: concurrent guesses all passed the check before any was counted
-- (24 at once got 11 password checks against a limit of 5). Now one call
-- counts the attempt on every key it concerns, refusing when one is at its
-- limit, before the password is checked; an attempt that turns out
-- correct, or that never got checked, is given back. Each key has one
-- fixed window: `attempts` count until `window_end`, then start over.
--
-- Keys (services/accounts/accounts_throttle.c): "u:<name>", "p:<name>@<addr>",
-- "a:<addr>" for logins, "r:<addr>" for registrations, where <addr> is the
-- client address (an IPv6 one by its /64).

ALTER TABLE auth_throttle ADD COLUMN window_end timestamptz;
UPDATE auth_throttle
    SET window_end = greatest(window_start + interval '15 minutes',
                              coalesce(blocked_until, '-infinity'));
ALTER TABLE auth_throttle
    ALTER COLUMN window_end SET NOT NULL,
    DROP COLUMN window_start,
    DROP COLUMN blocked_until;
ALTER TABLE auth_throttle RENAME COLUMN failures TO attempts;
-- Expired rows are swept a few at a time (throttle_take).
CREATE INDEX auth_throttle_window_end ON auth_throttle (window_end);

-- throttle_take(): sql/functions/20_accounts.sql

-- throttle_return(): sql/functions/20_accounts.sql
