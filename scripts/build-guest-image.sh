#!/bin/sh
# build-guest-image.sh [--scenario FILE] [--cache DIR] VMPOWER_GUEST_BINARY OUTDIR
#
# Builds the tiny test guest: Debian's kernel (OUTDIR/vmlinuz) and an
# initramfs (OUTDIR/initrd.img) holding busybox (busybox-static), the virtio
# modules of that kernel (console and net), the static vmpower-guest,
# dpdk-power-guest (tests/vm/dpdk_power_guest.c built here against Debian's
# libdpdk-dev, with the shared libraries it loads), Debian's unmodified
# prometheus-node-exporter (the energy test reads its rapl collector in the
# guest) and an /init
# (guest/image/init) that loads
# the modules, makes /dev/virtio-ports/<name> links and runs a scenario
# (see docs/guest.md, "The test guest image"):
#   1. vmpower.cmds= on the kernel command line: steps separated by ';',
#      words by ',' (vmpower.cmds=set-cpu-freq,0,down;query-freq,all);
#   2. else /scenario.sh (baked in with --scenario FILE), sourced with the
#      helpers of /lib/vmpower/lib.sh (vmpower_run WORDS...);
#   3. else commands read line by line from the virtio port
#      org.vmpower.test.0 (a host test drives the guest) until "quit";
# each command prints "VMPOWER-RESULT <words joined by ,> <exit status> <output>"
# on the console; then "VMPOWER-DONE" and the guest powers off.
#
# The kernel package (the version `apt-cache depends linux-image-amd64`
# names, or $VMPOWER_KERNEL_PACKAGE) and prometheus-node-exporter are
# downloaded once into the cache
# (default OUTDIR/cache). Fails, saying what is missing, when a part is.
set -eu

die() { echo "build-guest-image: $*" >&2; exit 1; }

