"""Two libvirt "hosts" on one machine, for live-migration tests.

    from two_hosts import TwoHosts
    with TwoHosts() as hosts:              # hosts.a, hosts.b: LibvirtHost
        hosts.a.virsh("list")
        ... migrate from hosts.a.uri to hosts.b.uri ...
    # leaving the block (or SIGTERM/SIGINT) destroys their domains, stops
    # both daemons and removes their directories: only what it started

A host is a private libvirtd in its own mount + UTS namespace
(`unshare -m -u`): per-host copies of /etc/libvirt, /run/libvirt,
/var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt and /etc/hosts are
bind-mounted over the real ones inside it, so it keeps its own domains, pid
files and QEMU state, and the machine's own libvirtd is never touched. What
the root namespace must reach is outside those mounts: the daemon's socket
(`unix_sock_dir`, hence `uri`) and the directory the host's /run/libvirt is
(`run_dir`, where an agent in the root namespace finds QEMU's pid files:
`qemu_pid_dir`). Both hosts share the network namespace; each migrates over
its own loopback address (libvirt refuses 127.0.0.1 for migration_host).
"""

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from vmlib import exit_on_signals, fail, virsh

# The host's directories that are private to it, as (directory in the
# host, name of its copy under the host's directory).
PRIVATE_DIRS = [("/etc/libvirt", "etc"), ("/run/libvirt", "run"), ("/var/lib/libvirt", "lib"),
                ("/var/cache/libvirt", "cache"), ("/var/log/libvirt", "log")]
DAEMON_START_TIMEOUT = 90  # ~9 s each here (QEMU capabilities into an empty cache)


