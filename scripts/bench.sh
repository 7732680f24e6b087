#!/bin/sh
# The benchmark anyone can rerun: vmpowerd beside the AF_UNIX floor (a
# trivial epoll echo on the same sockets) and, when Debian's dpdk-doc is
# installed, DPDK's own vm_power_manager host. Prints one table with ratios
# to the floor; never part of the tests. Method and results: docs/benchmarks.md.
#
#   scripts/bench.sh              the table (~3 min on 2 cores)
#   scripts/bench.sh --long       idle CPU measured over 60 s (default 10 s)
#   scripts/bench.sh --smoke      seconds, tiny shapes, the given binaries (the bench-smoke test)
#   scripts/bench.sh --micro      also the in-process benchmarks and callgrind (bench/README.md, ~5 min)
#   scripts/bench.sh --libvirt    also the rows that need root and the system libvirtd (qemu:///system):
#                                 DPDK's host driven by the generator (a paused TCG domain) and its
#                                 idle CPU, and STARTED -> connected on a real `virsh start` (~3 min);
#                                 it starts a vmpowerd on qemu:///system, which connects to every
#                                 running domain's power channels
#   BENCH_START_ROUNDS=n          virsh start rounds for --libvirt (default 20)
#   BENCH_RUNS=n BENCH_SECONDS=s BENCH_CHANNELS="1 64" scripts/bench.sh
#   BENCH_OUT=dir                 where results go (default build-bench/results)
#   BENCH_VMPOWERD=path BENCH_CHANNEL_BENCH=path   measure other builds (before/after a change)
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)

idle=10 micro=0 smoke=0 libvirt=0
for a in "$@"; do
    case "$a" in
        --long) idle=60 ;;
        --micro) micro=1 ;;
        --smoke) smoke=1 ;;
        --libvirt) libvirt=1 ;;
        *) echo "usage: scripts/bench.sh [--long] [--micro] [--smoke] [--libvirt]" >&2; exit 2 ;;
    esac
done
RUNS=${BENCH_RUNS:-2}
SECONDS_EACH=${BENCH_SECONDS:-3}
CHANNELS=${BENCH_CHANNELS:-"1 64 1024"}
# Scale shapes: domains x channels for connect-all, RSS, idle.
CONNECT_ALL="1000 8" RSS_BIG="1024 8" RSS_SMALL="2 32" IDLE_SHAPE="32 32"
if [ "$smoke" = 1 ]; then
    # The test suite's seconds-long run (suite bench-smoke): the given
    # binaries, tiny shapes, one run; checks that the table comes out.
    RUNS=1 SECONDS_EACH=1 CHANNELS="1 4" idle=1 libvirt=0
    CONNECT_ALL="10 2" RSS_BIG="4 2" RSS_SMALL="1 2" IDLE_SHAPE="2 2"
fi
BUILD=${BENCH_BUILD:-build-bench}
OUT=${BENCH_OUT:-$BUILD/results}
# Sockets, the fixture sysfs copy and the journal go to a tmpfs: on ext4 an
# O_TRUNC rewrite is flushed to disk at close (auto_da_alloc), which would
# measure the disk, not the agent (real sysfs has no disk).
export TMPDIR=${BENCH_TMPDIR:-/dev/shm}

if [ "$smoke" = 0 ] && [ ! -f "$BUILD/build.ninja" ]; then
    # -Wno-restrict: GCC 12's -O3 false positive in std::string (PR 105329)
    # in tests/lib/sysfs_fixture.cpp; everything else stays -Werror.
    meson setup "$BUILD" -Dbuildtype=release -Dcpp_args=-Wno-restrict