scenario=""
cache=""
while [ $# -gt 0 ]; do
    case "$1" in
    --scenario) [ $# -ge 2 ] || die "--scenario needs a file"; scenario=$2; shift 2 ;;
    --cache) [ $# -ge 2 ] || die "--cache needs a directory"; cache=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) break ;;
    esac
done
[ $# -eq 2 ] || die "usage: $0 [--scenario FILE] [--cache DIR] VMPOWER_GUEST_BINARY OUTDIR"
guest_bin=$1
outdir=$2
cache=${cache:-$outdir/cache}

# --- what we need, checked first -------------------------------------------
[ -x "$guest_bin" ] || die "$guest_bin: no such executable (build it: meson setup build-static-guest -Dguest_only=true -Dstatic_guest=true && ninja -C build-static-guest)"
if command -v readelf >/dev/null 2>&1 && readelf -l "$guest_bin" 2>/dev/null | grep -q INTERP; then
    die "$guest_bin is dynamically linked; the initramfs has no libc: build with -Dstatic_guest=true"
fi
[ -z "$scenario" ] || [ -r "$scenario" ] || die "scenario $scenario: not readable"
for tool in cpio gzip dpkg-deb apt-get apt-cache find; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (apt-get install cpio gzip apt dpkg findutils)"
done
for tool in cc pkg-config ldd; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (apt-get install build-essential pkgconf)"
done
pkg-config --exists libdpdk 2>/dev/null ||
    die "pkg-config knows no libdpdk: the DPDK guest program needs Debian's DPDK (apt-get install libdpdk-dev)"
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed" ||
    die "busybox-static is not installed (apt-get install busybox-static)"
busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox missing although busybox-static is installed"
if command -v readelf >/dev/null 2>&1 && readelf -l "$busybox" | grep -q INTERP; then
    die "$busybox is not the static one (install busybox-static, not busybox)"
fi

# --- the kernel package -----------------------------------------------------
kpkg=${VMPOWER_KERNEL_PACKAGE:-}
if [ -z "$kpkg" ]; then
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
    [ -n "$kpkg" ] || die "apt-cache does not know linux-image-amd64: no Debian kernel package (run apt-get update, or set VMPOWER_KERNEL_PACKAGE)"
fi
mkdir -p "$cache"
deb=$(find "$cache" -maxdepth 1 -name "${kpkg}_*.deb" | head -n 1)
if [ -z "$deb" ]; then
    echo "build-guest-image: downloading $kpkg into $cache"
    (cd "$cache" && apt-get download -q "$kpkg") || die "apt-get download $kpkg failed (network? apt sources?)"
    deb=$(find "$cache" -maxdepth 1 -name "${kpkg}_*.deb" | head -n 1)
    [ -n "$deb" ] || die "apt-get download $kpkg left no .deb in $cache"
fi

# Unpacked once: only vmlinuz and the virtio modules are kept.
kdir=$cache/$kpkg
modules="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_console failover net_failover virtio_net"
# .complete names the modules it was unpacked with: a changed list unpacks again.
if [ "$(cat "$kdir/.complete" 2>/dev/null)" != "$modules" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    dpkg-deb -x "$deb" "$tmp" || die "dpkg-deb -x $deb failed (corrupt download? delete it and rerun)"
    rm -rf "$kdir"
    mkdir -p "$kdir/modules"
    vmlinuz=$(find "$tmp/boot" -name 'vmlinuz-*' | head -n 1)
    [ -n "$vmlinuz" ] || die "$deb holds no boot/vmlinuz-*"
    kver=${vmlinuz##*/vmlinuz-}
    cp "$vmlinuz" "$kdir/vmlinuz"
    echo "$kver" >"$kdir/version"
    moddir=$tmp/lib/modules/$kver
    : >"$kdir/modules/order"
    for m in $modules; do
        ko=$(find "$moddir/kernel" -name "$m.ko*" | head -n 1)
        if [ -n "$ko" ]; then
            case "$ko" in
            *.ko) cp "$ko" "$kdir/modules/$m.ko" ;;
            *.ko.xz) xz -dc "$ko" >"$kdir/modules/$m.ko" || die "xz needed to unpack $ko" ;;
            *.ko.zst) zstd -dqc "$ko" >"$kdir/modules/$m.ko" || die "zstd needed to unpack $ko" ;;
            *) die "$ko: unknown module compression" ;;
            esac
            echo "$m" >>"$kdir/modules/order"
        elif grep -q "/$m.ko\$" "$moddir/modules.builtin" 2>/dev/null; then
            echo "build-guest-image: $m is built into $kver"
        else
            case "$m" in
            virtio_pci|virtio_console|virtio|virtio_ring)
                die "$kver has no $m (neither module nor built in): the guest could not see the channels" ;;
            virtio_net)
                die "$kver has no virtio_net (neither module nor built in): the traffic test needs it" ;;
            *) echo "build-guest-image: $kver has no $m (older kernels fold it into virtio_pci)" ;;
            esac
        fi
    done
    echo "$modules" >"$kdir/.complete"
    rm -rf "$tmp"
    trap - EXIT
fi
kver=$(cat "$kdir/version")

# --- prometheus-node-exporter (Debian's binary, unmodified) ----------------
nedeb=$(find "$cache" -maxdepth 1 -name 'prometheus-node-exporter_*.deb' | head -n 1)
if [ -z "$nedeb" ]; then
    echo "build-guest-image: downloading prometheus-node-exporter into $cache"
    (cd "$cache" && apt-get download -q prometheus-node-exporter) ||
        die "apt-get download prometheus-node-exporter failed (network? apt sources?)"
    nedeb=$(find "$cache" -maxdepth 1 -name 'prometheus-node-exporter_*.deb' | head -n 1)
    [ -n "$nedeb" ] || die "apt-get download prometheus-node-exporter left no .deb in $cache"
fi
nebin=$cache/prometheus-node-exporter
if [ ! -x "$nebin" ]; then
    netmp=$(mktemp -d)
    dpkg-deb -x "$nedeb" "$netmp" || die "dpkg-deb -x $nedeb failed (corrupt download? delete it and rerun)"
    [ -x "$netmp/usr/bin/prometheus-node-exporter" ] || die "$nedeb holds no usr/bin/prometheus-node-exporter"
    cp "$netmp/usr/bin/prometheus-node-exporter" "$nebin.tmp" && mv "$nebin.tmp" "$nebin"
    rm -rf "$netmp"
