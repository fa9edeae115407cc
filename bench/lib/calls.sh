# shellcheck shell=bash
# bench/lib/calls.sh: figure 5, call setup beside a message round trip,
# with other pollers waiting. Sourced by bench/run.sh (`make bench`),
# whose settings (knobs, paths, $W, $LG...) it uses.

# Run after figure 2 (BENCH_ONLY=calls: alone), with its pollers waiting.
calls_phase() {
	say "5. call setup: $CPAIRS pairs, $CALLS setups, $POLLERS other pollers waiting"
	lg "$W/calls.out" calls --port "$PORT" --n "$POLLERS" --pairs "$CPAIRS" \
	    --calls "$CALLS" --warm 3 --settle_ms 50 --maxsecs 60 \
	    --file "$W/callpollers.txt"
	grep -E '^(setups_ok|pings_ok|busy|callee_offline|.*errors|timeouts|stray)=' \
	    "$W/calls.out" | sed 's/^/  calls: /' >&2
	[ "$(val "$W/calls.out" setup_n)" -gt 0 ] &&
	    [ "$(val "$W/calls.out" rtt_n)" -gt 0 ] ||
	    die "no call setup completed (see $W/calls.out and $BV/log)"
}
calls_rows() {
	local f=$W/calls.out s50 s99 r50 r99
	s50=$(val "$f" setup_p50_ms); s99=$(val "$f" setup_p99_ms)
	r50=$(val "$f" rtt_p50_ms); r99=$(val "$f" rtt_p99_ms)
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "5. call setup p50, $POLLERS pollers" "$s50 ms" \
	    "msg round trip $r50 ms" "$(calc %.1f "$s50 / $r50")x" "-" "-"
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "   call setup p99, $(val "$f" setup_n) setups" "$s99 ms" \
	    "msg round trip $r99 ms" "$(calc %.1f "$s99 / $r99")x" "-" "-"
	plot dist "5. call setup beside a message round trip, $POLLERS pollers waiting" \
	    "call setup=calls_setup.txt" "message round trip=calls_rtt.txt"
}
calls_defs() {
	local f=$W/calls.out fig2=
	[ -z "${lp50:-}" ] || fig2="
     For scale: twice figure 2's p50 (at $RATE messages/s) is $(calc %.3f "2 * $lp50") ms."
	cat <<EOF
  5. call setup = from writing POST /api/v1/calls (caller) to having read
     the caller's poll answer carrying call.accepted: the callee's long
     poll brings call.invite, the callee at once POSTs
     /api/v1/calls/{id}/accept with the id from the event, the caller's
     long poll brings call.accepted. $CPAIRS friend pairs, one call at a time
     each (then the caller hangs up and both polls bring call.ended),
     $(val "$f" setups_ok) setups in $(val "$f" secs) s, $(val "$f" setup_n) counted (the first $(val "$f" warm_per_pair) of each pair are
     warm-up), while $POLLERS other users each wait in a long poll; every
     step starts with both parties' polls parked for 50 ms.
     Halves: invite -> call.invite read by the callee p50 $(val "$f" setup_invite_p50_ms) ms, p99 $(val "$f" setup_invite_p99_ms) ms;
       accept -> call.accepted read by the caller p50 $(val "$f" setup_accept_p50_ms) ms, p99 $(val "$f" setup_accept_p99_ms) ms;
       the requests: POST /api/v1/calls -> 201 p50 $(val "$f" invite_req_p50_ms) ms, p99 $(val "$f" invite_req_p99_ms) ms,
       accept -> 200 p50 $(val "$f" accept_req_p50_ms) ms, p99 $(val "$f" accept_req_p99_ms) ms; max setup $(val "$f" setup_max_ms) ms.
     Yardstick: the same exchange made of two messages, interleaved with
     the calls (same pairs, connections and waiting pollers, so the same
     noise): the caller sends, the callee's poll brings it, the callee at
     once replies, the caller's poll brings the reply ($(val "$f" rtt_n) counted;
     halves p50 $(val "$f" rtt_ping_p50_ms) and $(val "$f" rtt_pong_p50_ms) ms, max $(val "$f" rtt_max_ms) ms). Both are two
     requests in turn, each delivered through a long poll: the ratio is
     what the calls path costs against messaging. (A message also lands
     in the sender's own stream and, once read, brings the sender
     message.delivered; an accept also sends call.answered_elsewhere to
     the callee's devices.)$fig2
     Answers: busy $(val "$f" busy), callee_offline $(val "$f" callee_offline), other invite errors $(val "$f" invite_errors),
     accept errors $(val "$f" accept_errors), hangup errors $(val "$f" hangup_errors), message errors $(val "$f" message_errors),
     steps timed out (5 s) $(val "$f" timeouts), unexpected events $(val "$f" stray); call.invite read
     before the caller had its 201 (no harm: the id is in the event): $(val "$f" invite_seen_before_201).
EOF
}
