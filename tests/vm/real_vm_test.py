#!/usr/bin/env python3
"""The whole chain on the real stack: a program in a QEMU guest asks,
libvirt and QEMU carry it over virtio-serial, vmpowerd applies it to a
fixture sysfs tree for the pCPU behind the vCPU, and the guest reads the
answer.

  - a type='qemu' domain, 2 vCPUs pinned to pCPUs 0 and 1, 2 poweragent
    channels and the test's control channel;
  - vmpowerd (--connect qemu:///system) with a copy of the acpi-cpufreq
    fixture as sysfs root and a policy that lets the domain scale pCPU 0 only;
  - set-cpu-freq 0 down: ACK, pCPU 0's policy files change, pCPU 1's do not;
  - set-cpu-freq 1 down (vCPU 1 is on pCPU 1, denied): NACK, nothing changes;
  - virsh vcpupin --live vCPU 1 -> pCPU 0, then set-cpu-freq 1 max: ACK, and
    it lands on pCPU 0;
  - vmpowerd stopped: pCPU 0 is given back as it was found.
vmpowerd runs with only the capabilities, privileges and network its
systemd unit grants (unit_sandbox.py).
The domain is undefined and every file removed at the end, whatever happened.

usage: real_vm_test.py [--repo DIR] [--image DIR] [--vmpowerd PATH]
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "libvirt"))
from vmptest import control_request  # noqa: E402
from unit_sandbox import command_prefix  # noqa: E402
from vmlib import TestDomain, VmTestError, ensure_libvirtd, fail, virsh  # noqa: E402

BOOT_TIMEOUT = 120
GUEST_OPTS = ["--timeout-ms", "10000"]
CPUFREQ = Path("devices/system/cpu/cpufreq")


def check(cond, what):
    if not cond:
        fail(what)
    print(f"ok: {what}", flush=True)


def snapshot(sysfs, policy):
    d = sysfs / CPUFREQ / policy
    return {f.name: f.read_text() for f in sorted(d.iterdir()) if f.is_file()}


def diff(before, after):
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


# The agent: part of a test's config (Vmpowerd fills it in); a test adds vms:.
AGENT_CONFIG = """\
agent:
  sysfs_root: {sysfs}
  state_dir: {state}
  control_socket: {control}
  log_level: debug
"""

CONFIG = AGENT_CONFIG + """\
vms:
  - label: realvm
    name: "vmpower-realvm-*"
    pcpus: "0"
    commands: [up, down, min, max, enable_turbo, disable_turbo]
    rate: 0
    queries: true