fi

# --- the initramfs ----------------------------------------------------------
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/usr/bin" "$stage/proc" "$stage/sys" "$stage/dev" \
    "$stage/tmp" "$stage/var/run" "$stage/lib/vmpower/modules"
cp "$busybox" "$stage/bin/busybox"
cp "$guest_bin" "$stage/usr/bin/vmpower-guest"
if command -v strip >/dev/null 2>&1; then strip "$stage/usr/bin/vmpower-guest"; fi
for f in "$kdir"/modules/*; do cp "$f" "$stage/lib/vmpower/modules/"; done

# dpdk-power-guest: built against the host's libdpdk-dev, with every shared
# library it loads (ldd's list, ld-linux included) at the same paths.
dpdk_src=$(dirname "$0")/../tests/vm/dpdk_power_guest.c
[ -f "$dpdk_src" ] || die "$dpdk_src missing (run from a vmpower checkout)"
# shellcheck disable=SC2046
cc -O2 -Wall -Wextra -Werror -o "$stage/usr/bin/dpdk-power-guest" "$dpdk_src" \
    $(pkg-config --cflags --libs libdpdk) || die "cannot build $dpdk_src against libdpdk"
for lib in $(ldd "$stage/usr/bin/dpdk-power-guest" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
    mkdir -p "$stage${lib%/*}"
    cp -L "$lib" "$stage$lib" || die "cannot copy $lib (from ldd dpdk-power-guest)"
done
[ -n "$(find "$stage" -name 'ld-linux*')" ] || die "ldd named no dynamic loader for dpdk-power-guest"
# glibc dlopens libgcc_s for pthread_cancel (rte_eal_cleanup): ldd cannot see it.
libc=$(find "$stage" -name 'libc.so.6' | head -n 1)
[ -n "$libc" ] || die "ldd named no libc.so.6 for dpdk-power-guest"
libdir=${libc#"$stage"}
libdir=${libdir%/*}
cp -L "$libdir/libgcc_s.so.1" "$stage$libdir/" || die "$libdir/libgcc_s.so.1 missing (apt-get install libgcc-s1)"
if command -v strip >/dev/null 2>&1; then strip "$stage/usr/bin/dpdk-power-guest"; fi
# node_exporter links only libc, already there for dpdk-power-guest; copy
# whatever else ldd names, the same way.
cp "$nebin" "$stage/usr/bin/prometheus-node-exporter"
for lib in $(ldd "$stage/usr/bin/prometheus-node-exporter" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
    [ -e "$stage$lib" ] && continue
    mkdir -p "$stage${lib%/*}"
    cp -L "$lib" "$stage$lib" || die "cannot copy $lib (from ldd prometheus-node-exporter)"
done
image_src=$(dirname "$0")/../guest/image
[ -f "$image_src/init" ] || die "$image_src/init missing (run from a vmpower checkout)"
cp "$image_src/init" "$stage/init"
cp "$image_src/lib.sh" "$stage/lib/vmpower/lib.sh"
[ -z "$scenario" ] || cp "$scenario" "$stage/scenario.sh"
chmod 0755 "$stage/init" "$stage/bin/busybox" "$stage/usr/bin/vmpower-guest" \
    "$stage/usr/bin/dpdk-power-guest" "$stage/usr/bin/prometheus-node-exporter"
# The kernel's built-in initramfs has /dev/console; add it anyway when we can.
if [ "$(id -u)" = 0 ]; then mknod -m 600 "$stage/dev/console" c 5 1; fi

mkdir -p "$outdir"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$outdir/initrd.img.tmp"
mv "$outdir/initrd.img.tmp" "$outdir/initrd.img"
cp "$kdir/vmlinuz" "$outdir/vmlinuz"
echo "$kver" >"$outdir/kernel-version"
# QEMU runs as libvirt-qemu: everything readable, the directories searchable.
chmod 0644 "$outdir/initrd.img" "$outdir/vmlinuz" "$outdir/kernel-version"
chmod 0755 "$outdir"
echo "build-guest-image: $outdir/vmlinuz ($kver), $outdir/initrd.img ($(wc -c <"$outdir/initrd.img") bytes)"
