# shellcheck shell=bash
# scripts/lib/var.sh: the service user, and var/'s layout and modes.
# Sourced by scripts/parley, never run on its own: it uses the settings,
# say and die defined there (and the other files' functions).

# As root: the service user exists, and can reach what it must.
ensure_user() {
	[ "$AS_ROOT" -eq 1 ] || return 0
	if ! id -u "$SVC_USER" >/dev/null 2>&1; then
		say "creating the system user $SVC_USER"
		useradd --system --user-group --no-create-home \
		    --home-dir /nonexistent --shell /usr/sbin/nologin "$SVC_USER" ||
		    die "cannot create user $SVC_USER"
	fi
}

# var/ layout and modes. As root: var/ is searchable, var/log is root's
# alone (0700), var/run and nginx's temporary files belong to the service
# user (it creates its sockets there; nginx's workers connect to them).
# Otherwise all of var/ is 0700.
prepare_var() {
	mkdir -p "$RUN" "$LOG" "$VAR/nginx/tmp"
	mkdir -p "$UPLOADS"
	if [ "$AS_ROOT" -eq 1 ]; then
		chmod 0711 "$VAR"
		chown root:root "$LOG"
		chown "$SVC_USER:" "$RUN"
		chown "$SVC_USER:" "$UPLOADS"
		chmod 0711 "$VAR/nginx"
		chown -R "$SVC_USER:" "$VAR/nginx/tmp"
	else
		chmod 0700 "$VAR"
	fi
	chmod 0700 "$LOG" "$RUN" "$UPLOADS"
	find "$LOG" -type f -exec chmod 0600 {} + 2>/dev/null || true
	[ "$AS_ROOT" -eq 1 ] || return 0
	local p
	for p in "$VAR" "$BIN/parley-accounts" "$ROOT/web/index.html"; do
		[ -e "$p" ] || continue
		setpriv --reuid="$SVC_USER" --regid="$SVC_USER" --init-groups \
		    test -r "$p" -o -x "$p" 2>/dev/null ||
		    die "user $SVC_USER cannot reach $p; every directory above it must be searchable (chmod o+x), or set PARLEY_VAR/PARLEY_BIN to such a place"
	done
}