"""


class Vmpowerd:
    """vmpowerd in the background, its log kept for failure messages."""

    def __init__(self, exe, workdir, config_template=CONFIG, wrapper=()):
        self.workdir = workdir
        self.sysfs = workdir / "sysfs"
        self.control = workdir / "vmpowerd.sock"
        self.log_path = workdir / "vmpowerd.log"
        config = workdir / "vmpower.yaml"
        config.write_text(config_template.format(sysfs=self.sysfs, state=workdir / "state",
                                        control=self.control))
        (workdir / "state").mkdir()
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([*wrapper, str(exe), "--connect", "qemu:///system",
                                      "--config", str(config)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not self.control.exists():
            if self.proc.poll() is not None:
                fail(f"vmpowerd exited with {self.proc.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                fail(f"vmpowerd made no control socket in 20 s:\n{self.tail()}")
            time.sleep(0.1)

    def tail(self, lines=30):
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def request(self, req):
        """One control-socket request; its JSON answer."""
        return control_request(self.control, req, timeout=10)

    def alive(self):
        if self.proc.poll() is not None:
            fail(f"vmpowerd died ({self.proc.returncode}):\n{self.tail()}")

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                fail(f"vmpowerd ignored SIGTERM for {timeout} s:\n{self.tail()}")
        self.log.close()
        return self.proc.returncode


class AgentRun:
    """One scenario's scratch directory and vmpowerd (set `agent` once it
    runs): on a failed check the agent's last words say why; whatever
    happened, no vmpowerd is left running and no files are left behind."""

    def __init__(self, prefix):
        self.work = Path(tempfile.mkdtemp(prefix=prefix))
        self.agent = None

    def __enter__(self):
        return self

    def __exit__(self, kind, _exc, _tb):
        if self.agent is not None:
            if kind is not None and issubclass(kind, VmTestError):
                print(f"--- vmpowerd log tail ---\n{self.agent.tail()}", file=sys.stderr)
            if self.agent.proc.poll() is None:
                self.agent.proc.kill()
                self.agent.proc.wait()
        shutil.rmtree(self.work, ignore_errors=True)
        return False


def guest_run(dom, agent, command, retry_on=()):
    """Runs a guest command; retries (up to 15 s) while its status is in
    retry_on: vmpowerd connects to channels and applies live pinning from
    libvirt events, which race the guest."""
    deadline = time.monotonic() + 15
    while True:
        r = dom.run(command)
        agent.alive()
        if r.status not in retry_on or time.monotonic() > deadline:
            return r
        time.sleep(0.5)


def scenario(vmpowerd_exe, image, repo):
    with AgentRun("vmpower-realvm-") as run:
        work = run.work
        shutil.copytree(repo / "tests/fixtures/sysfs/acpi-cpufreq", work / "sysfs", symlinks=True)
        # Confined as the systemd unit confines it (unit_sandbox.py).
        sandbox = command_prefix()
        print(f"vmpowerd runs confined like its unit: {' '.join(sandbox)}", flush=True)
        agent = run.agent = Vmpowerd(vmpowerd_exe, work, wrapper=sandbox)
        with TestDomain("vmpower-realvm", image, vcpus=2, pins={0: "0", 1: "1"},
                        poweragent_channels=2, control=True, guest_opts=GUEST_OPTS) as dom:
            dom.define()
            dom.start()
            dom.wait_for_console(r"^VMPOWER-READY", BOOT_TIMEOUT)
            pristine0 = snapshot(agent.sysfs, "policy0")
            before0, before1 = pristine0, snapshot(agent.sysfs, "policy1")

            r = guest_run(dom, agent, "set-cpu-freq 0 down", retry_on=(2,))
            check(r.status == 0, f"guest: set-cpu-freq 0 down -> ACK ({r})")
            after0, after1 = snapshot(agent.sysfs, "policy0"), snapshot(agent.sysfs, "policy1")
            check(diff(before0, after0), f"pCPU 0 changed: {diff(before0, after0)}")
            check(not diff(before1, after1), "pCPU 1 untouched")

            before0, before1 = after0, after1
            r = guest_run(dom, agent, "set-cpu-freq 1 down", retry_on=(2,))
            check(r.status == 1, f"guest: set-cpu-freq 1 down (pCPU 1, denied) -> NACK ({r})")
            after0, after1 = snapshot(agent.sysfs, "policy0"), snapshot(agent.sysfs, "policy1")
            check(not diff(before0, after0) and not diff(before1, after1),
                  "the denied request changed nothing")

            virsh("vcpupin", dom.name, "1", "0", "--live")
            print("vcpupin: vCPU 1 -> pCPU 0 (live)", flush=True)
            r = guest_run(dom, agent, "set-cpu-freq 1 max", retry_on=(1, 2))
            check(r.status == 0, f"guest: set-cpu-freq 1 max after vcpupin -> ACK ({r})")
            after0, after1 = snapshot(agent.sysfs, "policy0"), snapshot(agent.sysfs, "policy1")
            check(diff(before0, after0), f"it landed on pCPU 0: {diff(before0, after0)}")
            check(not diff(before1, after1), "pCPU 1 still untouched")

            dom.send_control("quit")
            dom.wait_done(60)
        rc = agent.stop()
        check(rc == 0, f"vmpowerd stopped cleanly (exit {rc})")
        restored = snapshot(agent.sysfs, "policy0")
        check(not diff(pristine0, restored),
              f"vmpowerd gave pCPU 0 back as found (differs: {diff(pristine0, restored)})")


def main(run=scenario, name="real_vm_test", doc=__doc__, prepare=ensure_libvirtd):
    """The command line of a real-VM test: prepare(repo), then
    run(vmpowerd, image, repo)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    repo_default = Path(__file__).resolve().parents[2]
    ap.add_argument("--repo", type=Path, default=repo_default)
    ap.add_argument("--image", type=Path, default=None)
    ap.add_argument("--vmpowerd", type=Path, default=None)
    args = ap.parse_args()
    image = args.image or args.repo / "data" / "guest-image"
    exe = args.vmpowerd or args.repo / "build" / "agent" / "vmpowerd"
    try:
        if not os.access(exe, os.X_OK):
            fail(f"{exe}: no vmpowerd executable (ninja -C build)")
        prepare(args.repo)
        run(exe, image, args.repo)
    except VmTestError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    print(f"{name}: passed")
    return 0

if __name__ == "__main__":
    sys.exit(main())
