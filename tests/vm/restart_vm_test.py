#!/usr/bin/env python3
"""A vmpowerd restart on the real stack keeps what a guest asked for
(issue 24; docs/operations.md "Restarting vmpowerd"):

  - the test guest (TCG, one vCPU pinned to pCPU 0, one power channel) runs
    one vmpower-guest for its whole life, fed lines from the test's control
    channel: its power channel stays open, as a DPDK application's does;
  - vmpowerd (--connect qemu:///system, confined like its unit, on a copy
    of the acpi-cpufreq fixture) lets the domain scale pCPU 0;
  - the guest asks max on vCPU 0 once and never again;
  - vmpowerd is restarted as systemd would without its fd store: SIGTERM,
    wait for the exit, a new one on the same config and state directory;
  - right after the exit pCPU 0 is back as found (a stop restores); from
    the new process's spawn on, pCPU 0's files are read every 5 ms: max is
    back within 1 s of the spawn and stays for 5 s; the time below max is
    printed, from the old process's exit and from the new one's spawn;
  - `show-vm` says the level was "restored after an agent restart (at ...)";
  - the new vmpowerd connects the channel anew and the guest's next request,
    on the same open port, is answered;
  - vmpowerd stopped: pCPU 0 is given back as found.
The domain is undefined and every file removed at the end, whatever happened.

usage: restart_vm_test.py [--repo DIR] [--image DIR] [--vmpowerd PATH]
"""

import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_vm_test  # noqa: E402
from migration_lib import Expectations, Recorder, check  # noqa: E402
from unit_sandbox import command_prefix  # noqa: E402
from vmlib import URI, TestDomain, VmTestError, fail  # noqa: E402
from vmptest import Agent, Scratch  # noqa: E402

BOOT_TIMEOUT = 120
PCPU, POLICY = "0", "policy0"
CPUFREQ = Path("devices/system/cpu/cpufreq")
HELD = ("userspace", "3400000")   # acpi-cpufreq at max: userspace governor, setspeed = cpuinfo max
SPAWN_TO_MAX_LIMIT = 1.0          # s, the bound
STAYS = 5.0                       # s at max after it is back
RULES = """\
  - label: restartvm
    name: "vmpower-restartvm-*"
    pcpus: "0"
    commands: [up, down, min, max]
    rate: 0
    queries: true
"""
# One vmpower-guest for the guest's whole life, its commands the control
# channel's lines: it opens the power port at its first request and keeps
# it open. lib.sh's control loop runs each line through vmpower_run, here
# the forwarding to it; each line is announced first, so the test finds the
# reply that follows it on the console.
SCENARIO = """\
mkfifo /tmp/guest.in
# shellcheck disable=SC2086
vmpower-guest $VMPOWER_OPTS </tmp/guest.in &
exec 4>/tmp/guest.in
vmpower_run() {
    echo "VMPOWER-SENT $*"
    echo "$*" >&4
}
vmpower_control_loop
exec 4>&-
wait
"""
GUEST_OPTS = ["--timeout-ms", "10000"]
# vmpower-guest's interactive answers: ACK/NACK lines and query results on
# stdout, errors on stderr, all on the console.
REPLY_RE = re.compile(r"^(ACK: .*|NACK: .*|core \d+: .*|vmpower-guest: .*)$", re.M)


class SessionGuest(TestDomain):
    """The test guest with the long-lived vmpower-guest (SCENARIO)."""

    def __init__(self, image_dir):
        super().__init__("vmpower-restartvm", image_dir, vcpus=1, pins={0: PCPU},
                         poweragent_channels=1, control=True, guest_opts=GUEST_OPTS,
                         memory_mb=128, scenario=SCENARIO)

    def ask(self, line, timeout=30):
        """Sends one line to the guest's vmpower-guest; its reply line."""
        marker = f"VMPOWER-SENT {line}"
        before = self.console().count(marker)
        self.send_control(line)
        deadline = time.monotonic() + timeout
        while True:
            text = self.console().replace("\r", "")
            at = -1
            for _ in range(before + 1):  # this line's announcement
                at = text.find(marker, at + 1)
                if at < 0:
                    break
            m = REPLY_RE.search(text, at) if at >= 0 else None
            if m:
                return m.group(1).strip()
            if time.monotonic() > deadline:
                fail(f"{self.name}: no reply to {line!r} in {timeout} s; console tail:\n"
                     f"{self.console_tail()}")
            time.sleep(0.1)


def level(agent):
    d = Path(agent.sysfs) / CPUFREQ / POLICY
    return ((d / "scaling_governor").read_text().strip(),
            (d / "scaling_setspeed").read_text().strip())


def channel(agent, name):
    dom = agent.domain(name)
    return dom["channels"][0] if dom and dom["channels"] else None


