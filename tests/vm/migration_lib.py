"""What a live-migration test watches and moves, on the hosts of two_hosts.py:

- MigratingGuest: the test guest (vmlib.TestDomain) with host-side paths per
  host (channel sockets, console log): QEMU on A and QEMU on B run at the same
  time during a migration, so B gets its own through `virsh migrate --xml`;
  and its own program, /scenario.sh, appended to the image's initramfs;
- HostAgent: one vmpowerd per host (vmptest.Agent on that host's URI,
  qemu_pid_dir and fixture sysfs copy);
- EventLog: a host's lifecycle events with their times (`virsh event`);
- Recorder: a value read every few milliseconds, kept with the time it changed;
- two_agents: hosts A and B with a vmpowerd and an EventLog each, closed
  at the end, their logs printed when a check failed;
- aborted_migration: a migration slowed to a crawl, watched while it
  copies, then cancelled (virsh domjobabort);
- check/Expectations (one check that stops the test, or several reported
  together), migrate_cmd, wait_results, channel, require_root: the steps
  both migration tests take.
"""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from types import SimpleNamespace
from datetime import datetime
from pathlib import Path

from two_hosts import TwoHosts
from vmlib import TestDomain, VmTestError, fail, parse_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "libvirt"))
from vmptest import Agent, Scratch  # noqa: E402
from vmptest import tree_snapshot as whole_tree_snapshot  # noqa: E402
from powercap_fixture import ENERGY, add_package  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def tree_snapshot(root):
    """A host's sysfs tree as vmpowerd may change it: all but the package
    energy counter, which the test itself advances."""
    skip = str(ENERGY / "energy_uj")
    return {k: v for k, v in whole_tree_snapshot(root).items() if k != skip}

CPUFREQ = Path("devices/system/cpu/cpufreq")


class MigratingGuest(TestDomain):
    """The test guest, one vCPU, one power channel (or more). `side` ("A" or "B")
    names the host whose paths channel_socket()/console() use; `scenario`
    is the guest's /scenario.sh (busybox sh, lib.sh's helpers)."""

    def __init__(self, name_prefix, image_dir, scenario, pins, uri, guest_opts=None,
                 poweragent_channels=1):
        super().__init__(name_prefix, image_dir, vcpus=1, pins=pins,
                         poweragent_channels=poweragent_channels,
                         guest_opts=guest_opts, memory_mb=128, uri=uri, scenario=scenario)
        self.side = "A"
        self.console_log = self.console_path("A")

    def console_path(self, side):
        return self.workdir / f"console.{side}.log"

    def channel_socket(self, n, side=None):
        return self.workdir / f"poweragent.{n}.{side or self.side}.sock"

    def console_results(self, side):
        try:
            return parse_results(self.console_path(side).read_text(errors="replace"))
        except FileNotFoundError:
            return []

    def destination_xml(self, source, dest_pins):
        """The running domain's migratable XML with B's host-side paths and
        pinning (neither is guest ABI). Taken right before migrating: libvirt
        sends this XML, <metadata> included, as the domain's definition."""
        xml = source.virsh("dumpxml", "--migratable", self.name).stdout
        moves = [(self.channel_socket(n, "A"), self.channel_socket(n, "B"))
                 for n in range(self.channels)]
        for a, b in moves + [(self.console_path("A"), self.console_path("B"))]:
            if str(a) not in xml:
                fail(f"{a} not in {self.name}'s live XML:\n{xml}")
            xml = xml.replace(str(a), str(b))
        for vcpu, cpuset in dest_pins.items():
            xml, n = re.subn(rf"<vcpupin vcpu='{vcpu}' cpuset='[^']*'/>",
                             f"<vcpupin vcpu='{vcpu}' cpuset='{cpuset}'/>", xml)
            if n != 1:
                fail(f"no <vcpupin vcpu='{vcpu}'> in {self.name}'s live XML:\n{xml}")
        path = self.workdir / "destination.xml"
        path.write_text(xml)
        return path

    def boot(self, timeout):
        """Defines and starts the domain on its host, waits for its program."""
        self.define()
        self.start()
        self.wait_for_console(r"^VMPOWER-READY", timeout)

    def moved_to(self, host, side):
        """After a migration: the domain lives on `host`, its console is B's."""
        self.uri = host.uri
        self.side = side
        self.console_log = self.console_path(side)


