#!/usr/bin/env python3
"""Host policies on the real stack, sent by an unmodified DPDK guest: a
program built against Debian's librte_power (tests/vm/dpdk_power_guest.c,
in the test guest image) sends PKT_POLICY through rte_power's KVM-VM
channel; libvirt and QEMU carry it; vmpowerd (confined like its unit) holds
the level on a copy of the acpi-cpufreq fixture for the pCPU behind the vCPU.

  - a type='qemu' domain (<cpu mode='maximum'/>: Debian's DPDK needs SSE4.2),
    2 vCPUs pinned to pCPUs 0 and 1, 2 poweragent channels, the control
    channel and one virtio-net interface on a tap libvirt creates;
  - WORKLOAD HIGH for vCPU 0: the guest reads ACK, pCPU 0 goes to its
    highest frequency, pCPU 1 is untouched, show-vm shows the policy;
  - PKT_POLICY_REMOVE: pCPU 0 goes back exactly as found;
  - TRAFFIC (middle 10, max 80 packets/s) for vCPU 0: the idle guest holds
    pCPU 0 at its lowest frequency; the guest pinging the host over its
    virtio-net interface (the host's tap has an address for the test's life,
    so the host's kernel answers) ~33 times a second moves it to the middle
    step, as fast as it can to the highest; when the pings stop, back to the
    lowest; then PKT_POLICY_REMOVE gives it back as found.
  - libvirt reports a tap's counters from the guest's view: net.0.rx.pkts
    (what vmpowerd counts, here the echo replies the guest received) equals
    the packets the host's tap sent to the guest, tx.pkts what the guest
    sent (checked after a burst of UDP datagrams makes the two differ).
The domain is undefined and every file removed at the end, whatever happened.

usage: dpdk_policy_vm_test.py [--repo DIR] [--image DIR] [--vmpowerd PATH]
"""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_vm_test import (AGENT_CONFIG, CPUFREQ, AgentRun, Vmpowerd, check, diff,  # noqa: E402
                          guest_run, main, snapshot)
from unit_sandbox import command_prefix  # noqa: E402
from vmlib import TestDomain, fail, virsh  # noqa: E402

BOOT_TIMEOUT = 120
MAC = "52:54:00:5d:70:01"
# A point-to-point /30: the host's tap end and the guest's eth0.
HOST_ADDR, PEER, GUEST_ADDR = "10.213.77.1/30", "10.213.77.1", "10.213.77.2/30"
MIDDLE_PPS, MAX_PPS = 10, 80
# ping intervals (s): ~33 packets/s each way, and the fastest the TCG guest
# manages (~200-350/s here)
SLOW_PING, FAST_PING = 0.03, 0.002
UDP_BURST = 100

CONFIG = AGENT_CONFIG + """\
vms:
  - label: dpdkvm
    name: "vmpower-dpdkvm-*"
    pcpus: "0"
    policies: [workload, traffic]
    rate: 0
"""


def read(sysfs, policy, name):
    return (sysfs / CPUFREQ / policy / name).read_text().strip()


def wait_for(what, predicate, agent, timeout):
    """Polls predicate() until true; fails saying what did not happen."""
    deadline = time.monotonic() + timeout
    while not predicate():
        agent.alive()
        if time.monotonic() > deadline:
            fail(f"{what}: not within {timeout} s")
        time.sleep(0.2)
    print(f"ok: {what}", flush=True)


def host_policy(agent, dom):
    shown = agent.request({"cmd": "show-vm", "name": dom.name})
    if not shown.get("ok", False):
        fail(f"show-vm {dom.name}: {shown}")
    return shown.get("host_policy")


def tap_counters(tap):
    """(rx packets, tx packets) of the host's tap, as the host sees them:
    rx is what the guest sent, tx what the guest received."""
    for line in Path("/proc/net/dev").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name.strip() == tap:
            f = rest.split()
            return int(f[1]), int(f[9])
    fail(f"tap {tap} not in /proc/net/dev: did libvirt create it?")


