# shellcheck shell=bash
# bench/lib/data.sh: the bench users, friendships, sessions and the fan-
# out group, made in SQL (and one API call), and the load generator's
# input files in $W. Sourced by bench/run.sh (`make bench`), whose
# settings (knobs, paths, $W, $LG...) it uses.

bench_data() {
say "creating bench users, friendships and sessions in SQL"
q <<SQL
CREATE TABLE bench_scratch (id bigserial PRIMARY KEY, a int NOT NULL,
    b text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE bench_tokens (username text PRIMARY KEY, token text NOT NULL,
    hash text NOT NULL);
-- sp_: send pairs; lt_: latency pollers and their 20 senders; fo_m0: the
-- group owner, fo_m1..: members; hd_: held polls; cl_a/cl_b: call pairs
-- (caller, callee).
INSERT INTO users (username, display_name)
      SELECT 'sp_s' || i, 'bench' FROM generate_series(1, $CLIENTS) i
UNION ALL SELECT 'sp_r' || i, 'bench' FROM generate_series(1, $CLIENTS) i
UNION ALL SELECT 'lt_p' || i, 'bench' FROM generate_series(1, $POLLERS) i
UNION ALL SELECT 'lt_s' || i, 'bench' FROM generate_series(1, 20) i
UNION ALL SELECT 'fo_m' || i, 'bench' FROM generate_series(0, $GROUP - 1) i
UNION ALL SELECT 'hd_' || i, 'bench' FROM generate_series(1, $WAITERS) i
UNION ALL SELECT 'hx_' || i, 'bench' FROM generate_series(1, $XTRA) i
UNION ALL SELECT 'cl_a' || i, 'bench' FROM generate_series(1, $CPAIRS) i
UNION ALL SELECT 'cl_b' || i, 'bench' FROM generate_series(1, $CPAIRS) i;
CREATE SEQUENCE bench_seq;
CREATE TEMP TABLE fr (a text, b text);
INSERT INTO fr SELECT 'sp_s' || i, 'sp_r' || i
    FROM generate_series(1, $CLIENTS) i;
INSERT INTO fr SELECT 'lt_p' || i, 'lt_s' || ((i - 1) % 20 + 1)
    FROM generate_series(1, $POLLERS) i;
INSERT INTO fr SELECT 'fo_m0', 'fo_m' || i FROM generate_series(1, $GROUP - 1) i;
INSERT INTO fr SELECT 'cl_a' || i, 'cl_b' || i FROM generate_series(1, $CPAIRS) i;
INSERT INTO friendships (user_id, friend_id)
    SELECT ua.id, ub.id FROM fr JOIN users ua ON ua.username = fr.a
        JOIN users ub ON ub.username = fr.b
    UNION ALL
    SELECT ub.id, ua.id FROM fr JOIN users ua ON ua.username = fr.a
        JOIN users ub ON ub.username = fr.b;
SQL
q -c "SELECT username FROM users WHERE display_name = 'bench'" |
    "$LG" tokens >"$W/tokens.tsv"
q <<SQL
\copy bench_tokens FROM '$W/tokens.tsv'
INSERT INTO sessions (user_id, token_hash, expires_at, user_agent)
    SELECT u.id, decode(t.hash, 'hex'), now() + interval '1 day', 'bench'
    FROM bench_tokens t JOIN users u USING (username);
CREATE TABLE bench_pairs AS SELECT i, s.id AS s, r.id AS r
    FROM generate_series(1, $CLIENTS) i
    JOIN users s ON s.username = 'sp_s' || i
    JOIN users r ON r.username = 'sp_r' || i;
ANALYZE;
SQL
# Files for the load generator, one line per user.
q -F ' ' -c "SELECT t.token, r.id FROM generate_series(1, $CLIENTS) i
    JOIN bench_tokens t ON t.username = 'sp_s' || i
    JOIN users r ON r.username = 'sp_r' || i ORDER BY i" >"$W/pairs.txt"
q -F ' ' -c "SELECT t.token, u.id, s.token FROM generate_series(1, $POLLERS) i
    JOIN users u ON u.username = 'lt_p' || i
    JOIN bench_tokens t ON t.username = u.username
    JOIN bench_tokens s ON s.username = 'lt_s' || ((i - 1) % 20 + 1)
    ORDER BY i" >"$W/pollers.txt"
q -F ' ' -c "SELECT t.token, u.id FROM generate_series(0, $GROUP - 1) i
    JOIN users u ON u.username = 'fo_m' || i
    JOIN bench_tokens t ON t.username = u.username ORDER BY i" \
    >"$W/members.txt"
q -c "SELECT t.token FROM generate_series(1, $WAITERS) i
    JOIN bench_tokens t ON t.username = 'hd_' || i ORDER BY i" \
    >"$W/hold.txt"
# Call pairs: caller then callee, each "token user_id partner_token",
# followed by the waiting pollers of figure 2.
q -F ' ' -c "SELECT t.token, u.id, o.token FROM generate_series(1, $CPAIRS) i,
    LATERAL (VALUES (0, 'cl_a' || i, 'cl_b' || i), (1, 'cl_b' || i, 'cl_a' || i))
        AS x (role, me, other)
    JOIN users u ON u.username = x.me
    JOIN bench_tokens t ON t.username = x.me
    JOIN bench_tokens o ON o.username = x.other
    ORDER BY i, role" >"$W/calls.txt"
[ "$(wc -l <"$W/pollers.txt")" -ge "$POLLERS" ] || die "setup: pollers"
[ "$(wc -l <"$W/calls.txt")" -eq $((2 * CPAIRS)) ] || die "setup: call pairs"
cat "$W/calls.txt" "$W/pollers.txt" >"$W/callpollers.txt"
[ "$(wc -l <"$W/hold.txt")" -ge "$WAITERS" ] || die "setup: waiters"
{ cat "$W/hold.txt"; q -c "SELECT t.token FROM generate_series(1, $XTRA) i
    JOIN bench_tokens t ON t.username = 'hx_' || i ORDER BY i"; } >"$W/holdmax.txt"

# The fan-out group goes through the API (owner fo_m0, GROUP-1 friends).
owner=$(head -n 1 "$W/members.txt" | cut -d' ' -f1)
body=$(q -c "SELECT json_build_object('name', 'bench-fanout',
    'members', json_agg(id ORDER BY id)) FROM users
    WHERE username LIKE 'fo\_m%' AND username <> 'fo_m0'")
code=$(curl -s -o "$W/group.json" -w '%{http_code}' -X POST \
    "http://127.0.0.1:$PORT/api/v1/groups" -H "Authorization: Bearer $owner" \
    -H 'Content-Type: application/json' -d "$body")
[ "$code" = 201 ] || die "creating the group: $code $(cat "$W/group.json")"
gid=$(q -c "SELECT id FROM conversations WHERE kind = 'group' AND
    name = 'bench-fanout'")
}