class HostAgent(Agent):
    """vmpowerd for one host: its URI, its QEMU pid files, its own copy of a
    fixture sysfs tree (acpi-cpufreq with one powercap package, whose counter
    the test may advance: powercap_fixture.PackageCounter), control socket
    and state directory. Energy is sampled every 0.25 s and a guest's
    reading follows it as closely."""

    def __init__(self, binary, host, vms_rules):
        self.host = host
        self.scratch_dir = Scratch()
        sysfs = Path(self.scratch_dir.path) / "sys"
        shutil.copytree(ROOT / "tests/fixtures/sysfs/acpi-cpufreq", sysfs, symlinks=True)
        add_package(sysfs, ROOT)
        super().__init__(str(binary), self.scratch_dir, uri=host.uri, extra_vms=vms_rules,
                         agent_extra=f"  qemu_pid_dir: {host.qemu_pid_dir}\n"
                                     "  energy_interval: 0.25\n  energy_guest_period: 0.25\n",
                         sysfs_exists_ok=True)
        self.sysfs = Path(self.sysfs)

    def policy_file(self, policy, name):
        return (self.sysfs / CPUFREQ / policy / name).read_text().strip()

    def tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def close(self):
        super().close()
        self.scratch_dir.cleanup()


LINE_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)([+-]\d{4}): (.*)$")


