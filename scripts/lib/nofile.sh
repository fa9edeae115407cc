# shellcheck shell=bash
# scripts/lib/nofile.sh: raises the soft limit of open files and sizes
# nginx's connections and the stack's long-poll capacity from it.
# Sourced by scripts/parley, never run on its own: it uses the settings,
# say and die defined there (and the other files' functions).


# Every waiting long poll holds one descriptor in the poll service and two
# in nginx, so the soft limit of the shell (often 1,024) must not decide
# capacity: raise it to the hard limit, or to PARLEY_MAX_FILES. Children
# (services, nginx) inherit it; nginx's config is rendered from it.
raise_nofile() {
	local hard want
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] && hard=1048576
	want=${PARLEY_MAX_FILES:-$hard}
	if ! [[ $want =~ ^[0-9]+$ ]] || [ "$want" -lt 64 ]; then
		# Not a usable limit: every service refuses it at start with
		# its message (and so start fails); this script keeps the hard
		# limit for itself and nginx.
		ulimit -Sn "$hard" || true
		NOFILE=$(ulimit -Sn)
		return 0
	fi
	if [ "$want" -gt "$hard" ]; then
		say "PARLEY_MAX_FILES=$want is above the hard limit ($hard); using $hard"
		want=$hard
	fi
	ulimit -Sn "$want" || die "cannot raise the open-file limit to $want"
	NOFILE=$(ulimit -Sn)
	export PARLEY_MAX_FILES=$NOFILE
}

# nginx: each worker may use all of its descriptors; the limit is capped
# at 65,536 because nginx preallocates a connection structure for each.
# A poll takes two of a worker's descriptors and one of the poll
# service's, so two workers hold exactly what one poll service holds:
# a third (or one per core) leaves room for keep-alive and other clients.
NGINX_WORKERS=${PARLEY_NGINX_WORKERS:-$(n=$(nproc 2>/dev/null || echo 2); [ "$n" -lt 3 ] && n=3; [ "$n" -gt 8 ] && n=8; echo "$n")}
# The kept services size their threads by it (shared/config.c).
export PARLEY_NGINX_WORKERS=$NGINX_WORKERS
nginx_conns() {
	local n=$NOFILE
	[ "$n" -gt 65536 ] && n=65536
	echo $((n - 64))
}

# How many long polls the stack can hold at once: the poll service needs
# one descriptor each (a few dozen go to its database connections and
# logs), nginx two per worker connection pair.
capacity() {
	local poll=$((NOFILE - 128)) edge
	edge=$(($(nginx_conns) / 2 * NGINX_WORKERS))
	[ "$edge" -lt "$poll" ] && poll=$edge
	echo "$poll"
}
