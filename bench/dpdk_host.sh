#!/bin/sh
# DPDK's own host (examples/vm_power_manager from Debian's dpdk-doc), built at
# bench time into a temporary directory (never committed) and driven by
# vmpower-loadgen for scripts/bench.sh. Method: docs/benchmarks.md.
#
#   bench/dpdk_host.sh build      prints why it cannot be measured and fails,
#                                 or prints what was built and succeeds
#   bench/dpdk_host.sh drive LOADGEN GEN_CPU SERVER_CPU SECONDS
#                                 one loadgen line (server=dpdk, 1 channel)
#   bench/dpdk_host.sh idle CHANNELS SECONDS SERVER_CPU
#                                 its CPU time with CHANNELS connected, nothing sent
#
# drive and idle need root and the system libvirtd (qemu:///system): they
# define and start (paused) a one-vCPU TCG domain named vmpb-dpdk-<pid>, and
# run vm_power_mgr in a private mount namespace whose
# /sys/devices/system/cpu is a tmpfs copy of tests/fixtures/sysfs/acpi-cpufreq
# and whose /tmp/powermonitor is a scratch directory. Everything is removed
# on exit: domain undefined, vm_power_mgr stopped, namespace gone with it.
set -eu
SRC=/usr/share/dpdk/examples/vm_power_manager
DIR=${TMPDIR:-/tmp}/vmpower-dpdk-host
URI=qemu:///system
HERE=$(cd "$(dirname "$0")" && pwd)
FIXTURE=$HERE/../tests/fixtures/sysfs/acpi-cpufreq/devices/system/cpu

# One word per value: bench_table.py splits lines on spaces.
word() { echo "$*" | tr -s ' \t' '__'; }

mgr_binary() {
    find "$DIR/src/build" -name 'vm_power_mgr*' -type f -perm -u+x 2>/dev/null | head -1
}

# Why drive/idle cannot run here, or nothing.
missing() {
    [ -n "$(mgr_binary)" ] || { echo "vm_power_mgr is not built (bench/dpdk_host.sh build)"; return; }
    [ "$(id -u)" = 0 ] || { echo "needs root (a mount namespace, the system libvirtd)"; return; }
    for tool in virsh unshare mount python3; do
        command -v "$tool" >/dev/null || { echo "$tool not found"; return; }
    done
    virsh -c "$URI" version >/dev/null 2>&1 \
        || { echo "no libvirtd answers on $URI (scripts/libvirtd.sh start)"; return; }
    [ -d "$FIXTURE" ] || echo "the fixture $FIXTURE is missing"
}

# The fixture's cpu directory as vm_power_mgr sees it on a real host with
# acpi-cpufreq after librte_power chose the userspace governor: governor
# "userspace" and scaling_setspeed readable (the kernel shows the current
# frequency there once userspace is the governor; a copy cannot react to
# the governor write). EAL counts a CPU only if it has topology/core_id,
# which the fixture (made for the agent, which never reads it) lacks: one
# core per CPU, one package, as on a machine without SMT.
prepare_cpu_tree() {
    cp -a "$FIXTURE" "$1"
    for p in "$1"/cpufreq/policy*; do
        echo userspace > "$p/scaling_governor"
        cat "$p/scaling_cur_freq" > "$p/scaling_setspeed"
    done
    for c in "$1"/cpu[0-9]*; do
        mkdir -p "$c/topology"
        echo "${c##*/cpu}" > "$c/topology/core_id"
        echo 0 > "$c/topology/physical_package_id"
    done
}

# --- one session: domain, namespace, vm_power_mgr; cleanup() undoes it ----
scratch="" domain="" mgr_pid="" made_pm_dir="" listener_pid=""

cleanup() {
    if [ -n "$mgr_pid" ]; then
        # "quit" ends its CLI; its lcores stop on SIGTERM (sig_handler).
        { printf 'quit\n' >&3; } 2>/dev/null || true
        exec 3>&- || true
        i=0
        while kill -0 "$mgr_pid" 2>/dev/null && [ $i -lt 50 ]; do
            [ $i = 20 ] && kill -TERM "$mgr_pid" 2>/dev/null
            sleep 0.1; i=$((i + 1))
        done
        kill -KILL "$mgr_pid" 2>/dev/null || true
        wait "$mgr_pid" 2>/dev/null || true
        sed 's/^/vm_power_mgr: /' "$scratch/mgr.log" >&2
    fi
    if [ -n "$listener_pid" ]; then
        kill "$listener_pid" 2>/dev/null || true
        wait "$listener_pid" 2>/dev/null || true
    fi
    if [ -n "$domain" ]; then
        virsh -c "$URI" destroy "$domain" >/dev/null 2>&1 || true
        virsh -c "$URI" undefine "$domain" >/dev/null 2>&1 || true
    fi
    [ -n "$made_pm_dir" ] && rmdir /tmp/powermonitor 2>/dev/null || true
    [ -n "$scratch" ] && rm -rf "$scratch"
}

