#!/usr/bin/env python3
"""The guest side through the real virtio-serial path, vmpowerd played by
tests/vm/fake_agent.py: boots the test guest under libvirt + QEMU (TCG) and
checks that `vmpower-guest set-cpu-freq 0 down` sends DPDK's 464-byte record
and gets ACK (exit 0), a NACK is exit 1, queries answer, a host that goes
away is "host side not connected" (exit 2), and that vmpower.cmds= on the
kernel command line runs too.

usage: boot_smoke_test.py [--repo DIR] [--image DIR]
"""

import argparse
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_agent import ACK, NACK, FakeAgent  # noqa: E402
from vmlib import TestDomain, VmTestError, ensure_libvirtd, fail  # noqa: E402

BOOT_TIMEOUT = 120  # TCG boots the guest in ~8 s; CI machines are slower
GUEST_OPTS = ["--timeout-ms", "10000"]


def check(cond, what):
    if not cond:
        fail(what)
    print(f"ok: {what}", flush=True)


def golden(lcore, unit):
    return struct.pack("<QII", lcore, unit, 1) + bytes(448)


def control_mode(image):
    with TestDomain("guesthelper", image, vcpus=2, poweragent_channels=2, control=True,
                    guest_opts=GUEST_OPTS) as dom:
        dom.define()
        dom.start()
        agent0 = FakeAgent(dom.channel_socket(0), ACK)
        agent1 = FakeAgent(dom.channel_socket(1), NACK)
        dom.wait_for_console(r"^VMPOWER-READY", BOOT_TIMEOUT)

        r = dom.run("set-cpu-freq 0 down")
        check(r.status == 0 and "ACK" in r.output, f"set-cpu-freq 0 down -> ACK, exit 0 ({r})")
        check(agent0.records[-1:] == [golden(0, 2)], "the host got DPDK's 464-byte record")
        r = dom.run("set-cpu-freq 1 up")
        check(r.status == 1 and "NACK" in r.output, f"NACK on port 1 -> exit 1 ({r})")
        r = dom.run("query-freq all")
        check(r.status == 0 and "core 1: 1800001 kHz" in r.output, f"query-freq all ({r})")
        r = dom.run("query-caps 0")
        check(r.status == 0 and "turbo yes" in r.output, f"query-caps 0 ({r})")

        agent0.stop()  # the host side goes away: the port reports POLLHUP
        r = dom.run("set-cpu-freq 0 up")
        check(r.status == 2 and "not connected" in r.output,
              f"no host on the channel -> 'not connected', exit 2 ({r})")
        agent1.stop()
        dom.send_control("quit")
        dom.wait_done(60)
        dom.wait_shutoff(60)
        check(True, "the guest powered off after VMPOWER-DONE")


def cmdline_mode(image):
    with TestDomain("guesthelper", image, vcpus=2, poweragent_channels=2,
                    cmds=["set-cpu-freq 0 max", "query-freq 1"], guest_opts=GUEST_OPTS) as dom:
        dom.define()
        dom.start()
        agent = FakeAgent(dom.channel_socket(0), ACK)
        agent1 = FakeAgent(dom.channel_socket(1), ACK)
        results = {r.command: r for r in dom.wait_done(BOOT_TIMEOUT)}
        r = results.get("set-cpu-freq,0,max")
        check(r is not None and r.status == 0, f"vmpower.cmds= step 1 ACK ({r})")
        r = results.get("query-freq,1")
        check(r is not None and r.status == 0 and "1800001" in r.output,
              f"vmpower.cmds= step 2 query on port 1 ({r})")
        agent.stop()
        agent1.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    repo_default = Path(__file__).resolve().parents[2]
    ap.add_argument("--repo", type=Path, default=repo_default)
    ap.add_argument("--image", type=Path, default=None)
    args = ap.parse_args()
    image = args.image or args.repo / "data" / "guest-image"
    try:
        ensure_libvirtd(args.repo)
        control_mode(image)
        cmdline_mode(image)
    except VmTestError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    print("boot_smoke_test: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
