# shellcheck shell=bash
# bench/lib/poll.sh: figures 2 and 3, the poll tier: send-to-delivery
# latency with waiting pollers, and memory per waiting poll, each beside
# Nchan. Sourced by bench/run.sh (`make bench`), whose settings (knobs,
# paths, $W, $LG...) it uses.

# First, on the fresh processes: the memory figure is the conservative one
# (no heap grown by earlier phases to hide the cost). Measured idle, with
# STAGE1 polls held and with WAITERS held: the second step is the marginal
# cost, free of one-time costs (threads connecting, tables sized).
# (The phases' bodies are not indented: kept as they were for merging.)
hold_phase() {
warm
sleep 1
say "3. holding $STAGE1 then $WAITERS Parley long polls"
pp=$(parley_pids)
pr0=$(rss_kib $pp); pn0=$(rss_kib $(nginx_pids)); pq0=$(rss_kib "$(pidof_svc poll)")
pg0=$(pg_backends)
hold_start parley "$PORT" "$(pidof_svc poll)" "$W/hold_parley.out"
hold_wait 0
pr1=$(rss_kib $pp); pn1=$(rss_kib $(nginx_pids)); pq1=$(rss_kib "$(pidof_svc poll)")
pg1=$(pg_backends)
hold_next 0
hold_wait 1
pr2=$(rss_kib $pp); pn2=$(rss_kib $(nginx_pids)); pq2=$(rss_kib "$(pidof_svc poll)")
pg2=$(pg_backends)
pg_apps=$(pg_by_app)
hold_next 1
hold_end
sed 's/^/  parley hold: /' "$W/hold_parley.out" >&2
quiet

say "3. holding $STAGE1 then $WAITERS Nchan long-poll subscribers"
np=$(nchan_pids)
nr0=$(rss_kib $np)
hold_start nchan "$NPORT" "$(children "$(cat "$NV/nginx.pid")" | tr ' ' ',' | sed 's/,$//')" "$W/hold_nchan.out"
hold_wait 0
nr1=$(rss_kib $np)
hold_next 0
hold_wait 1
nr2=$(rss_kib $np)
hold_next 1
hold_end
sed 's/^/  nchan hold: /' "$W/hold_nchan.out" >&2
}

# ------------------------------------------- 2. send-to-delivery latency

latency_phase() {
quiet
say "2. Parley: $POLLERS waiting pollers, $RATE messages/s, $SECS s"
lg "$W/lat_parley.out" latency --kind parley --port "$PORT" --n "$POLLERS" \
    --rate "$RATE" --secs "$SECS" --warm 2 --file "$W/pollers.txt"
say "2. Nchan: $POLLERS long-poll subscribers, $RATE publishes/s, $SECS s"
lg "$W/lat_nchan.out" latency --kind nchan --port "$NPORT" --n "$POLLERS" \
    --rate "$RATE" --secs "$SECS" --warm 2
}

