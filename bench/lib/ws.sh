# shellcheck shell=bash
# bench/lib/ws.sh: figures 8 and 9 of `make bench`, the WebSocket gateway
# (services/gateway, issue 13). Sourced by bench/run.sh, whose stack,
# data, helpers and knobs it uses; the load generator's WebSocket client
# is bench/lg_ws.c.
#
#  8. send -> delivery latency over WebSockets: figure 2's method, its
#     $POLLERS recipients (each one socket instead of a poll), its senders,
#     messages and rate. Beside it figure 2 itself (the long poll) from the
#     same run, and Nchan: its long-poll figure (the yardstick of figure 2)
#     and its own websocket subscriber.
#  9. $WSCONNS idle WebSockets held through nginx from $WSSRCS source
#     addresses: memory of the gateway (every Kore process) and nginx per
#     socket, their CPU over $WSIDLE s of idle (server pings included), and
#     the same for Nchan's websocket subscribers.

# Every Kore process of the gateway: the parent, then its workers.
kore_pids() {
	local m
	m=$(pidof_svc gateway)
	echo "$m $(children "$m")"
}
kore_workers() { children "$(pidof_svc gateway)"; }
# Sum of Pss (proportional set size: shared pages split between their
# users, so the workers' common pages count once) in KiB.
pss_kib() {
	local p s=0 r
	for p in "$@"; do
		r=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
		s=$((s + ${r:-0}))
	done
	echo "$s"
}
# CPU time (user + system) in clock ticks, summed.
cpu_ticks() {
	local p s=0 r
	for p in "$@"; do
		r=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')
		s=$((s + ${r:-0}))
	done
	echo "$s"
}
# Waits (up to 120 s) until the gateway's async connections (gw_async.c)
# have been idle for a second: the subscriptions' acks are written after
# the sockets are up, and the idle CPU must not count them. Prints the
# seconds waited.
async_drained() {
	local t0=$SECONDS quiet=0
	while [ $((SECONDS - t0)) -lt 120 ] && [ $quiet -lt 10 ]; do
		if [ "$(qa -c "SELECT count(*) FROM pg_stat_activity
		    WHERE application_name = 'parley-gateway-async'
		    AND state <> 'idle'")" = 0 ]; then
			quiet=$((quiet + 1))
		else
			quiet=0
		fi
		sleep 0.1
	done
	echo $((SECONDS - t0))
}
slab_kib() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }
# "pid:descriptors" for each process given.
fds_each() {
	local p out=
	for p in "$@"; do
		out="$out${out:+ }$(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
	done
	echo "$out"
}
nofile_of() { awk '/^Max open files/ { print $4 }' "/proc/$1/limits"; }
comma() { echo "$*" | tr -s ' ' ',' | sed 's/^,//; s/,$//'; }

# ------------------------------------------------ 8. latency over WS

ws_latency_phase() {
	say "8. Parley WebSocket: $POLLERS sockets, $RATE messages/s, $SECS s"
	lg "$W/lat_ws.out" latency --kind ws --port "$PORT" --n "$POLLERS" \
	    --rate "$RATE" --secs "$SECS" --warm 2 --file "$W/pollers.txt"
	if [ "$ONLY" = ws ]; then
		# Figure 2 itself, for the comparison within one run.
		quiet
		say "2. Parley: $POLLERS waiting pollers, $RATE messages/s, $SECS s"
		lg "$W/lat_parley.out" latency --kind parley --port "$PORT" \
		    --n "$POLLERS" --rate "$RATE" --secs "$SECS" --warm 2 \
		    --file "$W/pollers.txt"
		say "2. Nchan: $POLLERS long-poll subscribers, $RATE publishes/s, $SECS s"
		lg "$W/lat_nchan.out" latency --kind nchan --port "$NPORT" \
		    --n "$POLLERS" --rate "$RATE" --secs "$SECS" --warm 2
	fi
	say "8. Nchan WebSocket: $POLLERS subscribers, $RATE publishes/s, $SECS s"
	lg "$W/lat_nchanws.out" latency --kind nchanws --port "$NPORT" \
	    --n "$POLLERS" --rate "$RATE" --secs "$SECS" --warm 2
	grep -E '^(delivered|lost|duplicates|stray|send_errors|poll_errors|ws_closes|lat_p50_ms|lat_p99_ms)=' \
	    "$W/lat_ws.out" | sed 's/^/  ws latency: /' >&2
}