fi
targets="bench/vmpower-loadgen agent/vmpowerd bench/channel_scaling_bench"
[ "$micro" = 1 ] && targets="$targets bench/request_path_bench"
[ "$smoke" = 1 ] || ninja -C "$BUILD" $targets >&2
mkdir -p "$OUT"
LOADGEN=${BENCH_LOADGEN:-$BUILD/bench/vmpower-loadgen}
VMPOWERD=${BENCH_VMPOWERD:-$ROOT/$BUILD/agent/vmpowerd}
CHANNEL_BENCH=${BENCH_CHANNEL_BENCH:-$BUILD/bench/channel_scaling_bench}
FIXTURE="$ROOT/tests/fixtures/sysfs/acpi-cpufreq"
LAT="$OUT/latency.txt" SCALE="$OUT/scale.txt" NOTES="$OUT/notes.txt"
: > "$LAT"; : > "$SCALE"; : > "$NOTES"

{
    echo "date: $(date -Is)"
    echo "host: $(uname -srm), $(nproc) CPUs,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "TMPDIR: $TMPDIR ($(stat -f -c %T "$TMPDIR"))"
} | tee "$OUT/machine.txt" >&2

# DPDK's host, built from dpdk-doc's sources at bench time (never committed).
dpdk=""
if [ "$smoke" = 1 ]; then
    dpdk_note="not measured in the smoke run"
else
    dpdk_note=$(BENCH_OUT="$OUT" bench/dpdk_host.sh build 2>>"$OUT/dpdk-build.log") && dpdk=1 || true
    if [ -n "$dpdk" ] && [ "$libvirt" = 0 ]; then
        # Driving it takes a QEMU domain in the system libvirtd: opt-in.
        dpdk="" dpdk_note="$dpdk_note; not driven: it needs root and a domain in the system libvirtd (rerun with --libvirt)"
    fi
fi
[ -n "$dpdk_note" ] && echo "DPDK vm_power_manager: $dpdk_note" >> "$NOTES"

# CPU numbers for the placements: the generator on the first CPU, the
# server on the same one or on the next.
cpu0=$(taskset -pc $$ | sed 's/.*: //; s/[-,].*//')
cpu1=$((cpu0 + 1))
[ "$(nproc)" -ge 2 ] || cpu1=$cpu0

# Spaces in the placement name would split key=value pairs: keep one word
# in the file and let the table script read it back.
row() {
    line=$("$LOADGEN" latency --server "$6" --channels "$5" --seconds "$SECONDS_EACH" \
        --gen-cpu "$3" --server-cpu "$4" --vmpowerd "$VMPOWERD" --fixture "$FIXTURE" \
        2>>"$OUT/loadgen.log") || true
    [ -n "$line" ] || line="server=$6 channels=$5 error=no_output"
    echo "run=$1 placement=$2 $line" >> "$LAT"
    echo "  run $1, $2, $5 channels, $6: $line" >&2
}

for run in $(seq 1 "$RUNS"); do
    for ch in $CHANNELS; do
        for placement in same across; do
            g=$cpu0; s=$cpu0
            [ "$placement" = across ] && s=$cpu1
            row "$run" "$placement" "$g" "$s" "$ch" floor
            row "$run" "$placement" "$g" "$s" "$ch" vmpowerd
            if [ -n "$dpdk" ] && [ "$ch" = 1 ]; then
                line=$(bench/dpdk_host.sh drive "$LOADGEN" "$g" "$s" "$SECONDS_EACH" \
                    2>>"$OUT/dpdk-run.log") || true
                [ -n "$line" ] || line="server=dpdk channels=1 error=see_dpdk-run.log"
                echo "run=$run placement=$placement $line" >> "$LAT"
                echo "  run $run, $placement, 1 channel, dpdk: $line" >&2
            fi
        done
    done
done

