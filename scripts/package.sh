#!/bin/sh
# Builds the Debian packages `vmpower` (host) and `vmpower-guest` from a
# clean copy of the tree, checks them with lintian, and with --install-check
# installs them into a throw-away minimal Debian 12 root (debootstrap, from
# the machine's own apt mirror) and runs each program's --help there.
#   scripts/package.sh [--install-check] [OUT_DIR]     (default OUT_DIR: dist/)
# Run as root on Debian 12 after scripts/setup.sh. Not part of the test
# suite: a package build compiles everything once more (~10 min on 2 cores).
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
install_check=no
if [ "${1:-}" = "--install-check" ]; then install_check=yes; shift; fi
out=$(realpath -m "${1:-dist}")

need="debhelper lintian dpkg-dev fakeroot"
[ "$install_check" = yes ] && need="$need debootstrap"
missing=""
for p in $need; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "package: installing:$missing"
    apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

# A fixed place (emptied first): the same paths each time let ccache reuse
# the previous package build's objects.
work=/var/tmp/vmpower-package
rm -rf "$work"
mkdir -p "$work"
root=""
cleanup() {
    if [ -n "$root" ]; then
        for m in proc dev; do umount "$root/$m" 2>/dev/null || true; done
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The tree as git sees it (tracked and new files, no build directories).
mkdir "$work/vmpower"
git -C "$src" ls-files -z --cached --others --exclude-standard |
    (cd "$src" && xargs -0 tar -cf - --no-recursion) | tar -C "$work/vmpower" -xf -
(cd "$work/vmpower" && dpkg-buildpackage -us -uc -b)

mkdir -p "$out"
cp "$work"/*.deb "$out"/
echo "package: built:"
ls -l "$out"/*.deb

echo "package: lintian"
lintian --fail-on error --tag-display-limit 0 "$work"/*.changes

if [ "$install_check" = yes ]; then
    root="$work/root"
    mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
    debootstrap --variant=minbase bookworm "$root" "${mirror:-http://deb.debian.org/debian}"
    cp "$out"/vmpower_*.deb "$out"/vmpower-guest_*.deb "$root/tmp/"
    mount -t proc proc "$root/proc"
    mount --bind /dev "$root/dev"
    chroot "$root" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends /tmp/vmpower_*.deb /tmp/vmpower-guest_*.deb'
    for cmd in "vmpowerd --help" "vmpowerctl --help" "vmpower-provision --help" "vmpower-guest --help"; do
        echo "package: in a clean root: $cmd"
        chroot "$root" $cmd >/dev/null
    done
    chroot "$root" sh -c 'test -f /etc/vmpower/vmpower.yaml && man -w vmpowerd >/dev/null 2>&1 || test -f /usr/share/man/man8/vmpowerd.8.gz'
    echo "package: installed and ran in a clean Debian 12 root"
fi
