#!/bin/sh
# Runs every test: the full suite on build/ (unit, integration on the
# test:/// driver and on a real libvirtd + QEMU, fuzz corpus replays, the
# real-VM and live-migration tests), then everything but those two under
# ASan+UBSan with the libFuzzer targets run for a bounded time.
set -eu
cd "$(dirname "$0")/.."
# Tests start libvirtd when none runs; stop only what they started.
trap 'scripts/libvirtd.sh stop' EXIT
meson test -C build --print-errorlogs --num-processes 2
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite vm --no-suite migration
echo "test: all passed"
