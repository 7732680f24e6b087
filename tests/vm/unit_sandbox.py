"""The confinement of data/vmpowerd.service.in, applied without systemd.

These machines run no systemd, so the real-VM test runs vmpowerd under the
parts of the unit's sandbox that util-linux can apply, read from the unit
itself (one definition): its CapabilityBoundingSet= (setpriv
--bounding-set: as root, the agent then holds only those capabilities),
NoNewPrivileges= (setpriv --no-new-privs) and PrivateNetwork= (unshare
--net: libvirt's, QEMU's and the control socket are path-bound AF_UNIX
sockets, which work from a private network namespace). A channel to QEMU,
a cpufreq write or a /proc read that needs more than the unit grants fails
the test.
"""

import re
from pathlib import Path

UNIT = Path(__file__).resolve().parents[2] / "data" / "vmpowerd.service.in"


def unit_settings(unit=UNIT):
    settings = {}
    for line in unit.read_text().splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line.strip())
        if m:
            settings.setdefault(m.group(1), []).append(m.group(2).strip())
    return settings


def command_prefix(unit=UNIT):
    """argv words to put before vmpowerd's own."""
    s = unit_settings(unit)
    caps = " ".join(s.get("CapabilityBoundingSet", [])).split()
    if not caps:
        raise ValueError(f"{unit}: no CapabilityBoundingSet=")
    bounding = "-all," + ",".join("+" + c.lower().removeprefix("cap_") for c in caps)
    prefix = ["setpriv", f"--bounding-set={bounding}", f"--inh-caps={bounding}"]
    if s.get("NoNewPrivileges", ["no"])[-1] == "yes":
        prefix.append("--no-new-privs")
    if s.get("PrivateNetwork", ["no"])[-1] == "yes":
        prefix = ["unshare", "--net", "--"] + prefix
    return prefix
