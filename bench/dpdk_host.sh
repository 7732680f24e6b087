#!/bin/sh
# DPDK's own host (examples/vm_power_manager from Debian's dpdk-doc), built at
# bench time into a temporary directory (never committed) for scripts/bench.sh.
#
#   bench/dpdk_host.sh build      prints why it cannot be measured and fails,
#                                 or prints what was built and succeeds
#   bench/dpdk_host.sh drive LOADGEN GEN_CPU SERVER_CPU SECONDS
#                                 one loadgen line (server=dpdk, 1 channel)
set -eu
SRC=/usr/share/dpdk/examples/vm_power_manager
OUT=${BENCH_OUT:-build-bench/results}
DIR=${TMPDIR:-/tmp}/vmpower-dpdk-host

case "${1:-}" in
build)
    if [ ! -d "$SRC" ]; then
        echo "not measured: Debian's dpdk-doc is not installed" \
             "(apt-get install dpdk-doc libdpdk-dev libvirt-dev, then rerun)"
        exit 1
    fi
    if ! pkg-config --exists libdpdk 2>/dev/null; then
        echo "not measured: libdpdk-dev is missing (pkg-config libdpdk), needed to build $SRC"
        exit 1
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR"
    cp -r "$SRC" "$DIR/src"
    # The examples' own Makefile builds against the installed libdpdk.
    if ! make -C "$DIR/src" > "$DIR/build.log" 2>&1; then
        why=$(grep -m1 -E 'error|Error' "$DIR/build.log" || tail -1 "$DIR/build.log")
        echo "not measured: building $SRC failed: $why (full log: $DIR/build.log)"
        exit 1
    fi
    bin=$(find "$DIR/src" -name 'vm_power_mgr*' -type f -perm -u+x | head -1)
    [ -n "$bin" ] || { echo "not measured: the build made no vm_power_mgr"; exit 1; }
    echo "built $(dpkg-query -W -f '${Package} ${Version}' dpdk-doc 2>/dev/null) into $bin"
    ;;
drive)
    # vm_power_mgr finds a VM through a libvirt connection of its own and
    # its channels under /tmp/powermonitor/<vm>.<n>, all added by hand in its
    # interactive CLI: it needs a running domain in a real libvirtd and host
    # cpufreq it can drive through librte_power (this VM has no cpufreq).
    echo "server=dpdk channels=1 error=not_automated_(needs_a_running_libvirt_domain_and_host_cpufreq;_see_docs/benchmarks.md)"
    exit 1
    ;;
*)
    echo "usage: bench/dpdk_host.sh build | drive LOADGEN GEN_CPU SERVER_CPU SECONDS" >&2
    exit 2
    ;;
esac
