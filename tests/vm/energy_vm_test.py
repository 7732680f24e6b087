#!/usr/bin/env python3
"""Per-VM energy on the real stack: two TCG guests under a real libvirtd,
vmpowerd sampling a copy of the one-package powercap fixture whose
energy_uj this test advances at a known rate (across a counter wrap), and
the real /proc of the guests' QEMUs.

  - guest "busy" (vCPU on pCPU 0) spins for the whole measurement, guest
    "idle" (vCPU on pCPU 1) waits at its control loop;
  - the counter starts 5 J below max_energy_range_uj and gains 2 J every
    0.1 s (20 W);
  - vmpowerd's `energy` answer: the busy VM is attributed most of what the
    VMs got, and the package total and the VMs' sum never exceed what the
    counter advanced;
  - in both guests `vmpower-guest powercap` keeps a powercap tree over the
    guest's empty /sys/class/powercap and Debian's unmodified node_exporter
    (rapl collector only) reads it: over the same 10 s, the busy guest's
    node_rapl_package_joules_total advances within 10 % of what vmpowerd
    counted for it, the idle guest's far less;
  - the busy guest asks for its own energy over its power channel
    (`vmpower-guest energy`, the policy says energy: true) and gets it.
The domains are undefined and every file removed at the end, whatever happened.

usage: energy_vm_test.py [--repo DIR] [--image DIR] [--vmpowerd PATH]
"""

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_vm_test  # noqa: E402
from real_vm_test import AgentRun, Vmpowerd, check, guest_run  # noqa: E402
from vmlib import TestDomain  # noqa: E402
from powercap_fixture import PackageCounter, start_guest_tools  # noqa: E402

BOOT_TIMEOUT = 180
MEASURE_S = 10
GUEST_WINDOW_S = 10  # the node_exporter comparison's window
GUEST_TOLERANCE = 0.10
PACKAGE_JOULES = re.compile(r"^node_rapl_package_joules_total\{[^}]*\} (\S+)$", re.M)
CORE_JOULES = re.compile(r"^node_rapl_core_joules_total\{[^}]*\} (\S+)$", re.M)

# The guest's reading follows the host's samples closely (energy_guest_period
# = energy_interval = 0.25 s, the daemon asks every 0.25 s), so node_exporter
# and vmpowerctl see the same count within a fraction of a second.
CONFIG = """\
agent:
  sysfs_root: {sysfs}
  state_dir: {state}
  control_socket: {control}
  energy_interval: 0.25
  energy_guest_period: 0.25
  log_level: debug
vms:
  - label: energy
    name: "vmpower-energy-*"
    commands: []
    energy: true
    rate: 0
"""
def scrape(doms):
    """node_exporter's rapl lines in each guest (asked of all at once)."""
    before = [len(d.results()) for d in doms]
    for d in doms:
        d.send_control("scrape ^node_rapl_")
    return [d.wait_result("scrape,^node_rapl_", 60, after=n) for d, n in zip(doms, before)]


def series(result):
    """A scrape's lines (the console joined them with spaces)."""
    return result.output.replace(" node_", "\nnode_")


def joules(result, pattern=PACKAGE_JOULES):
    m = pattern.search(series(result))
    return float(m.group(1)) if m else None


def guest_readings(busy, idle, agent):
    """(busy, idle) node_exporter package joules and vmpowerd's joules for
    the busy VM, read together."""
    deadline = time.monotonic() + 30  # the daemons' first trees, node_exporter up
    while True:
        rb, ri = scrape([busy, idle])
        host = {v["name"]: v for v in agent.request({"cmd": "energy"})["vms"]}
        b, i = joules(rb), joules(ri)
        if (b is not None and i is not None) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    check(b is not None and i is not None,
          f"node_exporter shows node_rapl_package_joules_total in both guests ({rb}, {ri})")
    check(joules(rb, CORE_JOULES) is not None, f"... and node_rapl_core_joules_total ({rb})")
    lines = series(rb)
    check(len(PACKAGE_JOULES.findall(lines)) == 1 and len(CORE_JOULES.findall(lines)) == 1,
          f"... one series each: the tree's links make no second zone ({rb})")
    return b, i, host[busy.name]["energy_uj"] / 1e6


def node_exporter_follows(busy, idle, agent):
    """Over the same window: the busy guest's node_exporter joules within
    GUEST_TOLERANCE of vmpowerd's count for it; the idle guest's far less."""
    b0, i0, h0 = guest_readings(busy, idle, agent)
    time.sleep(GUEST_WINDOW_S)
    b1, i1, h1 = guest_readings(busy, idle, agent)
    seen, counted, idle_seen = b1 - b0, h1 - h0, i1 - i0
    print(f"figures: over {GUEST_WINDOW_S} s node_exporter in the busy guest {seen:.3f} J, "
          f"vmpowerd for it {counted:.3f} J, the idle guest's node_exporter {idle_seen:.3f} J",
          flush=True)
    check(counted > 0, f"vmpowerd counted energy for the busy VM ({counted} J)")
    check(abs(seen - counted) <= GUEST_TOLERANCE * counted,
          f"node_exporter in the busy guest advanced {seen:.3f} J, within "
          f"{GUEST_TOLERANCE:.0%} of vmpowerd's {counted:.3f} J")
    check(0 <= idle_seen < 0.5 * seen,
          f"the idle guest's node_exporter advanced far less ({idle_seen:.3f} J)")