# ----------------------------------------- 9. WebSockets held, idle

# ws_hold KIND PORT MEMPIDS FDPIDS TAG PARTPIDS EDGEPIDS: holds WSSTAGE1
# then WSCONNS sockets and sets <TAG>_* (memory of MEMPIDS in KiB at idle,
# WSSTAGE1 and WSCONNS held, and after the idle; PARTPIDS' share; CPU
# ticks over WSIDLE s; descriptors of FDPIDS and EDGEPIDS, each).
ws_hold() {
	local kind=$1 port=$2 mp=$3 fp=$4 tag=$5 part=$6 edge=$7
	local r0 r1 r2 s0 s1 s2 k0 k1 c0 c1 p0
	rm -f "$W"/ready.* "$W"/done.*
	r0=$(rss_kib $mp); s0=$(pss_kib $mp); k0=$(slab_kib); p0=$(pss_kib $part)
	"$LG" wshold --kind "$kind" --port "$port" --n "$WSCONNS" \
	    --stages "$WSSTAGE1" --file "$W/holdmax.txt" --fdpids "$(comma $fp)" \
	    --srcs "$WSSRCS" --openrate "$WSRATE" --ready "$W/ready" --done "$W/done" \
	    --maxhold $((WSIDLE + 60)) >"$W/wshold_$kind.out" &
	LGPID=$!
	hold_wait 0
	r1=$(rss_kib $mp); s1=$(pss_kib $mp)
	hold_next 0
	hold_wait 1
	[ "$kind" != parley ] || eval "${tag}_drain=$(async_drained)"
	sleep 1
	r2=$(rss_kib $mp); s2=$(pss_kib $mp); k1=$(slab_kib)
	eval "${tag}_fds=\"$(fds_each $fp)\" ${tag}_edge_fds=\"$(fds_each $edge)\""
	eval "${tag}_part0=$p0 ${tag}_part2=$(pss_kib $part)"
	c0=$(cpu_ticks $mp)
	[ -z "$PGPID" ] || eval "${tag}_pg0=$(cpu_ticks $(children "$PGPID"))"
	sleep "$WSIDLE"
	c1=$(cpu_ticks $mp)
	[ -z "$PGPID" ] || eval "${tag}_pg1=$(cpu_ticks $(children "$PGPID"))"
	eval "${tag}_r3=$(rss_kib $mp) ${tag}_s3=$(pss_kib $mp)"
	hold_next 1
	hold_end
	sed 's/^/  wshold: /' "$W/wshold_$kind.out" >&2
	eval "${tag}_r0=$r0 ${tag}_r1=$r1 ${tag}_r2=$r2 ${tag}_s0=$s0" \
	    "${tag}_s1=$s1 ${tag}_s2=$s2 ${tag}_cpu=$((c1 - c0))" \
	    "${tag}_slab=$((k1 - k0))"
}

ws_hold_phase() {
	local kp kw nw
	PGPID=$(head -n 1 "$BV/pg/data/postmaster.pid" 2>/dev/null || true)
	say "9. holding $WSSTAGE1 then $WSCONNS Parley WebSockets through nginx, then $WSIDLE s idle"
	kp=$(kore_pids); kw=$(kore_workers)
	nw=$(children "$(cat "$BV/run/nginx.pid")")
	wp_nofile=$(nofile_of "$(echo $kw | cut -d' ' -f1)")
	wp_nginx_nofile=$(nofile_of "$(echo $nw | cut -d' ' -f1)")
	ws_hold parley "$PORT" "$kp $(nginx_pids)" "$kw" wp "$kp" "$nw"
	quiet
	say "9. holding $WSSTAGE1 then $WSCONNS Nchan websocket subscribers, then $WSIDLE s idle"
	nw=$(children "$(cat "$NV/nginx.pid")")
	ws_hold nchan "$NPORT" "$(nchan_pids)" "$nw" wn "" "$nw"
	quiet
}

