#!/usr/bin/env bash
# `make fuzz`: builds each libFuzzer driver in tests/fuzz/ (clang, ASan and
# UBSan) into build/fuzz/ and runs it for SECONDS seconds on its working
# corpus, build/fuzz/corpus-<name>, seeded from tests/fuzz/corpus/fuzz_<name>
# (the repo's seeds are only read). Prints "ok fuzz_<name> ..." or
# "FAIL fuzz_<name> ..." per driver; exits 1 if any driver failed to build
# or found a crash, leak, hang or broken invariant.
#
# A campaign: FUZZ_RUNS=10000000 stops each driver after that many
# executions instead (SECONDS is then only an upper bound), FUZZ_JOBS=2
# runs that many fuzzing processes per driver, FUZZ_SAVE=1 merges the grown
# corpus, minimized, back into tests/fuzz/corpus/fuzz_<name> to commit,
# and FUZZ_ONLY=name limits the run to one driver.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

secs=${1:-20}
case $secs in
''|*[!0-9]*|0) echo "usage: scripts/fuzz.sh SECONDS (a positive integer)" >&2
	exit 2 ;;
esac

OUT=${FUZZ_OUT:-build/fuzz}
CC=${FUZZ_CC:-clang}
# -fno-sanitize-recover: UBSan otherwise prints and carries on, and
# libFuzzer would not keep the input. The project's warnings apply here too.
CFLAGS=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-g -O1 -std=c11 -D_GNU_SOURCE
	-Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow
	-Wpointer-arith -Wcast-qual -Wformat=2 -fno-common
	-Ishared -Itests/unit -Itests/fuzz -Iservices -Ibuild/asan/gen
	-I/usr/include/postgresql)
