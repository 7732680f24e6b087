"""The host's package energy counter in a copy of a fixture sysfs tree,
advanced by a test at a known rate (docs/energy.md):

- ENERGY: the package zone's directory inside the tree;
- add_package(sysfs, repo): lays the one-package powercap fixture (zones,
  class/powercap links, each CPU's physical_package_id) into a copied
  cpufreq fixture tree, so one vmpowerd has both;
- PackageCounter: the zone's energy_uj, advanced by STEP_UJ every 0.1 s in a
  thread (wrapping at max_energy_range_uj) while the `with` block runs;
- start_guest_tools(dom, interval): in a test guest, `vmpower-guest
  powercap` over /sys/class/powercap, then Debian's node_exporter with only
  its rapl collector on 127.0.0.1:9100 (NODE_EXPORTER).
"""

import shutil
import threading
from pathlib import Path

ENERGY = Path("devices/virtual/powercap/intel-rapl/intel-rapl:0")
STEP_UJ = 2_000_000  # per 0.1 s: 20 W


NODE_EXPORTER = ("prometheus-node-exporter --collector.disable-defaults --collector.rapl "
                 "--web.listen-address=127.0.0.1:9100")


def start_guest_tools(dom, interval):
    """Returns the failed step's Result, else None."""
    for cmd in ("lo-up", f"spawn powercap vmpower-guest powercap --interval {interval}",
                f"spawn ne {NODE_EXPORTER}"):
        r = dom.run(cmd)
        if r.status != 0:
            return r
    return None


def add_package(sysfs, repo):
    shutil.copytree(Path(repo) / "tests/fixtures/sysfs/rapl-one-package", sysfs,
                    symlinks=True, dirs_exist_ok=True)


class PackageCounter:
    def __init__(self, sysfs, below_max_uj=None):
        """Starts below_max_uj under max_energy_range_uj (wraps soon), else
        from the file's value (a vmpowerd already reading it sees no jump)."""
        self.path = Path(sysfs) / ENERGY / "energy_uj"
        self.max_uj = int((Path(sysfs) / ENERGY / "max_energy_range_uj").read_text())
        if below_max_uj is None:
            self.value = int(self.path.read_text())
        else:
            self.value = self.max_uj - below_max_uj
        self.advanced = 0
        self.path.write_text(f"{self.value}\n")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.1):
            self.value = (self.value + STEP_UJ) % self.max_uj
            self.advanced += STEP_UJ
            self.path.write_text(f"{self.value}\n")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