# Scale: connect-all at 1000 domains x 8 channels, RSS at 8192 channels,
# idle CPU with 1024 connected channels, STARTED -> connected.
scale() {  # label domains per_domain idle_seconds key...
    label=$1; d=$2; c=$3; t=$4; shift 4
    vals=""
    for run in $(seq 1 "$RUNS"); do
        line=$("$LOADGEN" scale --domains "$d" --per-domain "$c" --idle-seconds "$t" \
            --vmpowerd "$VMPOWERD" --fixture "$FIXTURE" 2>>"$OUT/loadgen.log") || true
        echo "  scale $d x $c: $line" >&2
        v=""
        for key in "$@"; do
            v="$v $key=$(echo "$line" | tr ' ' '\n' | sed -n "s/^$key=//p")"
        done
        vals="$vals [run $run:$v]"
    done
    echo "$label:$vals" >> "$SCALE"
}
set -- $CONNECT_ALL
scale "connect-all, $1 domains x $2 channels, from exec (target at 1000 x 8: <= 1000 ms)" $1 $2 0 connect_all_ms startup_cpu_ms
set -- $RSS_BIG
scale "RSS at $(($1 * $2)) connected channels ($1 x $2; target at 8192: <= 30 MB)" $1 $2 0 rss_kb connect_all_ms
set -- $RSS_SMALL
scale "RSS at $(($1 * $2)) connected channels ($1 x $2)" $1 $2 0 rss_kb
set -- $IDLE_SHAPE
scale "idle CPU, $(($1 * $2)) connected channels ($1 x $2), over ${idle} s (target at 1024 over 60 s: <= 0.1 %)" $1 $2 "$idle" idle_cpu_pct idle_cpu_ms startup_cpu_ms
if [ "$smoke" = 0 ] && [ -x "$CHANNEL_BENCH" ]; then
    vals=""
    for run in $(seq 1 "$RUNS"); do
        line=$("$CHANNEL_BENCH" --started-to-connected 8 50 2>>"$OUT/loadgen.log") || true
        vals="$vals [run $run: $(echo "$line" | cut -d' ' -f4-)]"
    done
    echo "STARTED -> 8 channels connected, test driver, in-process, 50 rounds (target <= 5 ms):$vals" >> "$SCALE"
fi
# The rows that need the system libvirtd (method: docs/benchmarks.md).
if [ "$libvirt" = 1 ]; then
    line=$(python3 bench/real_start.py --vmpowerd "$VMPOWERD" --fixture "$FIXTURE" \
        --rounds "${BENCH_START_ROUNDS:-20}" --log "$OUT/real-start.log" 2>>"$OUT/real-start.err") || true
    echo "  real virsh start: $line" >&2
    echo "STARTED -> 8 channels connected, real TCG domain, virsh start (target <= 5 ms): [run 1: $(echo "$line" | cut -d' ' -f2-)]" >> "$SCALE"
    if [ -n "$dpdk" ]; then
        line=$(bench/dpdk_host.sh idle 64 "$idle" "$cpu0" 2>>"$OUT/dpdk-run.log") || true
        echo "  dpdk idle: $line" >&2
        echo "DPDK vm_power_mgr: idle CPU, 64 connected channels, over ${idle} s (vmpowerd's target at 1024: <= 0.1 %): [run 1: $(echo "$line" | cut -d' ' -f2-)]" >> "$SCALE"
    fi
else
    echo "STARTED -> connected on a real virsh start, DPDK's idle CPU: not measured (they need root and the system libvirtd: rerun with --libvirt)" >> "$NOTES"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt" >&2

echo
cat "$OUT/machine.txt"
echo
python3 bench/bench_table.py "$LAT" "$SCALE" "$NOTES" | tee "$OUT/table.md"

[ "$micro" = 1 ] || exit 0

# The in-process benchmarks and instruction counts (bench/README.md).
REPS="--benchmark_repetitions=5 --benchmark_report_aggregates_only=true"
"$BUILD/bench/request_path_bench" $REPS \
    --benchmark_out="$OUT/request_path.json" --benchmark_out_format=json
"$BUILD/bench/channel_scaling_bench" $REPS \
    --benchmark_out="$OUT/channel_scaling.json" --benchmark_out_format=json
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