def dpdk(dom, agent, words):
    """Runs dpdk-power-guest in the guest (retried while the agent has not
    yet connected to the channel, which races the guest's boot)."""
    r = guest_run(dom, agent, "dpdk " + words, retry_on=(2,))
    if r.status == 127:
        fail(f"the guest image has no dpdk-power-guest ({r}): rebuild it with "
             "scripts/build-guest-image.sh (scripts/setup.sh does it)")
    return r


def workload_scenario(dom, agent, pristine0, max0):
    policy1 = snapshot(agent.sysfs, "policy1")
    r = dpdk(dom, agent, "0 workload high 0")
    check(r.status == 0 and "DPDK-POWER ACK" in r.output,
          f"DPDK guest: PKT_POLICY WORKLOAD HIGH -> ACK ({r})")
    setspeed = read(agent.sysfs, "policy0", "scaling_setspeed")
    check(setspeed == max0, f"pCPU 0 at its max {max0} kHz (scaling_setspeed {setspeed})")
    check(not diff(policy1, snapshot(agent.sysfs, "policy1")), "pCPU 1 untouched")
    shown = host_policy(agent, dom)
    check(shown is not None and shown.get("type") == "workload",
          f"show-vm shows the guest's workload policy: {shown}")

    r = dpdk(dom, agent, "0 remove")
    check(r.status == 0, f"DPDK guest: PKT_POLICY_REMOVE sent ({r})")
    wait_for("PKT_POLICY_REMOVE gave pCPU 0 back as found",
             lambda: not diff(pristine0, snapshot(agent.sysfs, "policy0")), agent, 15)
    check(host_policy(agent, dom) is None, "show-vm: no policy after the remove")