class EventLog:
    """Every domain event a host reports, with the time virsh printed it."""

    def __init__(self, host):
        self.host = host
        self.lines = []  # (time.time() seconds, text)
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(["stdbuf", "-oL", "virsh", "-c", host.uri, "event",
                                      "--all", "--loop", "--timestamp"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            m = LINE_TIME.match(line)
            when = time.time()
            if m:
                when = datetime.strptime(m.group(1) + m.group(2),
                                         "%Y-%m-%d %H:%M:%S.%f%z").timestamp()
                line = m.group(3)
            with self._lock:
                self.lines.append((when, line))

    def events(self, pattern=""):
        rx = re.compile(pattern)
        with self._lock:
            return [(t, l) for t, l in self.lines if rx.search(l)]

    def wait(self, pattern, timeout, after=0.0):
        """The time of the first event matching `pattern` at or after `after`."""
        deadline = time.monotonic() + timeout
        while True:
            hits = [t for t, _ in self.events(pattern) if t >= after]
            if hits:
                return hits[0]
            if time.monotonic() > deadline:
                fail(f"host {self.host.name}: no event matching {pattern!r} in {timeout} s; "
                     f"events:\n{self.text()}")
            time.sleep(0.02)

    def text(self):
        return "\n".join(f"  {t:.3f} {l}" for t, l in self.events())

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Recorder:
    """Reads `probe()` every 5 ms in a thread; `changes` holds (time, value)
    for the first reading and every change."""

    def __init__(self, probe):
        self.probe = probe
        self.changes = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        last = object()
        while not self._stop.is_set():
            try:
                value = self.probe()
            except OSError as e:  # a file being rewritten
                value = f"error: {e}"
            if value != last:
                self.changes.append((time.time(), value))
                last = value
            self._stop.wait(0.005)

    def first(self, value, after=0.0):
        """The time `value` was first read at or after `after`, else None."""
        return next((t for t, v in list(self.changes) if v == value and t >= after), None)

    def stop(self):
        self._stop.set()
        self._thread.join()


def tree_diff(before, after):
    """The files of two vmptest.tree_snapshot()s that differ."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def check(cond, what):
    if not cond:
        fail(what)
    print(f"ok: {what}", flush=True)


class Expectations:
    """Checks that do not depend on each other: all are run and reported,
    then the test fails with all of them at once."""

    def __init__(self):
        self.failed = []

    def __call__(self, cond, what):
        print(f"{'ok' if cond else 'FAILED'}: {what}", flush=True)
        if not cond:
            self.failed.append(what)
        return cond

    def done(self):
        if self.failed:
            fail("; ".join(self.failed))


def migrate_cmd(hosts, guest, dest_xml, *extra):
    """`virsh migrate` of the guest from host A to host B."""
    return ["virsh", "-c", hosts.a.uri, "migrate", "--live", "--persistent", "--undefinesource",
            "--xml", str(dest_xml), *extra, guest.name, hosts.b.uri]


def wait_results(guest, side, count, after, timeout):
    """The guest's replies on host `side` beyond the first `after`, once
    there are at least `count` of them."""
    deadline = time.monotonic() + timeout
    while len(guest.console_results(side)) < after + count:
        if time.monotonic() > deadline:
            fail(f"{guest.name}: fewer than {count} new replies on host {side} in {timeout} s; "
                 f"console tail:\n{guest.console_tail()}")
        time.sleep(0.2)
    return guest.console_results(side)[after:]


def channel(agent, name):
    """The domain's first power channel as the agent's `state` shows it."""
    dom = agent.domain(name)
    return dom["channels"][0] if dom and dom["channels"] else None


def require_root(_repo):
    if os.geteuid() != 0:
        fail("run as root: the test starts two private libvirtd")


@contextlib.contextmanager
def two_agents(prefix, vmpowerd, rules):
    """Hosts A and B (TwoHosts), a vmpowerd on each with `rules` as its
    vms: list, and both hosts' EventLogs: yields (hosts, agents, events).
    A failed check prints both agents' log tails and both hosts' events;
    the agents must still run at the end; everything is closed."""
    with TwoHosts(prefix=prefix) as hosts:
        events = (EventLog(hosts.a), EventLog(hosts.b))
        agents = []
        try:
            agents.append(HostAgent(vmpowerd, hosts.a, rules))
            agents.append(HostAgent(vmpowerd, hosts.b, rules))
            yield hosts, agents, events
            for a in agents:
                check(a.proc.poll() is None, f"vmpowerd on {a.host.name} still runs")
        except VmTestError:
            for a in agents:
                print(f"--- vmpowerd on {a.host.name}, log tail ---\n{a.tail()}", file=sys.stderr)
            for e in events:
                print(f"--- events on {e.host.name} ---\n{e.text()}", file=sys.stderr)
            raise
        finally:
            for a in agents:
                a.close()
            for e in events:
                e.close()


@contextlib.contextmanager
def aborted_migration(hosts, guest, events, dest_xml, bandwidth_mib_s):
    """The guest's migration from A to B at `bandwidth_mib_s`: the block runs
    once B's STARTED_MIGRATED is seen (B's QEMU is there, the copy runs) and
    gets (proc, started: time.time() at virsh migrate, aborted: None); when it
    ends the migration must still copy and is aborted (virsh domjobabort;
    `aborted` is the time.monotonic() right after). Then virsh migrate has
    failed, B's QEMU stopped (STOPPED_FAILED) and the domain runs on A."""
    job = SimpleNamespace(started=time.time(), aborted=None)
    job.proc = subprocess.Popen(migrate_cmd(hosts, guest, dest_xml, "--bandwidth",
                                            str(bandwidth_mib_s)),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        events[1].wait(r"lifecycle.*Started Migrated", 30, after=job.started)
        yield job
        check(job.proc.poll() is None,
              f"the slowed migration still copies when aborted "
              f"({job.proc.stdout.read() if job.proc.poll() is not None else 'running'})")
        hosts.a.virsh("domjobabort", guest.name)
        job.aborted = time.monotonic()
        out, _ = job.proc.communicate(timeout=60)
    finally:
        if job.proc.poll() is None:
            job.proc.kill()
            job.proc.wait()
    check(job.proc.returncode != 0, f"virsh migrate failed after domjobabort ({out.strip()})")
    events[1].wait(r"lifecycle.*Stopped Failed", 30, after=job.started)
    check(hosts.a.virsh("domstate", guest.name).stdout.strip() == "running",
          "the domain still runs on A")