# Each step below sets $why and fails, or succeeds.
begin() {
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/vmpb-dpdk.XXXXXX")
    trap cleanup EXIT
    trap 'exit 1' INT TERM
    prepare_cpu_tree "$scratch/cpu"
    mkdir "$scratch/pm" "$scratch/q"
}

# A domain that exists and is active is all vm_power_mgr asks libvirt about
# (virDomainLookupByName, virDomainIsActive, virDomainGetInfo,
# virDomainGetVcpus for the vCPU -> pCPU map); paused, it costs no CPU.
# vCPU 0 on pCPU 1 as in vmpowerd's rows, so both scale the same policy.
start_domain() {
    pcpu=1
    [ "$(nproc)" -ge 2 ] || pcpu=0
    domain=vmpb-dpdk-$$
    cat > "$scratch/domain.xml" <<EOF2
<domain type='qemu'>
  <name>$domain</name>
  <memory unit='MiB'>32</memory>
  <vcpu placement='static'>1</vcpu>
  <cputune><vcpupin vcpu='0' cpuset='$pcpu'/></cputune>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <on_poweroff>destroy</on_poweroff>
  <devices><memballoon model='none'/></devices>
</domain>
EOF2
    if ! out=$(virsh -c "$URI" define "$scratch/domain.xml" 2>&1); then
        domain=""
        why="virsh define failed: $out"; return 1
    fi
    if ! out=$(virsh -c "$URI" start --paused "$domain" 2>&1); then
        why="virsh start failed: $out"; return 1
    fi
}

# The generator's sockets (it plays QEMU) under the names vm_power_mgr looks
# for: /tmp/powermonitor/<vm>.<n> -> $scratch/q/s<n>, n = 0..channels-1.
link_channels() {  # channels
    i=0
    while [ "$(find "$scratch/q" -type s | wc -l)" -lt "$1" ]; do
        i=$((i + 1))
        [ $i -le 100 ] || { why="the generator made no sockets in 10 s"; return 1; }
        kill -0 "$listener_pid" 2>/dev/null || { why="the generator exited before listening"; return 1; }
        sleep 0.1
    done
    c=0
    while [ $c -lt "$1" ]; do
        ln -s "$scratch/q/s$c" "$scratch/pm/$domain.$c"
        c=$((c + 1))
    done
}

start_mgr() {  # channels server_cpu
    [ -d /tmp/powermonitor ] || { mkdir /tmp/powermonitor && made_pm_dir=1; }
    mkfifo "$scratch/cli"
    # Private mounts for vm_power_mgr only (unshare -m makes them private):
    # the host's /sys and /tmp/powermonitor are never touched. EAL lcore 0
    # runs the CLI, 1 the channel monitor (the one that answers), 2 the core
    # monitor; all three on SERVER_CPU. No hugepages, no PCI, no files in
    # /var/run/dpdk.
    unshare -m sh -c 'mount --bind "$1" /sys/devices/system/cpu &&
        mount --bind "$2" /tmp/powermonitor &&
        exec "$3" --lcores "(0-2)@$4" --no-huge -m 64 --no-pci --no-shconf --no-telemetry' \
        sh "$scratch/cpu" "$scratch/pm" "$(mgr_binary)" "$2" \
        < "$scratch/cli" > "$scratch/mgr.log" 2>&1 &
    mgr_pid=$!
    exec 3> "$scratch/cli"
    # Its interactive CLI, as an operator would type it (vm_power_cli.c).
    printf 'add_vm %s\nadd_channels %s all\nshow_vm %s\n' "$domain" "$domain" "$domain" >&3
    i=0
    until grep -q "Added $1 channels for VM" "$scratch/mgr.log"; do
        i=$((i + 1))
        if [ $i -gt 300 ] || ! kill -0 "$mgr_pid" 2>/dev/null; then
            why="vm_power_mgr did not add $1 channels in 30 s: $(grep -m1 -E \
                'Error|ERR|not found|Cannot|Unable|Added [0-9]+ channels' "$scratch/mgr.log" \
                || echo see its log)"
            return 1
        fi
        sleep 0.1
    done
}

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
    bin=$(mgr_binary)
    [ -n "$bin" ] || { echo "not measured: the build made no vm_power_mgr"; exit 1; }
    echo "built $(dpkg-query -W -f '${Package} ${Version}' dpdk-doc 2>/dev/null) into $bin"
    ;;
