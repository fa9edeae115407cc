# shellcheck shell=bash
# bench/lib/fanout.sh: figure 4, group fan-out: one message to a group
# of $GROUP polling members, beside a direct message to one. Sourced by
# bench/run.sh (`make bench`), whose settings (knobs, paths, $W, $LG...)
# it uses.

fanout_phase() {
quiet
say "4. group fan-out: $GROUP members polling, $ROUNDS rounds"
lg "$W/fanout.out" fanout --port "$PORT" --n "$GROUP" --group "$gid" \
    --rounds "$ROUNDS" --gap 0.5 --file "$W/members.txt"
}

fanout_rows() {
fo=$(val "$W/fanout.out" fanout_all_p50_ms)
fomax=$(val "$W/fanout.out" fanout_all_max_ms)
single=$(val "$W/fanout.out" single_p50_ms)
printf '%-44s %-18s %-24s %-8s %-12s %s\n' \
    "4. fan-out to $GROUP members, p50 to last" "$fo ms" \
    "1 recipient $single ms" "$(calc %.1f "$fo / $single")x" "<= 50 ms" \
    "$(yes_no "$fo <= 50")"
plot dist "4. fan-out to $GROUP members: delivery times beside one recipient's" \
    "each member=fanout_fanout_member.txt" \
    "the last member, per round=fanout_fanout_all.txt" \
    "reference: one recipient=fanout_single.txt"
}

fanout_defs() {
cat <<EOF
  4. fan-out = from writing one POST /api/v1/messages to the group to
     having every one of the $GROUP members' poll answers carrying it
     (p50 over $ROUNDS rounds after a warm-up round; max $fomax ms; each
     member's own delivery p50 $(val "$W/fanout.out" fanout_member_p50_ms) ms). Reference: a direct message
     from the same sender to one member, same run, p50 $single ms.
EOF
}