ws_rows() {
	local l50 l99 lp50w lp99w n50 n99 w50 w99 pw pr nw nr cpu ncpu wheld nheld
	l50=$(val "$W/lat_ws.out" lat_p50_ms); l99=$(val "$W/lat_ws.out" lat_p99_ms)
	lp50w=$(val "$W/lat_parley.out" lat_p50_ms); lp99w=$(val "$W/lat_parley.out" lat_p99_ms)
	n50=$(val "$W/lat_nchan.out" lat_p50_ms); n99=$(val "$W/lat_nchan.out" lat_p99_ms)
	w50=$(val "$W/lat_nchanws.out" lat_p50_ms); w99=$(val "$W/lat_nchanws.out" lat_p99_ms)
	pw=$(calc %.2f "($wp_s2 - $wp_s0) / $WSCONNS")
	pr=$(calc %.2f "($wp_r2 - $wp_r0) / $WSCONNS")
	nw=$(calc %.2f "($wn_s2 - $wn_s0) / $WSCONNS")
	nr=$(calc %.2f "($wn_r2 - $wn_r0) / $WSCONNS")
	cpu=$(calc %.2f "$wp_cpu * 100 / $CLK / $WSIDLE")
	ncpu=$(calc %.2f "$wn_cpu * 100 / $CLK / $WSIDLE")
	wheld=$(val "$W/wshold_parley.out" still_live)
	nheld=$(val "$W/wshold_nchan.out" still_live)
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "8. WebSocket send->delivery p50, $POLLERS" "$l50 ms" "nchan $n50 ms" \
	    "$(calc %.1f "$l50 / $n50")x" "<= 1 ms" "$(yes_no "$l50 <= 1")"
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "   WebSocket send->delivery p99, $RATE msg/s" "$l99 ms" "nchan $n99 ms" \
	    "$(calc %.1f "$l99 / $n99")x" "<= 5 ms" "$(yes_no "$l99 <= 5")"
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "   long poll p50/p99 (figure 2, same run)" "$lp50w/$lp99w ms" \
	    "nchan $n50/$n99 ms" "$(calc %.1f "$lp50w / $n50")x" "-" "-"
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "9. PSS per WebSocket, $WSCONNS held" "$pw KiB" "nchan ws $nw KiB" \
	    "$(calc %.1f "$pw / $nw")x" "<= 6 KiB" \
	    "$(yes_no "$pw <= 6 && $wheld == $WSCONNS")"
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "   RSS per WebSocket" "$pr KiB" "nchan ws $nr KiB" \
	    "$(calc %.1f "$pr / $nr")x" "-" "-"
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "   CPU idle, $WSIDLE s, pings included" "$cpu % of a core" \
	    "nchan ws $ncpu %" "$(calc %.1f "$cpu / ($ncpu + 0.0001)")x" "-" "-"
	printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
	    "   sockets still open at the end" "$wheld" "nchan ws $nheld" \
	    "$(calc %.2f "$wheld / $nheld")" "all" \
	    "$(yes_no "$wheld == $WSCONNS")"
	plot dist "8. send -> delivery over WebSockets, $POLLERS sockets, $RATE msg/s" \
	    "Parley WebSocket=lat_ws_lat.txt" "Nchan websocket=lat_nchanws_lat.txt"
	plot bars "9. PSS per idle WebSocket, KiB, $WSCONNS held (less is better)" \
	    "Parley=gateway:$(calc %.2f "($wp_part2 - $wp_part0) / $WSCONNS")+nginx:$(calc %.2f "($wp_s2 - $wp_s0 - $wp_part2 + $wp_part0) / $WSCONNS")" \
	    "Nchan=nginx:$nw"
}