def wait_connected(agent, name, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        ch = channel(agent, name)
        if ch and ch["state"] == "connected":
            return ch
        if agent.proc.poll() is not None or time.monotonic() > deadline:
            fail(f"{name}'s channel not connected in {timeout} s: {ch}")
        time.sleep(0.1)


class RestartAgent(Agent):
    """vmpowerd confined like its unit; restart=True: on the tree, config
    and state directory of the one before. One that never gets ready is
    not left running."""

    def __init__(self, exe, scratch, restart=False):
        try:
            super().__init__(str(exe), scratch, extra_vms=RULES, uri=URI,
                             sysfs_exists_ok=restart, wrapper=command_prefix())
        except BaseException:
            if getattr(self, "proc", None) is not None and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            raise


def restart(agent, exe, scratch, dom, pristine):
    """SIGTERM, wait for the exit, start anew on the same directories;
    checks the level across it and prints the gap; returns the new agent."""
    rec = Recorder(lambda: level(agent))
    try:
        t_term = time.time()
        rc = agent.stop()
        t_exit = time.time()
        found = level(agent)
        agent.log.close()
        os.rename(Path(scratch.path) / "vmpowerd.log", Path(scratch.path) / "vmpowerd.1.log")
        check(rc == 0, f"the old vmpowerd stopped cleanly (exit {rc})")
        check(found == pristine, f"right after its exit pCPU {PCPU} is back as found: {found}")
        t_spawn = time.time()  # just before the spawn: the gap from it is, if anything, longer
        agent = RestartAgent(exe, scratch, restart=True)
        t_ready = time.time()
        deadline = t_spawn + SPAWN_TO_MAX_LIMIT + STAYS + 0.5
        while time.time() < deadline:
            if agent.proc.poll() is not None:
                fail(f"the new vmpowerd died ({agent.proc.returncode})")
            t_max = rec.first(HELD, after=t_exit)
            if t_max is not None and time.time() >= t_max + STAYS:
                break
            time.sleep(0.1)
    finally:
        rec.stop()
    t_end = time.time()
    t_max = rec.first(HELD, after=t_exit)
    seen = [(round(t - t_exit, 3), v) for t, v in rec.changes]
    check(t_max is not None, f"pCPU {PCPU} is at max again after the restart (seen: {seen})")
    t_restored = next((t for t, v in rec.changes if t >= t_term and v != HELD), t_exit)
    ms = {"below max": t_max - t_restored, "exit to max": t_max - t_exit,
          "spawn to max": t_max - t_spawn, "spawn to ready": t_ready - t_spawn}
    print("RESTART-GAP (real libvirtd, TCG guest, no fd store): "
          + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in ms.items()), flush=True)
    from_spawn = t_max - t_spawn
    expect = Expectations()
    expect(from_spawn <= SPAWN_TO_MAX_LIMIT,
           f"max within {SPAWN_TO_MAX_LIMIT} s of the new vmpowerd's spawn "
           f"({from_spawn * 1000:.0f} ms)")
    after = [(round(t - t_max, 3), v) for t, v in rec.changes if t > t_max]
    expect(not after and t_end - t_max >= STAYS,
           f"pCPU {PCPU} stayed at max for {STAYS:.0f} s (changes after: {after})")
    vm = agent.request({"cmd": "show-vm", "name": dom.name})
    intent = (vm.get("vcpus") or [{}])[0].get("intent") or {}
    expect(vm.get("ok") and intent.get("from", "").startswith("restored after an agent restart (at ")
           and intent.get("applied") is True,
           f"show-vm: vCPU 0 {intent.get('from')!r}")
    expect.done()
    return agent


def scenario(vmpowerd_exe, image, _repo):
    scratch = Scratch()
    agent = None
    try:
        agent = RestartAgent(vmpowerd_exe, scratch)
        with SessionGuest(image) as dom:
            dom.define()
            dom.start()
            dom.wait_for_console(r"^VMPOWER-READY", BOOT_TIMEOUT)
            pristine = level(agent)
            check(pristine != HELD, f"pCPU {PCPU} is not at max before: {pristine}")
            wait_connected(agent, dom.name)
            reply = dom.ask("set-cpu-freq 0 max")
            check(reply == "ACK: core 0 max", f"guest: set-cpu-freq 0 max, once -> {reply!r}")
            check(level(agent) == HELD, f"pCPU {PCPU} at max: {level(agent)}")

            agent = restart(agent, vmpowerd_exe, scratch, dom, pristine)

            ch = wait_connected(agent, dom.name)
            reply = dom.ask("query-freq 0")
            if not reply.startswith("core 0: "):
                print(f"NOTE: the guest's first request after the restart failed: {reply!r}; "
                      "asking again", flush=True)
                reply = dom.ask("query-freq 0")
            check(reply == f"core 0: {HELD[1]} kHz",
                  f"guest's next request, on its open port, answered by the new vmpowerd: "
                  f"{reply!r}")
            ch = channel(agent, dom.name)
            check(ch["answered"] >= 1, f"the new vmpowerd answered it: {ch}")
            dom.send_control("quit")
            dom.wait_done(60)
        rc = agent.stop()
        check(rc == 0, f"vmpowerd stopped cleanly (exit {rc})")
        check(level(agent) == pristine, f"vmpowerd gave pCPU {PCPU} back as found: {level(agent)}")
    except (VmTestError, AssertionError):  # AssertionError: vmptest's wait_for
        if agent is not None:
            print(f"--- vmpowerd log tail ---\n{agent.log_text()[-4000:]}", file=sys.stderr)
        raise
    finally:
        if agent is not None:
            agent.close()
        scratch.cleanup()


if __name__ == "__main__":
    sys.exit(real_vm_test.main(scenario, "restart_vm_test", __doc__))