def host_answer(agent, busy, idle, advanced):
    """vmpowerd's own figures: the package counted, the busy VM first."""
    answer = agent.request({"cmd": "energy"})
    vms = {v["name"]: v for v in answer["vms"]}
    print(json.dumps(answer, indent=1), flush=True)
    b, i = vms.get(busy.name), vms.get(idle.name)
    check(b is not None and i is not None, "both VMs are accounted")
    counted = answer["packages"][0]["energy_uj"]
    check(0 < counted <= advanced,
          f"package energy counted {counted} uJ <= advanced {advanced} uJ (across a wrap)")
    total = b["energy_uj"] + i["energy_uj"]
    check(total <= counted, f"the VMs' sum {total} uJ <= what the package counted")
    check(b["energy_uj"] > 0.75 * total,
          f"the busy VM got most of it: busy {b['energy_uj']} uJ, idle {i['energy_uj']} uJ")

    # The same figures in the metrics, which promtool accepts.
    metrics = agent.request({"cmd": "metrics"})["text"]
    lint = subprocess.run(["promtool", "check", "metrics"], input=metrics,
                          capture_output=True, text=True, timeout=30)
    check(lint.returncode == 0, f"promtool accepts the metrics ({lint.stdout}{lint.stderr})")
    per_vm = {m.group(1): float(m.group(2)) for m in re.finditer(
        r'^vmpower_vm_energy_joules_total\{vm="([^"]+)",[^}]*\} (\S+)$', metrics, re.M)}
    check(per_vm.get(busy.name, 0) > per_vm.get(idle.name, -1) >= 0,
          f"vmpower_vm_energy_joules_total per VM, the busy one highest: {per_vm}")


def scenario(vmpowerd_exe, image, repo):
    with AgentRun("vmpower-energy-") as run:
        work = run.work
        sysfs = work / "sysfs"
        shutil.copytree(repo / "tests/fixtures/sysfs/rapl-one-package", sysfs, symlinks=True)
        counter = PackageCounter(sysfs, below_max_uj=5_000_000)
        agent = run.agent = Vmpowerd(vmpowerd_exe, work, CONFIG)
        with TestDomain("vmpower-energy-busy", image, vcpus=1, pins={0: "0"},
                        poweragent_channels=1, control=True,
                        guest_opts=["--timeout-ms", "10000"]) as busy, \
             TestDomain("vmpower-energy-idle", image, vcpus=1, pins={0: "1"},
                        poweragent_channels=1, control=True) as idle:
            for dom in (busy, idle):
                dom.define()
                dom.start()
            for dom in (busy, idle):
                dom.wait_for_console(r"^VMPOWER-READY", BOOT_TIMEOUT)
            for dom in (busy, idle):
                failed = start_guest_tools(dom, 0.25)
                check(failed is None, f"{dom.name}: powercap and node_exporter started ({failed})")
            r = busy.run(f"busy {MEASURE_S + GUEST_WINDOW_S + 60}")
            check(r.status == 0, f"busy guest spinning ({r})")
            # Let the idle guest settle and vmpowerd take its baselines.
            time.sleep(2)
            first = agent.request({"cmd": "energy"})
            check(first.get("available") is True, f"energy available: {first}")
            with counter:
                end = time.monotonic() + MEASURE_S
                while time.monotonic() < end:
                    time.sleep(0.5)
                    agent.alive()
                node_exporter_follows(busy, idle, agent)
            time.sleep(1.2)  # more samples see the last value
            host_answer(agent, busy, idle, counter.advanced)

            r = guest_run(busy, agent, "energy", retry_on=(2,))
            check(r.status == 0 and "energy:" in r.output,
                  f"the busy guest reads its own energy over its channel ({r})")
            logs = busy.run("show /tmp/powercap.log")
            print(f"the busy guest's vmpower-guest powercap log: {logs.output}", flush=True)
            for dom in (busy, idle):
                dom.send_control("quit")
        rc = agent.stop()
        check(rc == 0, f"vmpowerd stopped cleanly (exit {rc})")
        check((work / "state/energy.json").is_file(), "the counts were saved in the state directory")


if __name__ == "__main__":
    sys.exit(real_vm_test.main(scenario, "energy_vm_test", __doc__))
