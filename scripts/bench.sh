#!/bin/sh
# Builds the benchmarks (release, in build-bench/) and runs them; then counts
# instructions per round trip with callgrind at 10 and 1000 channels.
# Method and how to read the output: bench/README.md. Never part of the tests.
#
#   scripts/bench.sh                  everything (~5 min on 2 cores)
#   scripts/bench.sh --no-callgrind   timings only
#   BENCH_OUT=dir scripts/bench.sh    where results go (default build-bench/results)
set -eu
cd "$(dirname "$0")/.."

callgrind=1
[ "${1:-}" = "--no-callgrind" ] && callgrind=0

BUILD=build-bench
OUT=${BENCH_OUT:-$BUILD/results}
# The sysfs fixture copies and channel sockets go to a tmpfs: on ext4 an
# O_TRUNC rewrite of a file is flushed to disk at close (auto_da_alloc),
# which would measure the disk, not the agent (real sysfs has no disk).
export TMPDIR=${BENCH_TMPDIR:-/dev/shm}

if [ ! -f "$BUILD/build.ninja" ]; then
    # -Wno-restrict: GCC 12's -O3 false positive in std::string (PR 105329)
    # in tests/lib/sysfs_fixture.cpp; everything else stays -Werror.
    meson setup "$BUILD" -Dbuildtype=release -Dcpp_args=-Wno-restrict
fi
ninja -C "$BUILD" bench/request_path_bench bench/channel_scaling_bench
mkdir -p "$OUT"

{
    echo "date: $(date -Is)"
    echo "host: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "TMPDIR: $TMPDIR ($(stat -f -c %T "$TMPDIR"))"
} | tee "$OUT/machine.txt"

REPS="--benchmark_repetitions=5 --benchmark_report_aggregates_only=true"

"$BUILD/bench/request_path_bench" $REPS \
    --benchmark_out="$OUT/request_path.json" --benchmark_out_format=json
"$BUILD/bench/channel_scaling_bench" $REPS \
    --benchmark_out="$OUT/channel_scaling.json" --benchmark_out_format=json
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"

[ "$callgrind" = 1 ] || exit 0

# Instructions executed (user space only) by the agent and the bench's QEMU
# end for ROUNDTRIPS round trips, setup excluded: repeatable, unlike seconds.
# perf stat -e instructions reports <not supported> in this VM, so callgrind.
ROUNDTRIPS=2000
for n in 10 1000; do
    valgrind --tool=callgrind --collect-atstart=no \
        --toggle-collect='*measuredRoundTrips*' \
        --callgrind-out-file="$OUT/callgrind.$n.out" \
        "$BUILD/bench/channel_scaling_bench" --instructions "$n" "$ROUNDTRIPS" \
        2> "$OUT/callgrind.$n.log"
    ir=$(callgrind_annotate "$OUT/callgrind.$n.out" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    echo "callgrind: channels=$n roundtrips=$ROUNDTRIPS Ir=$ir per_roundtrip=$((ir / ROUNDTRIPS))" \
        | tee -a "$OUT/callgrind.txt"
done
