#!/bin/sh
# Set-up and build on a fresh Debian 12 machine, as root:
#   Debian packages (build, test, libvirt daemon, QEMU), then three builds:
#   build/               gcc, the one the tests and the real-VM test use
#   build-asan/          clang with ASan+UBSan and libFuzzer fuzz targets
#   build-static-guest/  the static vmpower-guest of the guest image
# and the guest image. Prints how long each step took (and a table at the
# end). Safe to run again: every step is idempotent.
set -eu
cd "$(dirname "$0")/.."

# timed LABEL COMMAND...: runs COMMAND, then prints and records its wall time.
setup_start=$(date +%s)
times=""
timed() {
    label=$1
    shift
    t0=$(date +%s)
    "$@"
    t=$(($(date +%s) - t0))
    echo "setup: $label took $((t / 60)) min $((t % 60)) s"
    times="$times$(printf '  %-22s %4d min %2d s' "$label" $((t / 60)) $((t % 60)))
"
}

# libdpdk-dev: the DPDK guest program of the real-VM policy test; dpdk-doc:
# DPDK's own host for `scripts/bench.sh --libvirt` (built from its sources at
# bench time, never committed).
PACKAGES="
  build-essential g++ clang libclang-rt-14-dev meson ninja-build pkgconf git
  libvirt-dev libpugixml-dev libxml2-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libsystemd-dev libedit-dev
  libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
  busybox-static cpio gzip kmod diffutils python3
  libdpdk-dev iproute2 dpdk-doc
  scdoc systemd
"

install_packages() {
    missing=""
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "setup: installing:$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        # shellcheck disable=SC2086
        # With recommends: the same set the tests were developed on (QEMU modules, dnsmasq...).
        apt-get install -y -q $missing
    fi
    # promtool (tests check the metrics with it) comes only with the Prometheus
    # server; without recommends, so no node exporter daemon is pulled in.
    if ! command -v promtool >/dev/null; then
        echo "setup: installing: prometheus (for promtool)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus
    fi
}
timed "Debian packages" install_packages

if [ ! -f build/build.ninja ]; then
    meson setup build --prefix=/usr   # `meson install` lays out a Debian host: /usr, /etc/vmpower
fi
if [ ! -f build-asan/build.ninja ]; then
    CC=clang CXX=clang++ meson setup build-asan \
        -Db_sanitize=address,undefined -Db_lundef=false -Dfuzzing=true -Doptimization=1
fi
if [ ! -f build-static-guest/build.ninja ]; then
    meson setup build-static-guest -Dguest_only=true -Dstatic_guest=true
fi
timed "build/ (gcc)" ninja -C build
timed "build-asan/ (clang)" ninja -C build-asan
# Only the static vmpower-guest: the guest's tests run in build/ and build-asan/.
timed "build-static-guest/" ninja -C build-static-guest guest/vmpower-guest

# The tiny guest image of the real-VM tests (Debian kernel + busybox + the
# static vmpower-guest + dpdk-power-guest built against libdpdk-dev, for the
# DPDK guest's policy test, + Debian's node_exporter for the energy test);
# downloads the kernel and node_exporter packages once. Rebuilt on
# every run: the image follows guest/image and tests/vm/dpdk_power_guest.c.
timed "guest image" \
    scripts/build-guest-image.sh build-static-guest/guest/vmpower-guest data/guest-image
total=$(($(date +%s) - setup_start))
printf 'setup: done in %d min %d s:\n%s' $((total / 60)) $((total % 60)) "$times"
