#!/bin/sh
# Runs every test: the full suite on build/ (unit, integration on the
# test:/// driver and on a real libvirtd + QEMU, fuzz corpus replays, the
# real-VM and live-migration tests), then everything but those two under
# ASan+UBSan with the libFuzzer targets run for a bounded time.
set -eu
cd "$(dirname "$0")/.."
# Tests start libvirtd when none runs; stop only what they started.
trap 'scripts/libvirtd.sh stop' EXIT
# Each phase prints how long it took, so a slow one shows.
test_start=$(date +%s)
took() {
    t=$(($(date +%s) - $2))
    echo "test: $1 took $((t / 60)) min $((t % 60)) s"
}

t0=$(date +%s)
meson test -C build --print-errorlogs --num-processes 2
took "build/ (every suite)" "$t0"
t0=$(date +%s)
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite vm --no-suite migration
took "build-asan/ (all but vm, migration)" "$t0"
took "all tests" "$test_start"
echo "test: all passed"