ws_defs() {
	local f=$W/lat_ws.out h=$W/wshold_parley.out g=$W/wshold_nchan.out
	local per host kern
	per=$(calc %.2f "($wp_s2 - $wp_s0) / $WSCONNS")
	kern=$(calc %.1f "$wp_slab / $WSCONNS")
	host=$(calc %.0f "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 0.8 / ($per + $kern)")
	cat <<EOF
  8. As figure 2, with each of the $POLLERS recipients holding one WebSocket
     (GET /api/v1/stream through nginx, token in Sec-WebSocket-Protocol,
     {"since":null}, then {"ack":next} for every frame read, as a client
     that has shown the events does) instead of a long poll; latency = from
     writing the send request to having read the frame carrying it.
     Parley: $(val "$f" delivered)/$(val "$f" messages) delivered, p90 $(val "$f" lat_p90_ms) ms, max $(val "$f" lat_max_ms) ms, lost $(val "$f" lost),
       duplicates $(val "$f" duplicates), stray $(val "$f" stray), sockets closed $(val "$f" ws_closes); from the 201:
       p50 $(val "$f" ack_to_deliv_p50_ms) ms, p99 $(val "$f" ack_to_deliv_p99_ms) ms; the send request itself p50 $(val "$f" send_req_p50_ms) ms, p99 $(val "$f" send_req_p99_ms) ms.
       The senders fell behind the schedule by at most $(val "$f" max_send_lag_ms) ms (figure 2:
       $(val "$W/lat_parley.out" max_send_lag_ms) ms; more than a few ms means the send path could not keep
       $RATE/s and the last messages went out late: "lost" counts those not
       read 5 s after the schedule ended).
     Nchan's websocket subscriber, the same way ($POLLERS channels, one socket
     each): p50 $(val "$W/lat_nchanws.out" lat_p50_ms) ms, p99 $(val "$W/lat_nchanws.out" lat_p99_ms) ms ($(val "$W/lat_nchanws.out" delivered)/$(val "$W/lat_nchanws.out" messages) delivered); Parley over
     WebSocket is $(calc %.1f "$(val "$f" lat_p50_ms) / $(val "$W/lat_nchanws.out" lat_p50_ms)")x / $(calc %.1f "$(val "$f" lat_p99_ms) / $(val "$W/lat_nchanws.out" lat_p99_ms)")x of it (p50 / p99).
  9. $WSCONNS WebSockets opened at $WSRATE/s from $WSSRCS source addresses
     (127.0.0.2-$((1 + WSSRCS))), one user and session each, subscribed
     ({"since":null} answered) and answering pings, held idle; memory =
     the gateway's Kore processes (parent and workers) plus nginx (master
     and workers), idle -> $WSSTAGE1 -> $WSCONNS held.
     PSS $wp_s0 -> $wp_s1 -> $wp_s2 KiB (after $WSIDLE s idle: $wp_s3), per socket
       from idle $per KiB, marginal ($WSSTAGE1 -> $WSCONNS) $(calc %.2f "($wp_s2 - $wp_s1) / ($WSCONNS - $WSSTAGE1)") KiB; of it the
       gateway $wp_part0 -> $wp_part2 KiB ($(calc %.2f "($wp_part2 - $wp_part0) / $WSCONNS") KiB per socket), nginx the rest
       ($(calc %.2f "($wp_s2 - $wp_s0 - $wp_part2 + $wp_part0) / $WSCONNS") KiB per socket).
     RSS $wp_r0 -> $wp_r1 -> $wp_r2 KiB (after the idle: $wp_r3).
     Nchan (its nginx, $WSCONNS websocket subscribers on as many channels,
       nchan_websocket_ping_interval 25): PSS $wn_s0 -> $wn_s1 -> $wn_s2 KiB,
       RSS $wn_r0 -> $wn_r2 KiB.
     CPU = user + system time of the same processes over $WSIDLE s with all
       sockets held, from when the subscriptions' acks were written
       (${wp_drain:-?} s after the last socket was up; PARLEY_GATEWAY_PING:
       a ping per socket per 25 s; the load generator answered $(val "$h" stage1_pings) pings while held): Parley
       $wp_cpu ticks ($CLK/s), Nchan $wn_cpu; PostgreSQL meanwhile
       $(( ${wp_pg1:-0} - ${wp_pg0:-0} )) ticks (the presence refresh of every open socket's
       session, every 20 s).
     Descriptors: limit $wp_nofile per process (the hard limit; nginx's
       workers $wp_nginx_nofile); Kore workers hold $wp_fds, nginx's
       workers $wp_edge_fds (two per socket), the load generator
       $WSCONNS; Nchan's workers $wn_fds. Closed meanwhile: Parley $(val "$h" closes), Nchan $(val "$g" closes).
     Opening: connect() -> subscribed (Parley: the first frame; Nchan: the
       101) p50 $(val "$h" subscribe_p50_ms) ms, p99 $(val "$h" subscribe_p99_ms) ms; Nchan p50 $(val "$g" subscribe_p50_ms) ms, p99 $(val "$g" subscribe_p99_ms) ms;
       $WSCONNS subscribed after $(val "$h" stage1_ready_s) s (Nchan $(val "$g" stage1_ready_s) s: the stage from $WSSTAGE1);
       upgrades refused $(val "$h" refused) (Nchan $(val "$g" refused)).
     Kernel: slab memory grew by $wp_slab KiB (the whole machine, the load
       generator's sockets included): about $kern KiB per socket.
     One host: at $per KiB in the processes plus $kern KiB in the kernel per
       socket, 80% of this machine's memory ($(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo) GiB) holds about $host sockets,
       given an open-file limit above that (nginx two per socket across
       its workers, the gateway one across its workers).
EOF
}