LIBS=(-lfcgi -lpq -ljansson -lsodium -pthread)
# Every driver links all of shared/ (http.c alone reaches config, db, log
# and text; the router driver goes through server.c) and the memory
# FastCGI request the unit tests use.
SRCS=(shared/*.c tests/unit/fcgi_mem.c)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "FAIL fuzz: $CC not found (make deps installs clang)"
	exit 1
fi
mkdir -p "$OUT"
# The services' headers include their generated route tables' headers.
if ! make --no-print-directory SAN=1 gen >/dev/null; then
	echo "FAIL fuzz: the route tables cannot be generated"
	exit 1
fi

failed=0
# shared/ (and fcgi_mem.c) compiled once, in parallel, with the drivers'
# flags: every driver links the same objects. (Compiling them into each of
# the twelve drivers again took about a minute of make test.)
objdir=$OUT/obj
rm -rf "$objdir"
mkdir -p "$objdir"
if ! printf '%s\n' "${SRCS[@]}" | xargs -P "$(nproc)" -I{} sh -c \
    'o="$1/$(echo "$0" | tr / _).o"; shift; exec "$@" -c -o "$o" "$0"' {} "$objdir" \
    "$CC" "${CFLAGS[@]}" >"$OUT/shared.build.log" 2>&1; then
	echo "FAIL fuzz: shared/ does not build"
	sed -n 1,40p "$OUT/shared.build.log"
	exit 1
fi
OBJS=("$objdir"/*.o)
runs_opt=()
[ -n "${FUZZ_RUNS:-}" ] && runs_opt=(-runs="$FUZZ_RUNS")
jobs=${FUZZ_JOBS:-1}
# One driver: build, run, report (its lines go to stdout; 1 on failure).
fuzz_one() {
	local src=$1 driver name bin log extra xlibs corpus dict rc runs rate cov art
	driver=$(basename "$src" .c)		# fuzz_query
	name=${driver#fuzz_}			# query
	bin=$OUT/$driver
	log=$OUT/$driver.log

	# A driver for a service's parser names the service sources it needs
	# in a comment line " * fuzz-sources: services/x/y.c ...".
	# and extra libraries in " * fuzz-libs: -lx ...".
	extra=($(sed -n 's/^ \* fuzz-sources: //p' "$src"))
	xlibs=($(sed -n 's/^ \* fuzz-libs: //p' "$src"))
	if ! "$CC" "${CFLAGS[@]}" -o "$bin" "$src" "${OBJS[@]}" "${extra[@]}" "${LIBS[@]}" "${xlibs[@]}" \
	    >"$OUT/$driver.build.log" 2>&1; then
		echo "FAIL $driver: does not build"
		sed -n 1,40p "$OUT/$driver.build.log"
		return 1
	fi

	# The working corpus grows across runs; seeds are copied in each time
	# so edits to them are picked up.
	corpus=$OUT/corpus-$name
	mkdir -p "$corpus"
	if [ -d "tests/fuzz/corpus/$driver" ]; then
		cp -p "tests/fuzz/corpus/$driver"/* "$corpus"/ 2>/dev/null || true
	fi
	dict=()
	[ -f "tests/fuzz/$driver.dict" ] && dict=(-dict="tests/fuzz/$driver.dict")

	if [ "$jobs" -gt 1 ]; then
		# Each job writes fuzz-N.log (-runs counts per job); libFuzzer
		# copies those into its own output when a job ends.
		(cd "$OUT" && "$ROOT/$bin" -max_total_time="$secs" -timeout=10 \
		    -print_final_stats=1 -artifact_prefix="$ROOT/$OUT/$driver-" \
		    "${runs_opt[@]}" -jobs="$jobs" -workers="$jobs" \
		    "${dict[@]/-dict=/-dict=$ROOT/}" "$ROOT/$corpus") >"$log" 2>&1
		rc=$?
		rm -f "$OUT"/fuzz-*.log
	else
		"$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		    -artifact_prefix="$OUT/$driver-" "${runs_opt[@]}" "${dict[@]}" \
		    "$corpus" >"$log" 2>&1
		rc=$?
	fi

	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    awk '{ n += $1 } END { print n }')
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" |
	    awk '{ n += $1 } END { print n }')
	cov=$(grep -oE 'cov: [0-9]+' "$log" | awk '{print $2}' | sort -n | tail -n 1)
	if [ "$rc" -eq 0 ] && [ "${FUZZ_SAVE:-0}" = 1 ]; then
		# The repo's seeds stay; only inputs that add coverage to them
		# are copied in (-merge=1 into the first directory).
		mkdir -p "tests/fuzz/corpus/$driver"
		"$bin" -merge=1 "${dict[@]}" "tests/fuzz/corpus/$driver" "$corpus" \
		    >"$OUT/$driver.merge.log" 2>&1 ||
		    echo "  merge failed: see $OUT/$driver.merge.log"
		echo "  corpus: $(ls "tests/fuzz/corpus/$driver" | wc -l) inputs kept in tests/fuzz/corpus/$driver"
	fi
	if [ "$rc" -eq 0 ]; then
		echo "ok $driver (${secs}s, ${runs:-?} runs, ${rate:-?} exec/s, cov ${cov:-?})"
	else
		echo "FAIL $driver (exit $rc): see $log"
		grep -E -m 1 -A 30 'ERROR: |runtime error|invariant broken|^[^ ]+:[0-9]+: ' "$log" | head -n 40
		art=$(grep -oE "$OUT/$driver-[a-z-]+-[0-9a-f]+" "$log" | tail -n 1)
		[ -n "$art" ] && echo "reproduce: $bin $art"
		return 1
	fi
}

# The drivers run side by side, one per core (each is single-threaded
# unless FUZZ_JOBS asks for libFuzzer's own jobs); each one's lines are
# printed when it ends, whole, in the order they were started.
par=${FUZZ_PARALLEL:-$(nproc)}
[ "$jobs" -gt 1 ] && par=1
srcs=()
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	[ -n "${FUZZ_ONLY:-}" ] && [ "$FUZZ_ONLY" != "${name#fuzz_}" ] && continue
	srcs+=("$src")
done
rm -f "$OUT"/report-*.txt "$OUT"/rc-*
for i in "${!srcs[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$par" ]; do wait -n || true; done
	{ fuzz_one "${srcs[$i]}" >"$OUT/report-$i.txt" 2>&1; echo $? >"$OUT/rc-$i"; } &
done
wait
for i in "${!srcs[@]}"; do
	cat "$OUT/report-$i.txt"
	[ "$(cat "$OUT/rc-$i" 2>/dev/null)" = 0 ] || failed=1
done
exit "$failed"