class LibvirtHost:
    """One private libvirtd: `uri` to talk to it, `qemu_pid_dir` for an agent."""

    def __init__(self, base, name, host_uuid, address, migration_port):
        self.name = name
        self.dir = Path(base) / name
        self.host_uuid = host_uuid
        self.address = address
        self.migration_port = migration_port
        self.uri = f"qemu:///system?socket={self.dir / 'sock' / 'libvirt-sock'}"
        self.run_dir = self.dir / "run"  # this host's /run/libvirt, seen from outside
        self.qemu_pid_dir = self.run_dir / "qemu"
        self.log_path = self.dir / "libvirtd.log"
        self.proc = None

    def virsh(self, *args, check=True, timeout=60):
        return virsh(*args, check=check, timeout=timeout, uri=self.uri)

    # --- set-up ----------------------------------------------------------
    def prepare(self):
        for _, copy in PRIVATE_DIRS:
            (self.dir / copy).mkdir(parents=True)
        (self.dir / "sock").mkdir()
        # The machine's configuration, minus objects a bare host must not start.
        shutil.copytree("/etc/libvirt", self.dir / "etc", symlinks=True, dirs_exist_ok=True)
        for leftover in ("qemu/networks", "qemu/autostart", "storage", "nwfilter"):
            shutil.rmtree(self.dir / "etc" / leftover, ignore_errors=True)
        for xml in (self.dir / "etc" / "qemu").glob("*.xml"):
            xml.unlink()
        for sub in ("lib/qemu", "cache/qemu", "log/qemu", "etc/qemu"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        # The machine's QEMU capabilities cache saves each daemon a probe of
        # several seconds; libvirt probes again when it no longer matches.
        caps = Path("/var/cache/libvirt/qemu/capabilities")
        if caps.is_dir():
            shutil.copytree(caps, self.dir / "cache" / "qemu" / "capabilities")
        (self.dir / "etc" / "libvirtd.conf").write_text(f"""\
# outside the bind mounts: the root namespace connects here
unix_sock_dir = "{self.dir / 'sock'}"
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
listen_tls = 0
listen_tcp = 0
# two hosts with one UUID: "Attempt to migrate guest to the same host"
host_uuid = "{self.host_uuid}"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
""")
        (self.dir / "etc" / "qemu.conf").write_text(f"""\
# no virtlogd inside the host: libvirtd writes QEMU's log itself
stdio_handler = "file"
# else both hosts would use the same cgroup path for a domain's name
cgroup_controllers = [ ]
security_driver = "none"
migration_address = "{self.address}"
migration_host = "{self.address}"
migration_port_min = {self.migration_port}
migration_port_max = {self.migration_port + 50}
""")
        hosts = Path("/etc/hosts").read_text()
        (self.dir / "hosts").write_text(f"{hosts}\n{self.address} {self.name}\n")

    def start(self):
        """Starts the daemon; `wait_up` waits for it (start both hosts first:
        each takes seconds to probe QEMU)."""
        mounts = " && ".join(f"mount --bind {self.dir / copy} {inside}"
                             for inside, copy in PRIVATE_DIRS)
        script = (f"hostname {self.name} && {mounts} && mount --bind {self.dir / 'hosts'} "
                  f"/etc/hosts && exec /usr/sbin/libvirtd -f /etc/libvirt/libvirtd.conf "
                  f"-p {self.dir / 'libvirtd.pid'}")
        self.stdout = open(self.dir / "libvirtd.stdout", "w")
        # unshare execs sh, sh execs libvirtd: proc.pid is the daemon's pid.
        self.proc = subprocess.Popen(["unshare", "-m", "-u", "--propagation", "private",
                                      "sh", "-c", script],
                                     stdout=self.stdout, stderr=subprocess.STDOUT)

    def wait_up(self):
        deadline = time.monotonic() + DAEMON_START_TIMEOUT
        while self.virsh("version", check=False, timeout=10).returncode != 0:
            if self.proc.poll() is not None:
                fail(f"host {self.name}: libvirtd exited with {self.proc.returncode}:\n"
                     f"{self.log_tail()}")
            if time.monotonic() > deadline:
                fail(f"host {self.name}: libvirtd did not answer in {DAEMON_START_TIMEOUT} s:\n"
                     f"{self.log_tail()}")
            time.sleep(0.25)

    def log_tail(self, lines=20):
        text = ""
        for f in (self.dir / "libvirtd.stdout", self.dir / "log" / "libvirtd.log"):
            if f.exists():
                text += "\n".join(f.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text

    def qemu_log(self, domain):
        f = self.dir / "log" / "qemu" / f"{domain}.log"
        return f.read_text(errors="replace") if f.exists() else ""

    # --- teardown --------------------------------------------------------
    def stop(self):
        """Destroys this host's domains, stops its daemon (by pid), and kills
        any QEMU it leaves behind (by the pid files it wrote)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            names = self.virsh("list", "--all", "--name", check=False, timeout=20).stdout
            for dom in names.split():
                self.virsh("destroy", dom, check=False, timeout=20)
                self.virsh("undefine", dom, check=False, timeout=20)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pidfile in self.qemu_pid_dir.glob("*.pid"):
            try:
                os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
            except (ValueError, ProcessLookupError, PermissionError):
                pass
        self.stdout.close()
        self.proc = None


class TwoHosts:
    """Host A (127.0.0.2) and host B (127.0.0.3) under one fresh directory."""

    def __init__(self, prefix="vmpower-2h-"):
        self.base = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
        self.a = LibvirtHost(self.base, "hostA", "7a3c1e55-0d6b-4c1e-9a51-00000000000a",
                             "127.0.0.2", 49152)
        self.b = LibvirtHost(self.base, "hostB", "7a3c1e55-0d6b-4c1e-9a51-00000000000b",
                             "127.0.0.3", 49252)
        self._closed = False
        atexit.register(self.close)
        exit_on_signals()
        try:
            for h in (self.a, self.b):
                h.prepare()
                h.start()
            for h in (self.a, self.b):
                h.wait_up()
        except BaseException:
            self.close()
            raise

    def close(self, keep_dir=False):
        if self._closed:
            return
        self._closed = True
        for h in (self.a, self.b):
            h.stop()
        if not keep_dir:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
