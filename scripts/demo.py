#!/usr/bin/env python3
"""vmpower's story, told on this machine in about a minute: a tiny QEMU guest
asks for CPU speed and vmpowerd changes the physical CPU behind its vCPU.

Nothing real is touched: vmpowerd writes a copy of a cpufreq sysfs tree
(these machines have no cpufreq of their own) and the guest is a throwaway
TCG domain, removed at the end whatever happens. The steps:
  1. the guest boots (2 vCPUs pinned to pCPUs 0 and 1, two power channels);
  2. the host's view before (vmpowerctl show-vm, the pCPUs' cpufreq);
  3. the guest asks for max on its vCPU 0 (its words, the host's ACK);
  4. the host's view after: what changed on pCPU 0, nothing on pCPU 1;
  5. a denied request: vCPU 1 runs on pCPU 1, which the policy does not give
     this VM: NACK, and vmpowerd's log says why;
  6. the re-pin: vCPU 1 moves to pCPU 0 (virsh vcpupin --live); vmpowerd's
     map follows and vCPU 1's request now lands on pCPU 0;
  7. its energy: vmpowerd shares a (fixture) package counter among the VMs
     by CPU time; in the guest `vmpower-guest powercap` shows the VM's share
     as a RAPL tree and Debian's unmodified node_exporter reads it;
  8. the guest shuts down: pCPU 0 is given back exactly as it was found.

usage: demo.py [--repo DIR] [--pause SECONDS]
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "vm"))
from vmlib import TestDomain, VmTestError, ensure_libvirtd, fail, virsh  # noqa: E402
from real_vm_test import AgentRun, Vmpowerd, diff, snapshot  # noqa: E402
from powercap_fixture import NODE_EXPORTER, PackageCounter, add_package, start_guest_tools  # noqa: E402,E501

CONFIG = """\
agent:
  sysfs_root: {sysfs}
  state_dir: {state}
  control_socket: {control}
  log_level: info
  energy_interval: 0.5
  energy_guest_period: 1    # the guest's reading changes every second (default 10)
vms:
  - label: demo
    name: "vmpower-demo-*"
    pcpus: "0"          # this VM may change pCPU 0 only
    rate: 0
    energy: true        # the guest may ask for its own energy
