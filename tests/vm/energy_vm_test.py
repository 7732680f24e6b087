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

BOOT_TIMEOUT = 180
ENERGY = Path("devices/virtual/powercap/intel-rapl/intel-rapl:0")
STEP_UJ = 2_000_000  # per 0.1 s: 20 W
MEASURE_S = 10

CONFIG = """\
agent:
  sysfs_root: {sysfs}
  state_dir: {state}
  control_socket: {control}
  energy_interval: 0.5
  log_level: debug
vms:
  - label: energy
    name: "vmpower-energy-*"
    commands: []
    energy: true
    rate: 0
"""


def scenario(vmpowerd_exe, image, repo):
    with AgentRun("vmpower-energy-") as run:
        work = run.work
        sysfs = work / "sysfs"
        shutil.copytree(repo / "tests/fixtures/sysfs/rapl-one-package", sysfs, symlinks=True)
        max_uj = int((sysfs / ENERGY / "max_energy_range_uj").read_text())
        counter = max_uj - 5_000_000
        (sysfs / ENERGY / "energy_uj").write_text(f"{counter}\n")
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
            r = busy.run(f"busy {MEASURE_S + 30}")
            check(r.status == 0, f"busy guest spinning ({r})")
            # Let the idle guest settle and vmpowerd take its baselines.
            time.sleep(2)
            first = agent.request({"cmd": "energy"})
            check(first.get("available") is True, f"energy available: {first}")
            advanced = 0
            end = time.monotonic() + MEASURE_S
            while time.monotonic() < end:
                counter = (counter + STEP_UJ) % max_uj  # wraps once, early on
                advanced += STEP_UJ
                (sysfs / ENERGY / "energy_uj").write_text(f"{counter}\n")
                time.sleep(0.1)
                agent.alive()
            time.sleep(1.2)  # two more samples see the last value
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
            joules = {m.group(1): float(m.group(2)) for m in re.finditer(
                r'^vmpower_vm_energy_joules_total\{vm="([^"]+)",[^}]*\} (\S+)$', metrics, re.M)}
            check(joules.get(busy.name, 0) > joules.get(idle.name, -1) >= 0,
                  f"vmpower_vm_energy_joules_total per VM, the busy one highest: {joules}")

            r = guest_run(busy, agent, "energy", retry_on=(2,))
            check(r.status == 0 and "energy:" in r.output,
                  f"the busy guest reads its own energy over its channel ({r})")
            for dom in (busy, idle):
                dom.send_control("quit")
        rc = agent.stop()
        check(rc == 0, f"vmpowerd stopped cleanly (exit {rc})")
        check((work / "state/energy.json").is_file(), "the counts were saved in the state directory")


if __name__ == "__main__":
    sys.exit(real_vm_test.main(scenario, "energy_vm_test", __doc__))
