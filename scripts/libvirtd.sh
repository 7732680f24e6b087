#!/bin/sh
# libvirtd.sh start|stop|status — for tests on a machine without systemd.
# start: starts virtlogd and libvirtd when they are not running and waits
#   until qemu:///system answers; remembers what it started.
# stop: stops only the daemons that `start` started (leaves others alone).
set -eu
mark=/run/vmpower-test-started-daemons
cmd=${1:-start}

running() { pgrep -x "$1" >/dev/null 2>&1; }

case "$cmd" in
start)
    for tool in virtlogd libvirtd virsh; do
        command -v "$tool" >/dev/null || {
            echo "libvirtd.sh: $tool not found: run scripts/setup.sh (libvirt-daemon-system)" >&2
            exit 1
        }
    done
    if ! running virtlogd; then virtlogd -d; echo virtlogd >>"$mark"; fi
    if ! running libvirtd; then libvirtd -d; echo libvirtd >>"$mark"; fi
    i=0
    until virsh -c qemu:///system version >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "libvirtd.sh: libvirtd does not answer on qemu:///system after 20 s" >&2
            exit 1
        fi
        sleep 0.2
    done
    ;;
stop)
    [ -f "$mark" ] || exit 0
    for d in libvirtd virtlogd; do
        if grep -qx "$d" "$mark"; then pkill -x "$d" || true; fi
    done
    rm -f "$mark"
    ;;
status)
    running libvirtd && virsh -c qemu:///system version >/dev/null 2>&1
    ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