def middle_of(sysfs, policy):
    """DPDK's middle step: index n/2 of the frequencies, highest first."""
    freqs = sorted((int(f) for f in read(sysfs, policy, "scaling_available_frequencies").split()),
                   reverse=True)
    return str(freqs[len(freqs) // 2])


def ping_phase(dom, agent, tap, interval, want, label, seconds=6):
    """The guest pings the host every `interval` s for `seconds`: pCPU 0
    must reach `want` kHz while it does, and its lowest frequency after."""
    setspeed = lambda: read(agent.sysfs, "policy0", "scaling_setspeed")  # noqa: E731
    before = tap_counters(tap)
    r = dom.run(f"ping {PEER} {seconds} {interval}")
    check(r.status == 0, f"guest: pinging {PEER} every {interval} s for {seconds} s ({r})")
    started = time.monotonic()
    wait_for(f"{label}: pCPU 0 at {want} kHz", lambda: setspeed() == want, agent, seconds)
    after = tap_counters(tap)
    elapsed = time.monotonic() - started
    sent, received = after[0] - before[0], after[1] - before[1]
    print(f"tap {tap} in {elapsed:.1f} s: guest sent {sent} packets ({sent / elapsed:.0f}/s), "
          f"received {received} ({received / elapsed:.0f}/s); vmpowerd: "
          f"{host_policy(agent, dom).get('decision')}", flush=True)
    check(received > 0, f"the host's replies reached the guest ({received})")
    min0 = read(agent.sysfs, "policy0", "cpuinfo_min_freq")
    wait_for(f"pings over: pCPU 0 back at its min {min0} kHz", lambda: setspeed() == min0,
             agent, seconds + 15)


def traffic_scenario(dom, agent, pristine0, max0, min0):
    tap = dom.tap_name(0)
    # The tap goes away with the domain, and its address with it.
    ip = subprocess.run(["ip", "addr", "add", HOST_ADDR, "dev", tap], capture_output=True,
                        text=True)
    if ip.returncode != 0:
        fail(f"ip addr add {HOST_ADDR} dev {tap}: {ip.stderr.strip()} (iproute2 installed?)")
    r = dom.run(f"net-up {GUEST_ADDR}")
    check(r.status == 0, f"guest: eth0 up ({r})")
    r = dpdk(dom, agent, f"0 traffic 0 {MIDDLE_PPS} {MAX_PPS} 0")
    check(r.status == 0 and "DPDK-POWER ACK" in r.output,
          f"DPDK guest: PKT_POLICY TRAFFIC (middle {MIDDLE_PPS}, max {MAX_PPS} pps) -> ACK ({r})")
    shown = host_policy(agent, dom)
    check(shown is not None and shown.get("type") == "traffic"
          and shown.get("max_pps") == MAX_PPS, f"show-vm shows the traffic policy: {shown}")
    wait_for(f"idle guest: pCPU 0 at its min {min0} kHz",
             lambda: read(agent.sysfs, "policy0", "scaling_setspeed") == min0, agent, 15)

    # ~33 replies/s, between the thresholds; then as fast as the guest can.
    ping_phase(dom, agent, tap, SLOW_PING, middle_of(agent.sysfs, "policy0"),
               "slow pings (middle)")
    ping_phase(dom, agent, tap, FAST_PING, max0, "fast pings (max)")

    r = dpdk(dom, agent, "0 remove")
    check(r.status == 0, f"DPDK guest: PKT_POLICY_REMOVE sent ({r})")
    wait_for("PKT_POLICY_REMOVE gave pCPU 0 back as found",
             lambda: not diff(pristine0, snapshot(agent.sysfs, "policy0")), agent, 15)
    check_counted_direction(dom, tap)


def check_counted_direction(dom, tap):
    """What docs/policy.md says vmpowerd counts: libvirt's rx.pkts is the
    guest's view, i.e. the packets the host's tap sent to the guest."""
    # Pings are symmetric: first make the two directions differ, with UDP
    # datagrams from the host to a closed port of the guest (its kernel
    # rate-limits its ICMP answers).
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for _ in range(UDP_BURST):
            try:
                udp.sendto(b"vmpower", (GUEST_ADDR.split("/")[0], 9))
            except ConnectionRefusedError:
                pass  # an ICMP answer reported on the next send
    time.sleep(1)  # the guest's last answers
    stats = dict(w.split("=", 1) for w in virsh("domstats", "--interface", dom.name).stdout.split()
                 if w.startswith("net.0.") and "=" in w)
    tap_rx, tap_tx = tap_counters(tap)
    check(tap_tx - tap_rx > UDP_BURST // 2, f"the tap sent the guest more than it got "
          f"({tap_tx} > {tap_rx})")
    check(stats.get("net.0.rx.pkts") == str(tap_tx) and stats.get("net.0.tx.pkts") == str(tap_rx),
          f"libvirt's net.0.rx.pkts {stats.get('net.0.rx.pkts')} is what the tap sent to the "
          f"guest ({tap_tx}), tx.pkts {stats.get('net.0.tx.pkts')} what it got ({tap_rx})")


def scenario(vmpowerd_exe, image, repo):
    with AgentRun("vmpower-dpdkvm-") as run:
        work = run.work
        shutil.copytree(repo / "tests/fixtures/sysfs/acpi-cpufreq", work / "sysfs", symlinks=True)
        agent = run.agent = Vmpowerd(vmpowerd_exe, work, config_template=CONFIG, wrapper=command_prefix())
        max0 = read(agent.sysfs, "policy0", "cpuinfo_max_freq")
        min0 = read(agent.sysfs, "policy0", "cpuinfo_min_freq")
        with TestDomain("vmpower-dpdkvm", image, vcpus=2, pins={0: "0", 1: "1"},
                        poweragent_channels=2, control=True, cpu_mode="maximum",
                        nics=[MAC]) as dom:
            dom.define()
            booted = time.monotonic()
            dom.start()
            dom.wait_for_console(r"^VMPOWER-READY", BOOT_TIMEOUT)
            print(f"guest ready {time.monotonic() - booted:.1f} s after virsh start", flush=True)
            pristine0 = snapshot(agent.sysfs, "policy0")
            workload_scenario(dom, agent, pristine0, max0)
            traffic_scenario(dom, agent, pristine0, max0, min0)
            dom.send_control("quit")
            dom.wait_done(60)
        rc = agent.stop()
        check(rc == 0, f"vmpowerd stopped cleanly (exit {rc})")


if __name__ == "__main__":
    sys.exit(main(scenario, "dpdk_policy_vm_test", __doc__))
