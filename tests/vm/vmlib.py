"""Helpers for tests that boot the tiny vmpower test guest under a real
libvirtd + QEMU (TCG), built by scripts/build-guest-image.sh.

    from vmlib import TestDomain, ensure_libvirtd, fail
    ensure_libvirtd(repo)
    with TestDomain("guesthelper", image_dir, vcpus=2, pins={0: 0, 1: 1},
                    poweragent_channels=2, control=True) as dom:
        dom.define(); dom.start()
        ... connect to dom.channel_socket(0) / dom.control_socket() ...
        dom.wait_for_console(r"VMPOWER-READY", 60)
        dom.send_control("set-cpu-freq 0 down")
        result = dom.wait_result("set-cpu-freq,0,down", 30)   # -> Result
        dom.send_control("quit"); dom.wait_done(60)
    # leaving the block (or SIGTERM/SIGINT) destroys + undefines the domain
    # and removes every file it used

What is missing is a failure with a message saying what, never a skip.
"""

import atexit
import gzip
import os
import re
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

URI = "qemu:///system"
STATE_ROOT = Path("/var/lib/vmpower-test")
HERE = Path(__file__).resolve().parent
QEMU_USER, QEMU_GROUP = "libvirt-qemu", "kvm"


class VmTestError(Exception):
    """A failed check; the message says what went wrong or what is missing."""


def fail(message):
    raise VmTestError(message)