drive)
    [ $# = 5 ] || { echo "usage: bench/dpdk_host.sh drive LOADGEN GEN_CPU SERVER_CPU SECONDS" >&2; exit 2; }
    loadgen=$2 gen_cpu=$3 server_cpu=$4 seconds=$5
    why=$(missing)
    [ -z "$why" ] || { echo "server=dpdk channels=1 error=$(word "$why")"; exit 1; }
    begin
    # The generator first: it listens (QEMU's role), waits up to 60 s for
    # the server to connect, primes with SCALE_MAX, then runs closed loop.
    "$loadgen" latency --server external --channels 1 --seconds "$seconds" \
        --gen-cpu "$gen_cpu" --socket-dir "$scratch/q" > "$scratch/loadgen.out" &
    listener_pid=$!
    if start_domain && link_channels 1 && start_mgr 1 "$server_cpu"; then
        wait "$listener_pid" || true
        listener_pid=""
        line=$(sed -n "s/^server=external \(.*\)server_cpu=-1 /server=dpdk \1server_cpu=$server_cpu /p" "$scratch/loadgen.out")
        [ -n "$line" ] || line="server=dpdk channels=1 error=the_generator_printed_nothing"
    else
        line="server=dpdk channels=1 error=$(word "$why")"
    fi
    echo "$line"
    case "$line" in *error=*) exit 1 ;; esac
    ;;
idle)
    [ $# = 4 ] || { echo "usage: bench/dpdk_host.sh idle CHANNELS SECONDS SERVER_CPU" >&2; exit 2; }
    n=$2 seconds=$3 server_cpu=$4
    why=$(missing)
    [ -z "$why" ] || { echo "dpdk_idle channels=$n error=$(word "$why")"; exit 1; }
    begin
    # QEMU's role, nothing sent: listen on every socket, accept, hold them.
    python3 -c '
import signal, socket, sys
d, n = sys.argv[1], int(sys.argv[2])
ls = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX)
    s.bind(f"{d}/s{i}")
    s.listen(1)
    ls.append(s)
conns = [s.accept()[0] for s in ls]
print("connected", flush=True)
signal.pause()
' "$scratch/q" "$n" < /dev/null > "$scratch/listener.out" &
    listener_pid=$!
    if start_domain && link_channels "$n" && start_mgr "$n" "$server_cpu"; then
        i=0
        until grep -q connected "$scratch/listener.out" || [ $i -gt 100 ]; do
            sleep 0.1; i=$((i + 1))
        done
        sleep 1  # let start-up settle, as the loadgen's scale mode does
        tck=$(getconf CLK_TCK)
        ticks() { awk '{print $14 + $15}' "/proc/$mgr_pid/stat"; }
        t0=$(ticks)
        w0=$(date +%s.%N)
        sleep "$seconds"
        t1=$(ticks)
        w1=$(date +%s.%N)
        awk -v n="$n" -v a="$t0" -v b="$t1" -v w0="$w0" -v w1="$w1" -v hz="$tck" 'BEGIN {
            ms = (b - a) * 1000 / hz; wall = w1 - w0
            printf "dpdk_idle channels=%d idle_seconds=%.0f idle_cpu_ms=%.0f idle_cpu_pct=%.1f\n",
                n, wall, ms, ms / 10 / wall }'
    else
        echo "dpdk_idle channels=$n error=$(word "$why")"
        exit 1
    fi
    ;;
*)
    echo "usage: bench/dpdk_host.sh build | drive LOADGEN GEN_CPU SERVER_CPU SECONDS" \
         "| idle CHANNELS SECONDS SERVER_CPU" >&2
    exit 2
    ;;
esac
