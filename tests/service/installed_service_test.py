#!/usr/bin/env python3
"""What `meson install` lays out for a service host, checked with systemd's
own tools (no systemd runs here: everything is offline).

Usage: installed_service_test.py BUILD_DIR VMPOWERD

- the unit passes `systemd-analyze verify` (its man: references resolve
  against the installed pages) and `systemd-analyze security --offline`
  rates it at most 4.0;
- the man pages, tmpfiles.d and sysusers.d files are installed, and
  systemd-tmpfiles / systemd-sysusers apply them to a scratch root;
- with --prefix=/usr the config lands in /etc/vmpower;
- FileDescriptorStoreMax= has room for every channel LimitNOFILE= allows;
- the guest's unit vmpower-guest-powercap.service passes the same checks and
  sets no option that gives it a mount namespace of its own (the tmpfs it
  mounts over /sys/class/powercap must be what node_exporter sees).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

MAX_EXPOSURE = 4.0
PAGES = ["man8/vmpowerd.8", "man8/vmpowerctl.8", "man8/vmpower-provision.8",
         "man5/vmpower.yaml.5", "man1/vmpower-guest.1"]


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


# Options that give a unit a mount namespace of its own.
NAMESPACE_OPTIONS = ["ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices",
                     "PrivateMounts", "PrivateNetwork", "ReadWritePaths", "ReadOnlyPaths",
                     "InaccessiblePaths", "ProtectKernelTunables", "ProtectKernelModules",
                     "ProtectKernelLogs", "ProtectControlGroups", "ProtectProc", "TemporaryFileSystem",
                     "BindPaths", "BindReadOnlyPaths", "RootDirectory", "RootImage"]


def verify_unit(dest, root, opts, unit, binary):
    """systemd-analyze verify (ExecStart pointed at the built binary, man:
    at the installed pages) and security; returns the exposure."""
    name = os.path.basename(unit)
    with open(unit, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^ExecStart=(\S+)", text, re.M)
    if not m:
        fail(f"{name} has no ExecStart")
    checked = os.path.join(dest, name)
    with open(checked, "w", encoding="utf-8") as f:
        f.write(text.replace(m.group(1), os.path.abspath(binary), 1))
    env = dict(os.environ, MANPATH=os.path.join(root, opts["mandir"]))
    v = run(["systemd-analyze", "verify", checked], env=env)
    if v.returncode != 0 or v.stderr.strip():
        fail(f"systemd-analyze verify {name}: {v.stdout}{v.stderr}")
    s = run(["systemd-analyze", "security", "--offline=true", unit])
    m = re.search(rf"Overall exposure level for {re.escape(name)}: ([0-9.]+)", s.stdout + s.stderr)
    if not m:
        fail(f"systemd-analyze security {name} said: {s.stdout}{s.stderr}")
    exposure = float(m.group(1))
    if exposure > MAX_EXPOSURE:
        fail(f"{name}: exposure {exposure} > {MAX_EXPOSURE}:\n{s.stdout}")
    return exposure


def main(build_dir, vmpowerd):
    prefix = run(["meson", "introspect", "--buildoptions", build_dir])
    if prefix.returncode != 0:
        fail(f"meson introspect: {prefix.stderr}")
    import json
    opts = {o["name"]: o["value"] for o in json.loads(prefix.stdout)}
    with tempfile.TemporaryDirectory() as dest:
        inst = run(["meson", "install", "-C", build_dir, "--no-rebuild", "--quiet",
                    "--destdir", dest])
        if inst.returncode != 0:
            fail(f"meson install: {inst.stdout}{inst.stderr}")
        root = dest + opts["prefix"]
        unit = os.path.join(root, "lib/systemd/system/vmpowerd.service")
        if not os.path.isfile(unit):
            fail(f"no unit at {unit}")
        for page in PAGES:
            p = os.path.join(root, opts["mandir"], page)
            if not os.path.isfile(p) or os.path.getsize(p) < 500:
                fail(f"man page missing or empty: {p}")
        etc = opts["sysconfdir"]
        config = os.path.join(dest + (etc if etc.startswith("/") else opts["prefix"] + "/" + etc),
                              "vmpower/vmpower.yaml")
        if not os.path.isfile(config):
            fail(f"no config at {config}")
        if opts["prefix"] == "/usr" and not config.startswith(dest + "/etc/vmpower/"):
            fail(f"--prefix=/usr must put the config in /etc/vmpower, not {config}")

        # verify: point ExecStart at the built binary (the installed path is
        # under the destdir) and man: at the installed pages.
        with open(unit, encoding="utf-8") as f:
            text = f.read()
        # The fd store holds every channel the fd budget allows
        # (agent/core/fd_budget.h: LimitNOFILE minus a reserve of 48).
        nofile = re.search(r"^LimitNOFILE=(\d+)$", text, re.M)
        store = re.search(r"^FileDescriptorStoreMax=(\d+)$", text, re.M)
        if not nofile or not store or int(store.group(1)) < int(nofile.group(1)) - 48:
            fail("FileDescriptorStoreMax= must hold every channel LimitNOFILE= allows")
        exposure = verify_unit(dest, root, opts, unit, vmpowerd)

        guest_unit = os.path.join(root, "lib/systemd/system/vmpower-guest-powercap.service")
        if not os.path.isfile(guest_unit):
            fail(f"no guest unit at {guest_unit}")
        with open(guest_unit, encoding="utf-8") as f:
            guest_text = f.read()
        namespaced = re.findall(r"^(" + "|".join(NAMESPACE_OPTIONS) + r")=", guest_text, re.M)
        if namespaced:
            fail(f"the guest unit sets {namespaced}: its tmpfs would be hidden from other services")
        guest_exposure = verify_unit(dest, root, opts, guest_unit,
                                     os.path.join(build_dir, "guest", "vmpower-guest"))

        scratch = os.path.join(dest, "scratch")
        os.makedirs(os.path.join(scratch, "etc"))
        for f in ("passwd", "group"):
            shutil.copy(f"/etc/{f}", os.path.join(scratch, "etc", f))
        su = run(["systemd-sysusers", f"--root={scratch}",
                  os.path.join(root, "lib/sysusers.d/vmpower.conf")])
        if su.returncode != 0:
            fail(f"systemd-sysusers: {su.stderr}")
        with open(os.path.join(scratch, "etc/group"), encoding="utf-8") as f:
            groups = {line.split(":")[0] for line in f}
        for g in ("vmpower", "vmpower-ro"):
            if g not in groups:
                fail(f"sysusers did not create group {g}")
        tf = run(["systemd-tmpfiles", f"--root={scratch}", "--create",
                  os.path.join(root, "lib/tmpfiles.d/vmpower.conf")])
        if tf.returncode != 0:
            fail(f"systemd-tmpfiles: {tf.stderr}")
        st = os.stat(os.path.join(scratch, "var/lib/vmpower/channels"))
        qemu = run(["id", "-u", "libvirt-qemu"]).stdout.strip()
        if str(st.st_uid) != qemu:
            fail(f"channels/ owned by uid {st.st_uid}, not libvirt-qemu ({qemu})")
        if os.stat(os.path.join(scratch, "var/lib/vmpower")).st_mode & 0o755 != 0o755:
            fail("/var/lib/vmpower must stay traversable for QEMU")
    print(f"ok: units verified, exposure {exposure} (vmpowerd), {guest_exposure} (guest) <= "
          f"{MAX_EXPOSURE}, "
          f"{len(PAGES)} man pages, tmpfiles and sysusers applied")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