def virsh(*args, check=True, timeout=60, uri=URI):
    try:
        proc = subprocess.run(["virsh", "-c", uri, *args], capture_output=True, text=True,
                              timeout=timeout)
    except FileNotFoundError:
        fail("virsh not found: install libvirt-clients (scripts/setup.sh)")
    if check and proc.returncode != 0:
        fail(f"virsh {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def ensure_libvirtd(repo):
    """Starts virtlogd/libvirtd through scripts/libvirtd.sh when none runs
    (that script remembers what it started; scripts/test.sh stops those)."""
    script = Path(repo) / "scripts" / "libvirtd.sh"
    proc = subprocess.run([str(script), "start"], capture_output=True, text=True)
    if proc.returncode != 0:
        fail(f"cannot get a libvirtd on {URI}: {proc.stderr.strip() or proc.stdout.strip()}")


def require_image(image_dir):
    image_dir = Path(image_dir)
    for f in ("vmlinuz", "initrd.img"):
        if not (image_dir / f).is_file():
            fail(f"{image_dir / f} missing: build the guest image first: "
                 "scripts/build-guest-image.sh build-static-guest/guest/vmpower-guest "
                 f"{image_dir} (scripts/setup.sh does it)")


@dataclass
class Result:
    """One VMPOWER-RESULT line of the guest console."""
    command: str   # words joined by ',', e.g. "set-cpu-freq,0,down"
    status: int    # vmpower-guest's exit status (0 ACK, 1 NACK, 2 error)
    output: str


RESULT_RE = re.compile(r"^VMPOWER-RESULT (\S+) (\d+) ?(.*)$")


def parse_results(console_text):
    results = []
    for line in console_text.splitlines():
        m = RESULT_RE.match(line.strip())
        if m:
            results.append(Result(m.group(1), int(m.group(2)), m.group(3).strip()))
    return results


class TestDomain:
    """A throwaway type='qemu' domain booting the test guest.

    name_prefix: the domain is named <prefix>-<pid>-<n>.
    pins: {vcpu: "cpulist"} for <vcpupin>; None leaves vCPUs unpinned.
    poweragent_channels: how many virtio.serial.port.poweragent.N channels
      (sockets in the domain's work directory, QEMU listening).
    control: add the org.vmpower.test.0 channel the guest reads commands from.
    cmds: steps for vmpower.cmds= (list of strings like "set-cpu-freq 0 down").
    guest_opts: vmpower-guest options for every command (vmpower.opts=).
    uri: the libvirt connection the domain lives on (changed by a test that
      migrates it).
    cpu_mode: "maximum" gives TCG every CPU feature it emulates (Debian's
      DPDK needs SSE4.2, which the default qemu64 model lacks); None: default.
    nics: MAC addresses of virtio-net interfaces backed by taps libvirt
      creates (type='ethernet'), named tap_name(i); the guest sees eth0...
    scenario: the guest's /scenario.sh (busybox sh, lib.sh's helpers), run
      instead of the control loop; None: none.
    """

    _count = 0

    def __init__(self, name_prefix, image_dir, vcpus=2, pins=None, poweragent_channels=2,
                 control=False, cmds=None, guest_opts=None, memory_mb=256, uri=URI,
                 cpu_mode=None, nics=(), scenario=None):
        require_image(image_dir)
        TestDomain._count += 1
        self.number = TestDomain._count
        self.name = f"{name_prefix}-{os.getpid()}-{self.number}"
        self.image_dir = Path(image_dir)
        self.vcpus = vcpus
        self.pins = pins or {}
        self.channels = poweragent_channels
        self.control = control
        self.cmds = cmds or []
        self.guest_opts = guest_opts or []
        self.memory_mb = memory_mb
        self.uri = uri
        self.cpu_mode = cpu_mode
        self.nics = list(nics)
        self.scenario = scenario
        self.workdir = STATE_ROOT / self.name
        self.console_log = self.workdir / "console.log"
        self.defined = False
        self._control_sock = None
        self._cleaned = False

    # --- files and XML -------------------------------------------------
    def channel_socket(self, n):
        return self.workdir / f"poweragent.{n}.sock"

    def control_socket_path(self):
        return self.workdir / "control.sock"

    def tap_name(self, i):
        """The host tap of nics[i] (IFNAMSIZ: at most 15 characters)."""
        return f"vpt{os.getpid() % 100000}n{self.number % 100}i{i}"

    def cmdline(self):
        words = ["console=ttyS0", "panic=-1", "quiet", "loglevel=3",
                 f"vmpower.ports={self.channels + (1 if self.control else 0)}"]
        if self.cmds:
            words.append("vmpower.cmds=" + ";".join(c.replace(" ", ",") for c in self.cmds))
        if self.guest_opts:
            words.append("vmpower.opts=" + ",".join(self.guest_opts))
        return " ".join(words)

    def xml(self):
        chans = []
        for n in range(self.channels):
            chans.append(self._channel_xml(self.channel_socket(n),
                                           f"virtio.serial.port.poweragent.{n}"))
        if self.control:
            chans.append(self._channel_xml(self.control_socket_path(), "org.vmpower.test.0"))
        cputune = ""
        if self.pins:
            pins = "".join(f"<vcpupin vcpu='{v}' cpuset='{c}'/>" for v, c in sorted(self.pins.items()))
            cputune = f"<cputune>{pins}</cputune>"
        cpu = f"<cpu mode='{escape(self.cpu_mode)}'/>" if self.cpu_mode else ""
        interfaces = "\n    ".join(
            f"<interface type='ethernet'><mac address='{escape(mac)}'/>"
            f"<target dev='{self.tap_name(i)}'/><model type='virtio'/></interface>"
            for i, mac in enumerate(self.nics))
        template = string.Template((HERE / "domain.xml.in").read_text())
        return template.substitute(
            name=self.name, memory_mb=self.memory_mb, vcpus=self.vcpus, cputune=cputune,
            cpu=cpu, interfaces=interfaces,
            kernel=escape(str(self.workdir / "vmlinuz")),
            initrd=escape(str(self.workdir / "initrd.img")),
            cmdline=escape(self.cmdline()), console_log=escape(str(self.console_log)),
            channels="\n    ".join(chans))

    @staticmethod
    def _channel_xml(path, target):
        return (f"<channel type='unix'><source mode='bind' path='{escape(str(path))}'/>"
                f"<target type='virtio' name='{target}'/></channel>")

    def _prepare_workdir(self):
        STATE_ROOT.mkdir(mode=0o755, exist_ok=True)
        os.chmod(STATE_ROOT, 0o755)
        self.workdir.mkdir(mode=0o770)
        # QEMU (libvirt-qemu:kvm) binds the channel sockets here.
        shutil.chown(self.workdir, QEMU_USER, QEMU_GROUP)
        # Own copies: libvirt may relabel what a domain uses.
        for f in ("vmlinuz", "initrd.img"):
            shutil.copy(self.image_dir / f, self.workdir / f)
            os.chmod(self.workdir / f, 0o644)
        if self.scenario is not None:
            self._append_scenario()

    def _append_scenario(self):
        # The kernel unpacks concatenated initramfs archives in order: a
        # second one adds /scenario.sh without rebuilding the image.
        with tempfile.TemporaryDirectory() as stage:
            Path(stage, "scenario.sh").write_text(self.scenario)
            Path(stage, "scenario.sh").chmod(0o755)
            cpio = subprocess.run(["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet"],
                                  input=b"scenario.sh\n", cwd=stage, capture_output=True)
            if cpio.returncode != 0:
                fail(f"cpio: {cpio.stderr.decode().strip()} (apt-get install cpio)")
        with open(self.workdir / "initrd.img", "ab") as f:
            f.write(gzip.compress(cpio.stdout))

    # --- life cycle ------------------------------------------------------
    def define(self):
        self._arm_cleanup()
        self._prepare_workdir()
        xml_path = self.workdir / "domain.xml"
        xml_path.write_text(self.xml())
        virsh("define", str(xml_path), uri=self.uri)
        self.defined = True

    def start(self):
        virsh("start", self.name, uri=self.uri)
        # QEMU creates the sockets before `virsh start` returns (seen here);
        # wait a little anyway.
        deadline = time.monotonic() + 10
        for n in range(self.channels):
            while not self.channel_socket(n).exists():
                if time.monotonic() > deadline:
                    fail(f"{self.channel_socket(n)} did not appear after virsh start")
                time.sleep(0.05)

    def state(self):
        return virsh("domstate", self.name, check=False, uri=self.uri).stdout.strip()

    def console(self):
        try:
            return self.console_log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def console_tail(self, lines=40):
        return "\n".join(self.console().splitlines()[-lines:])

    def wait_for_console(self, pattern, timeout):
        """Waits until a console line matches the regex; returns the match."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.console())
            if m:
                return m
            if time.monotonic() > deadline:
                fail(f"{self.name}: no console line matching {pattern!r} within {timeout} s; "
                     f"domain {self.state()}; console tail:\n{self.console_tail()}")
            if self.state() == "shut off":
                m = rx.search(self.console())  # the last words before power-off
                if m:
                    return m
                fail(f"{self.name}: shut off before printing {pattern!r}; console tail:\n"
                     f"{self.console_tail()}")
            time.sleep(0.2)

    def wait_done(self, timeout=120):
        self.wait_for_console(r"^VMPOWER-DONE", timeout)
        return parse_results(self.console())

    def wait_shutoff(self, timeout=60):
        deadline = time.monotonic() + timeout
        while self.state() != "shut off":
            if time.monotonic() > deadline:
                fail(f"{self.name}: still {self.state()} {timeout} s after VMPOWER-DONE")
            time.sleep(0.2)

    def results(self):
        return parse_results(self.console())

    def wait_result(self, command, timeout=60, after=0):
        """The first VMPOWER-RESULT for `command` (words joined by ',')
        beyond the first `after` results."""
        deadline = time.monotonic() + timeout
        while True:
            for r in parse_results(self.console())[after:]:
                if r.command == command:
                    return r
            if time.monotonic() > deadline or self.state() == "shut off":
                fail(f"{self.name}: no VMPOWER-RESULT for {command} within {timeout} s; "
                     f"console tail:\n{self.console_tail()}")
            time.sleep(0.2)

    # --- control channel -------------------------------------------------
    def send_control(self, line):
        """Sends one command line to the guest's control loop (opens the
        connection on first use and keeps it: the guest waits for it)."""
        if self._control_sock is None:
            self._control_sock = connect_unix(self.control_socket_path())
        self._control_sock.sendall((line + "\n").encode())

    def run(self, command, timeout=60):
        """Runs one vmpower-guest command in the guest; returns its Result."""
        before = len(self.results())
        self.send_control(command)
        return self.wait_result(command.replace(" ", ","), timeout, after=before)

    # --- cleanup ---------------------------------------------------------
    def _arm_cleanup(self):
        atexit.register(self.cleanup)
        exit_on_signals()

    def cleanup(self):
        """Destroys and undefines the domain, removes its files. Idempotent."""
        if self._cleaned:
            return
        self._cleaned = True
        if self._control_sock is not None:
            self._control_sock.close()
        if self.defined:
            virsh("destroy", self.name, check=False, uri=self.uri)
            virsh("undefine", self.name, check=False, uri=self.uri)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False


def exit_on_signals():
    """SIGTERM/SIGINT/SIGHUP exit through Python (finally blocks and atexit
    cleanups run) instead of killing the test with its domains left behind."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler):
            signal.signal(sig, _exit_on_signal)


def _exit_on_signal(signum, _frame):
    raise SystemExit(128 + signum)  # runs finally blocks and atexit cleanup


def connect_unix(path, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(str(path))
            return s
        except OSError as e:
            s.close()
            if time.monotonic() > deadline:
                fail(f"cannot connect to {path}: {e}")
            time.sleep(0.05)
