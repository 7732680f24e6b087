#!/bin/sh
# provision_integration.sh TOOL CORPUS_DIR LIBVIRTD_SH
# vmpower-provision against a real libvirtd (qemu:///system), as root.
# For each corpus domain (renamed provtest-<file>, type='qemu'):
#   define the original -> edit-file -> schema-valid (virt-xml-validate) ->
#   define -> libvirt's normalised XML differs from the original's only by
#   added lines -> edit-domain again changes nothing -> check says 0 ->
#   remove gives back the original normalised XML -> check says 20 ->
#   edit-domain online gives what edit-file gave -> remove -> undefine.
# Then --live on a running TCG domain that sits in its BIOS, and the
# failure statuses. Everything created is removed, whatever happens.
# Fails (never skips) when not root or libvirtd cannot be started.
set -u
tool=$1 corpus=$2 libvirtd_sh=$3
uri=qemu:///system
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (it defines domains on qemu:///system)" >&2; exit 1; }
command -v virsh >/dev/null && command -v virt-xml-validate >/dev/null || { echo "FAIL: virsh or virt-xml-validate missing: run scripts/setup.sh" >&2; exit 1; }
"$libvirtd_sh" start || { echo "FAIL: libvirtd does not start" >&2; exit 1; }

work=$(mktemp -d /var/tmp/provtest.XXXXXX)
sockdir=/run/vmpower-provtest.$$
state=$work/state
failures=0
cleanup() {
    for d in $(virsh -c $uri list --all --name 2>/dev/null | grep '^provtest-'); do
        virsh -c $uri destroy "$d" >/dev/null 2>&1
        virsh -c $uri undefine "$d" >/dev/null 2>&1
    done
    rm -rf "$work" "$sockdir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cleanup   # leftovers of an interrupted run
mkdir -p "$work"

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
v() { virsh -q -c $uri "$@"; }
dump() { v dumpxml --inactive "$1"; }
# expect STATUS COMMAND...: runs the tool, checks its exit status
expect() {
    want=$1; shift
    "$tool" "$@" >"$work/out" 2>"$work/err"
    got=$?
    [ "$got" = "$want" ] || { fail "$* -> exit $got, wanted $want"; cat "$work/out" "$work/err"; }
}

for f in "$corpus"/*.xml; do
    base=$(basename "$f" .xml)
    name=provtest-$base
    echo "== $base"
    uuid=$(cat /proc/sys/kernel/random/uuid)
    sed -e "s|<name>[^<]*</name>|<name>$name</name>|" -e "s|<uuid>[^<]*</uuid>|<uuid>$uuid</uuid>|" \
        -e "s/<domain type=.kvm./<domain type='qemu'/" \
        -e "s/<cpu mode=.host-passthrough.[^>]*>/<cpu mode='maximum'\/>/" "$f" >"$work/orig.xml"
    grep -q '<uuid>' "$work/orig.xml" || sed -i "s|</name>|</name><uuid>$uuid</uuid>|" "$work/orig.xml"
    v define "$work/orig.xml" >/dev/null || { fail "$base: define original"; continue; }
    dump "$name" >"$work/n0.xml"

    # Offline, on libvirt's normalised XML (on raw input libvirt would assign
    # the PCI addresses of other devices afresh).
    expect 0 edit-file "$work/n0.xml" -o "$work/edited.xml" --socket-dir "$sockdir"
    virt-xml-validate "$work/edited.xml" >/dev/null || fail "$base: edited XML not schema-valid"
    v define "$work/edited.xml" >/dev/null || { fail "$base: define edited"; v undefine "$name" >/dev/null; continue; }
    dump "$name" >"$work/n1.xml"
    diff -u "$work/n0.xml" "$work/n1.xml" >"$work/d01"
    grep -q '^+ ' "$work/d01" || grep -q '^+<' "$work/d01" || grep -q '^+  ' "$work/d01" || fail "$base: nothing added"
    if grep -v '^---' "$work/d01" | grep -q '^-'; then fail "$base: lines changed, not only added"; cat "$work/d01"; fi
    grep -c 'virtio.serial.port.poweragent' "$work/n1.xml" >/dev/null || fail "$base: no channels"

    expect 0 edit-domain "$name" --socket-dir "$sockdir" --state-dir "$state"
    grep -q 'nothing to do' "$work/out" || fail "$base: second edit did something"
    dump "$name" | cmp -s - "$work/n1.xml" || fail "$base: second edit changed the domain"
    expect 0 check "$name"

    expect 0 remove "$name" --state-dir "$state"
    dump "$name" >"$work/n2.xml"
    cmp -s "$work/n0.xml" "$work/n2.xml" || { fail "$base: remove did not restore the original"; diff -u "$work/n0.xml" "$work/n2.xml"; }
    expect 20 check "$name"

    expect 0 edit-domain "$name" --socket-dir "$sockdir" --state-dir "$state" --dry-run
    dump "$name" | cmp -s - "$work/n0.xml" || fail "$base: --dry-run changed the domain"
    grep -q '^+.*virtio.serial.port.poweragent' "$work/out" || fail "$base: --dry-run printed no diff"
    expect 0 edit-domain "$name" --socket-dir "$sockdir" --state-dir "$state"
    dump "$name" >"$work/n3.xml"
    cmp -s "$work/n1.xml" "$work/n3.xml" || { fail "$base: edit-domain differs from edit-file"; diff -u "$work/n1.xml" "$work/n3.xml"; }
    expect 0 remove "$name" --state-dir "$state"
    dump "$name" | cmp -s - "$work/n0.xml" || fail "$base: second remove did not restore"
    v undefine "$name" >/dev/null || fail "$base: undefine"
done

echo "== failure statuses"
expect 4 edit-domain provtest-does-not-exist --state-dir "$state"
cat >"$work/tiny.xml" <<XML
<domain type='qemu'>
  <name>provtest-live</name>
  <memory unit='MiB'>64</memory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='virtio-serial' index='0'/>
    <graphics type='vnc' listen='127.0.0.1' autoport='yes'/>
  </devices>
</domain>
XML
v define "$work/tiny.xml" >/dev/null || fail "define tiny"
expect 7 edit-domain provtest-live --channels 65 --state-dir "$state"
expect 8 edit-domain provtest-live --socket-dir "/run/$(printf '%0100d' 0)" --state-dir "$state"
expect 3 edit-domain provtest-live -c 'qemu+unix:///system?socket=/nonexistent'

echo "== VNC and SPICE passwords survive every edit"
# libvirt leaves passwords out of the XML unless asked for them (SECURE):
# defining an edit of such an XML would silently delete them.
secure() { v dumpxml --inactive --security-info "$1"; }
sed -e 's/provtest-live/provtest-secrets/' \
    -e "s|<graphics type='vnc' listen='127.0.0.1' autoport='yes'/>|<graphics type='vnc' listen='127.0.0.1' autoport='yes' passwd='vnc8pw-1'/><graphics type='spice' autoport='yes' passwd='spice-secret-2'><listen type='address' address='127.0.0.1'/></graphics>|" \
    "$work/tiny.xml" >"$work/secrets.xml"
v define "$work/secrets.xml" >/dev/null || fail "define secrets"
secure provtest-secrets >"$work/s0.xml"
grep -q "passwd='vnc8pw-1'" "$work/s0.xml" && grep -q "passwd='spice-secret-2'" "$work/s0.xml" || fail "test domain lacks its passwords"
has_secrets() {
    secure provtest-secrets | grep -q "passwd='vnc8pw-1'" && secure provtest-secrets | grep -q "passwd='spice-secret-2'"
}
expect 0 edit-domain provtest-secrets --socket-dir "$sockdir" --state-dir "$state"
has_secrets || fail "edit-domain lost a password"
for b in "$state"/provtest-secrets.*; do
    grep -q "vnc8pw-1" "$b" || fail "backup $b lacks the password (it could not restore it)"
    [ "$(stat -c %a "$b")" = 600 ] || fail "backup $b holds secrets but is mode $(stat -c %a "$b")"
done
expect 0 edit-domain provtest-secrets --socket-dir "$sockdir" --state-dir "$state"
has_secrets || fail "second edit-domain lost a password"
expect 0 remove provtest-secrets --state-dir "$state"
secure provtest-secrets | cmp -s - "$work/s0.xml" || { fail "remove did not give back the definition with its passwords"; secure provtest-secrets | diff -u "$work/s0.xml" -; }
v start provtest-secrets >/dev/null || fail "start secrets"
expect 0 edit-domain provtest-secrets --live --socket-dir "$sockdir" --state-dir "$state"
has_secrets || fail "edit-domain --live lost a password"
expect 0 remove provtest-secrets --live --state-dir "$state"
has_secrets || fail "remove --live lost a password"
v destroy provtest-secrets >/dev/null
v undefine provtest-secrets >/dev/null

echo "== --live on a running TCG domain"
# libvirt cannot hot-plug a virtio-serial controller: refused, unchanged.
sed -e 's/provtest-live/provtest-live-noctl/' -e '/virtio-serial/d' "$work/tiny.xml" >"$work/noctl.xml"
v define "$work/noctl.xml" >/dev/null && v start provtest-live-noctl >/dev/null || fail "start noctl"
dump provtest-live-noctl >"$work/noctl0.xml"
expect 14 edit-domain provtest-live-noctl --live --auto-path --state-dir "$state"
dump provtest-live-noctl | cmp -s - "$work/noctl0.xml" || fail "refused --live changed the config"
v dumpxml provtest-live-noctl | grep -q poweragent && fail "refused --live changed the running domain"
v destroy provtest-live-noctl >/dev/null; v undefine provtest-live-noctl >/dev/null

dump provtest-live >"$work/live0.xml"
v start provtest-live >/dev/null || fail "start tiny"
expect 6 edit-domain provtest-live --socket-dir "$sockdir" --state-dir "$state"
dump provtest-live | cmp -s - "$work/live0.xml" || fail "refused edit changed the domain"
expect 0 edit-domain provtest-live --live --socket-dir "$sockdir" --state-dir "$state"
v dumpxml provtest-live >"$work/live.xml"
for n in 0 1; do
    grep -q "path='$sockdir/provtest-live.$n'" "$work/live.xml" || fail "live XML lacks channel $n"
    [ -S "$sockdir/provtest-live.$n" ] || fail "QEMU did not create socket $n"
done
grep -q "<controller type='virtio-serial'" "$work/live.xml" || fail "no controller hot-plugged"
dump provtest-live | grep -q 'poweragent.1' || fail "config lacks the channels"
[ "$(stat -c %U "$sockdir")" = "$(id -un libvirt-qemu 2>/dev/null || echo libvirt-qemu)" ] || fail "socket dir owner"
expect 0 check provtest-live
expect 0 edit-domain provtest-live --live --socket-dir "$sockdir" --state-dir "$state"
grep -q 'nothing to do' "$work/out" || fail "second --live edit did something"
expect 6 remove provtest-live --state-dir "$state"
expect 0 remove provtest-live --live --state-dir "$state"
# Unplugging is asynchronous (QEMU's DEVICE_DELETED): give it a moment.
i=0
while v dumpxml provtest-live | grep -q "name='virtio.serial.port.poweragent" && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
v dumpxml provtest-live | grep -q "name='virtio.serial.port.poweragent" && fail "live XML keeps channels after remove --live"
v dumpxml provtest-live | grep -q "urn:vmpower:provision" && fail "live XML keeps the provision record"
dump provtest-live | cmp -s - "$work/live0.xml" || { fail "remove --live did not restore the config"; dump provtest-live | diff -u "$work/live0.xml" -; }
ls "$state" | grep -q '^provtest-live\.' || fail "no backup in the state directory"
v destroy provtest-live >/dev/null
v undefine provtest-live >/dev/null

if [ $failures -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "provision integration: all passed"