"""
FILES = ("scaling_governor", "scaling_setspeed", "scaling_min_freq", "scaling_max_freq")
GUEST_OPTS = ["--timeout-ms", "10000"]


class Story:
    def __init__(self, repo, pause):
        self.repo = repo
        self.pause = pause
        self.step = 0
        self.ctl = repo / "build" / "tools" / "vmpowerctl" / "vmpowerctl"

    def chapter(self, title):
        if self.step:
            time.sleep(self.pause)
        self.step += 1
        print(f"\n[{self.step}] {title}", flush=True)

    @staticmethod
    def say(text=""):
        for line in str(text).splitlines() or [""]:
            print(f"    {line}", flush=True)

    def vmpowerctl(self, agent, *words):
        self.say(f"$ vmpowerctl {' '.join(words)}")
        out = subprocess.run([str(self.ctl), "--socket", str(agent.control), *words],
                             capture_output=True, text=True, timeout=30)
        self.say("  " + (out.stdout + out.stderr).rstrip().replace("\n", "\n  "))

    def cpufreq_table(self, sysfs, before=None):
        """The pCPUs' cpufreq files; with `before`, only what changed."""
        rows = [("pCPU", "file", "before", "now") if before else ("pCPU", "file", "value")]
        for cpu in (0, 1):
            now = snapshot(sysfs, f"policy{cpu}")
            for f in FILES:
                if before is None:
                    rows.append((str(cpu), f, now[f].strip()))
                elif before[cpu][f] != now[f]:
                    rows.append((str(cpu), f, before[cpu][f].strip(), now[f].strip()))
            if before is not None and not diff(before[cpu], now):
                rows.append((str(cpu), "(nothing changed)", "", ""))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            self.say("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())

    def guest_energy(self, dom, agent):
        """The guest's own node_exporter reads the VM's energy, twice."""
        self.say("the host's package counter (a fixture) advances at 20 W; the guest keeps a vCPU busy")
        dom.run("busy 30")
        self.say("guest$ vmpower-guest powercap &     # the VM's energy as a RAPL tree, /sys/class/powercap")
        self.say(f"guest$ {NODE_EXPORTER} &")
        failed = start_guest_tools(dom, 0.5)
        if failed is not None:
            fail(f"the guest's powercap daemon or node_exporter did not start: {failed}")
        readings = []
        for wait in (4, 5):
            time.sleep(wait)
            r = dom.run("scrape ^node_rapl_package")
            agent.alive()
            self.say("guest$ curl -s localhost:9100/metrics | grep ^node_rapl_package")
            self.say(f"  {r.output or '(nothing: ' + str(r.status) + ')'}")
            value = r.output.split()[-1] if r.status == 0 and r.output else None
            readings.append((time.monotonic(), float(value) if value else None))
        (t0, j0), (t1, j1) = readings
        if j0 is not None and j1 is not None:
            self.say(f"  -> {(j1 - j0) / (t1 - t0):.2f} W over the last {t1 - t0:.0f} s, "
                     "as node_exporter in the guest sees it")
        self.say()
        self.vmpowerctl(agent, "energy")

    def guest_asks(self, dom, agent, command, expect=None):
        """Runs vmpower-guest in the guest. vmpowerd connects channels and
        follows pinning from libvirt events, which race the guest: retry a
        few seconds while the answer is not yet what the step is about."""
        self.say(f"guest$ vmpower-guest {command}")
        deadline = time.monotonic() + 15
        while True:
            r = dom.run(command)
            agent.alive()
            if expect is None or r.status == expect or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        answer = {0: "ACK", 1: "NACK"}.get(r.status, "error")
        self.say(f"  {r.output or '(no output)'}")
        self.say(f"  -> the host answered {answer}")
        return r


def tell(repo, image, pause):
    story = Story(repo, pause)
    exe = repo / "build" / "agent" / "vmpowerd"
    for binary in (exe, story.ctl):
        if not os.access(binary, os.X_OK):
            fail(f"{binary} is missing: run scripts/setup.sh first")
    print("vmpower demo: a QEMU guest asks for CPU speed; vmpowerd changes the CPU behind its vCPU.")
    print("Nothing real is touched: vmpowerd writes a copy of a cpufreq tree, the guest is a "
          "throwaway TCG domain.")
    with AgentRun("vmpower-demo-") as run:
        work = run.work
        shutil.copytree(repo / "tests/fixtures/sysfs/acpi-cpufreq", work / "sysfs", symlinks=True)
        add_package(work / "sysfs", repo)  # and one RAPL package counter
        agent = run.agent = Vmpowerd(exe, work, CONFIG)
        with PackageCounter(work / "sysfs"), TestDomain("vmpower-demo", image, vcpus=2, pins={0: "0", 1: "1"},
                        poweragent_channels=2, control=True, guest_opts=GUEST_OPTS) as dom:
            story.chapter("The tiny guest boots")
            story.say(f"domain {dom.name}: 2 vCPUs (vCPU 0 pinned to pCPU 0, vCPU 1 to pCPU 1),")
            story.say("2 power channels (virtio.serial.port.poweragent.0/1); vmpowerd may change pCPU 0")
            started = time.monotonic()
            dom.define()
            dom.start()
            dom.wait_for_console(r"^VMPOWER-READY", 120)
            story.say(f"booted in {time.monotonic() - started:.1f} s; vmpowerd connected its "
                      "channels the moment it started")
            found = {cpu: snapshot(agent.sysfs, f"policy{cpu}") for cpu in (0, 1)}

            story.chapter("The host's view before")
            story.vmpowerctl(agent, "show-vm", dom.name)
            story.say()
            story.cpufreq_table(agent.sysfs)

            story.chapter("The guest asks for full speed on its vCPU 0")
            story.guest_asks(dom, agent, "set-cpu-freq 0 max", expect=0)

            story.chapter("The host's view after: pCPU 0 changed, pCPU 1 did not")
            story.cpufreq_table(agent.sysfs, before=found)
            story.say()
            story.vmpowerctl(agent, "show-cpu-freq", "0")

            story.chapter("A denied request: vCPU 1 runs on pCPU 1, which this VM may not change")
            before = {cpu: snapshot(agent.sysfs, f"policy{cpu}") for cpu in (0, 1)}
            story.guest_asks(dom, agent, "set-cpu-freq 1 max", expect=1)
            for line in agent.tail(50).splitlines():
                if "NACK" in line:
                    story.say(f"vmpowerd's log: {line.split(' ', 2)[-1]}")
                    break
            story.cpufreq_table(agent.sysfs, before=before)

            story.chapter("The re-pin: the operator moves vCPU 1 to pCPU 0, live")
            story.say(f"$ virsh vcpupin {dom.name} 1 0 --live")
            virsh("vcpupin", dom.name, "1", "0", "--live")
            story.guest_asks(dom, agent, "set-cpu-freq 1 max", expect=0)
            story.say()
            story.vmpowerctl(agent, "show-vm", dom.name)

            story.chapter("Its energy: the VM's share of the package, read inside the guest")
            story.guest_energy(dom, agent)

            story.chapter("The guest shuts down: vmpowerd gives pCPU 0 back as it found it")
            dom.send_control("quit")
            dom.wait_done(60)
            dom.wait_shutoff(60)
            deadline = time.monotonic() + 10
            while diff(found[0], snapshot(agent.sysfs, "policy0")) and time.monotonic() < deadline:
                time.sleep(0.2)
            story.cpufreq_table(agent.sysfs)
            back = not diff(found[0], snapshot(agent.sysfs, "policy0"))
            story.say(f"pCPU 0 byte for byte as found before the guest asked: {'yes' if back else 'NO'}")
            if not back:
                fail(f"pCPU 0 not restored: {diff(found[0], snapshot(agent.sysfs, 'policy0'))}")
        rc = agent.stop()
        if rc != 0:
            fail(f"vmpowerd exited with {rc}")
        print("\nDone: the domain is gone and every file the demo used is removed.")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=REPO)
    ap.add_argument("--pause", type=float, default=2.0, help="seconds between steps")
    args = ap.parse_args()
    try:
        ensure_libvirtd(args.repo)
        tell(args.repo, args.repo / "data" / "guest-image", args.pause)
    except VmTestError as e:
        print(f"demo failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
