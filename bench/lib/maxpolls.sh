# shellcheck shell=bash
# bench/lib/maxpolls.sh: figure 7, the most long polls the stack holds
# at once, against what the open-file limit allows. Sourced by
# bench/run.sh (`make bench`), whose settings (knobs, paths, $W, $LG...)
# it uses.

# Climbs 5,000 at a time to MAXPOLLS long polls (one per user, since=0,
# timeout 55) and reports the most the poll service held at once (its
# descriptor count over idle). The yardstick is what the hard open-file
# limit allows: held / allowed is the figure.
maxpolls_phase() {
	local stages="" n
	for ((n = 5000; n < MAXPOLLS; n += 5000)); do stages="$stages${stages:+,}$n"; done
	say "7. the most long polls held: up to $MAXPOLLS (stages $stages)"
	rm -f "$W"/mready.* "$W"/mdone.*
	"$LG" hold --kind parley --port "$PORT" --n "$MAXPOLLS" --stages "$stages" \
	    --file "$W/holdmax.txt" --fdpids "$(pidof_svc poll)" --ready "$W/mready" \
	    --done "$W/mdone" --maxhold 1 --stagewait 30 --ladder 1 \
	    --openrate 3000 >"$W/maxpolls.out" &
	LGPID=$!
	wait "$LGPID" || { LGPID=; die "loadgen hold (figure 7) failed"; }
	LGPID=
	sed 's/^/  maxpolls: /' "$W/maxpolls.out" >&2
	mp_held=$(val "$W/maxpolls.out" max_held)
	[ -n "$mp_held" ] || mp_held=$(val "$W/maxpolls.out" "stage$(( $(grep -c '^stage[0-9]*_waiters=' "$W/maxpolls.out") - 1 ))_waiters")
	mp_errors=$(val "$W/maxpolls.out" errors)
	mp_early=$(val "$W/maxpolls.out" early_answers)
	quiet
}
maxpolls_rows() {
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "7. most long polls held at once" "$mp_held" "allowed $MAXPOLLS" \
	    "$(calc %.2f "$mp_held / $MAXPOLLS")" ">= 0.95" \
	    "$(yes_no "$mp_held >= 0.95 * $MAXPOLLS")"
}
maxpolls_defs() {
	cat <<EOF
  7. most held = the poll service's descriptors over idle when the climb
     ($MAXPOLLS polls, 5,000 more per stage, one user each) ended; allowed
     = the hard open-file limit ($HARDN, at most 65,536) less 128, the
     capacity scripts/parley prints (the load generator and each nginx
     worker have the same per-process limit). $mp_errors errors, $mp_early
     answered early.
EOF
}