poll_rows() {
pw=$(calc %.2f "($pr2 - $pr0) / $WAITERS")
pwm=$(calc %.2f "($pr2 - $pr1) / ($WAITERS - $STAGE1)")
nw=$(calc %.2f "($nr2 - $nr0) / $WAITERS")
nwm=$(calc %.2f "($nr2 - $nr1) / ($WAITERS - $STAGE1)")
pqw=$(calc %.2f "($pq2 - $pq0) / $WAITERS")
pnw=$(calc %.2f "($pn2 - $pn0) / $WAITERS")
ap50=$(val "$W/lat_parley.out" ack_to_deliv_p50_ms)
ap99=$(val "$W/lat_parley.out" ack_to_deliv_p99_ms)
lp50=$(val "$W/lat_parley.out" lat_p50_ms)
lp99=$(val "$W/lat_parley.out" lat_p99_ms)
np50=$(val "$W/lat_nchan.out" lat_p50_ms)
np99=$(val "$W/lat_nchan.out" lat_p99_ms)
held=$(val "$W/hold_parley.out" still_waiting)
nheld=$(val "$W/hold_nchan.out" still_waiting)
# Figure 3's rest: the other services (a difference of noisy sums).
pow=$(calc %.2f "$pw - $pqw - $pnw")
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "2. send->delivery p50, $POLLERS pollers" "$lp50 ms" "nchan $np50 ms" \
    "$(calc %.1f "$lp50 / $np50")x" "-" "-"
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "   send->delivery p99, $RATE msg/s" "$lp99 ms" "nchan $np99 ms" \
    "$(calc %.1f "$lp99 / $np99")x" "<= 3.0x" "$(yes_no "$lp99 <= 3 * $np99")"
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "   delivery alone (from the 201) p50 / p99" "$ap50 / $ap99 ms" "-" \
    "-" "-" "-"
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "3. RSS per waiting poll, $WAITERS held" "$pw KiB" "nchan $nw KiB" \
    "$(calc %.2f "$pw / $nw")x" "<= 1.0x" \
    "$(yes_no "$pw <= $nw && $held == $WAITERS")"
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "   of which the poll service" "$pqw KiB" "-" "-" "<= 2 KiB" \
    "$(yes_no "$pqw <= 2")"
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "   of which nginx" "$pnw KiB" "nchan $nw KiB" \
    "$(calc %.2f "$pnw / $nw")x" "-" "-"
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "   PostgreSQL backends at $STAGE1 -> $WAITERS" "$pg1 -> $pg2" "-" \
    "-" "no growth" "$(yes_no "$pg2 <= $pg1")"
plot dist "2. send -> delivery, $POLLERS long pollers, $RATE msg/s" \
    "Parley long poll=lat_parley_lat.txt" "Nchan long poll=lat_nchan_lat.txt"
plot bars "3. RSS per waiting poll, KiB, $WAITERS held (less is better)" \
    "Parley=poll service:$pqw+nginx:$pnw+other services:$pow" \
    "Nchan=nginx:$nw"
}

poll_defs() {
cat <<EOF
  2. latency = from writing the send request (POST /api/v1/messages, or
     Nchan's POST /pub/<channel>) to having read the poller's whole
     response carrying that message; $POLLERS pollers each waiting in a
     long poll (Nchan: $POLLERS channels, one subscriber each), messages
     round-robin at $RATE/s for $SECS s after 2 s of warm-up.
     Parley: $(val "$W/lat_parley.out" delivered)/$(val "$W/lat_parley.out" messages) delivered, p90 $(val "$W/lat_parley.out" lat_p90_ms) ms, max $(val "$W/lat_parley.out" lat_max_ms) ms;
       measured from the 201 instead: p50 $(val "$W/lat_parley.out" ack_to_deliv_p50_ms) ms, p99 $(val "$W/lat_parley.out" ack_to_deliv_p99_ms) ms (negative when the
       poll answered before the sender had its 201); the send request
       itself (issue -> 201): p50 $(val "$W/lat_parley.out" send_req_p50_ms) ms, p99 $(val "$W/lat_parley.out" send_req_p99_ms) ms.
     Nchan:  $(val "$W/lat_nchan.out" delivered)/$(val "$W/lat_nchan.out" messages) delivered, p90 $(val "$W/lat_nchan.out" lat_p90_ms) ms, max $(val "$W/lat_nchan.out" lat_max_ms) ms.
  3. RSS = sum of VmRSS of parley-accounts, -friends, -messages, -poll and
     nginx (master + workers) in KiB, idle -> $STAGE1 -> $WAITERS polls held
     ($held still waiting at the end, $(val "$W/hold_parley.out" early_answers) answered early, $(val "$W/hold_parley.out" errors) errors):
     all $pr0 -> $pr1 -> $pr2 (poll service $pq0 -> $pq1 -> $pq2,
     nginx $pn0 -> $pn1 -> $pn2); per waiter from idle $pw KiB (poll
     service $pqw KiB, nginx $pnw KiB), marginal ($STAGE1 -> $WAITERS)
     $pwm KiB. Nchan nginx: $nr0 -> $nr1 -> $nr2 KiB,
     per subscriber $nw KiB, marginal $nwm KiB ($nheld held).
     PostgreSQL client backends: idle $pg0, $STAGE1 held $pg1, $WAITERS held
     $pg2 ($pg_apps): a fixed pool per service.
EOF
}
