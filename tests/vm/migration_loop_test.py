#!/usr/bin/env python3
"""vmpowerd's loop never waits on libvirt during a live migration (issue 23),
on two libvirt hosts of one machine (two_hosts.py), one vmpowerd per host:

  - the test guest (TCG, 128 MiB, diskless) runs on host A with vCPU 0
    pinned to pCPU 0; its program asks for max and min on vCPU 0 in turn,
    one request every ~0.1 s, printing every reply: each ACK changes its
    power intent, so A's intent writer always has a metadata write to make;
  - a migration to B slowed to 1 MiB/s runs for JOB_WINDOW s after B's
    STARTED_MIGRATED; meanwhile the test sends A's vmpowerd `ping` on its
    control socket every 0.2 s (the request `vmpowerctl ping` sends, on a
    fresh connection each time) and counts the guest's ACKs; then the job is
    aborted (virsh domjobabort);
  - every ping was answered within PING_LIMIT; the guest got at least one
    new ACK in every second of the job and every reply was an ACK; A's
    intent writes put off for the job (vmpower_intent_writes_deferred_total)
    grew: the writer saw the job and did not wait for its lock;
  - after the abort the guest's requests are still ACKed on A and its
    intent is written to A's live metadata again (the writer looks again
    kIntentJobRecheck, 5 s, after a deferral: an aborted migration sends no
    event on the source).
It prints the figures: the pings' distribution and maximum, the ACK rate,
the writes deferred and made. Everything (hosts, domain, agents, files) is
removed at the end, whatever happened.

usage: migration_loop_test.py [--repo DIR] [--image DIR] [--vmpowerd PATH]
"""

import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import real_vm_test  # noqa: E402
from vmlib import VmTestError  # noqa: E402
from migration_lib import (Expectations, MigratingGuest, aborted_migration,  # noqa: E402
                           check, require_root, two_agents, wait_results)

BOOT_TIMEOUT = 120
PIN_A, PIN_B = "0", "1"
SLOW_MIB_S = "1"          # the migration's bandwidth: it copies for far longer than the window
JOB_WINDOW = 10.0         # s of the job watched, from B's STARTED_MIGRATED
PING_EVERY = 0.2          # s between pings
PING_LIMIT = 0.100        # s, the bound for every ping during the job
WRITE_AFTER_ABORT = 10.0  # s: kIntentJobRecheck (5 s) plus a loaded machine's margin
INTENT_NS = "urn:vmpower:intent:1"  # xml/power_intent.h kPowerIntentNamespace
RULES = """\
  - label: migration
    name: "vmpower-migloop-*"
    commands: [up, down, min, max]
    rate: 0
"""
# The guest's program: max and min in turn, ~0.1 s apart (each reply is a
# VMPOWER-RESULT console line); bounded so a lost domain ends on its own.
SCENARIO = """\
n=0
while [ $n -lt 3000 ]; do
    n=$((n + 1))
    vmpower_run set-cpu-freq 0 max
    sleep 0.1
    vmpower_run set-cpu-freq 0 min
    sleep 0.1
done
"""
GUEST_OPTS = ["--timeout-ms", "3000"]


def metric(agent, name):
    """One unlabelled sample of the agent's metrics."""
    text = agent.request({"cmd": "metrics"})["text"]
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    if m is None:
        raise VmTestError(f"no {name} in {agent.host.name}'s metrics")
    return float(m.group(1))


def intent_writes(agent):
    return (int(metric(agent, "vmpower_intent_writes_total")),
            int(metric(agent, "vmpower_intent_writes_deferred_total")))


def acks(guest):
    """The guest's replies on A: (ACKs, replies that were not)."""
    results = guest.console_results("A")
    ok = sum(1 for r in results if r.status == 0)
    return ok, len(results) - ok


def ping(agent):
    """One `ping` on a fresh control connection: its round trip in s."""
    t = time.monotonic()
    answer = agent.request({"cmd": "ping"})
    took = time.monotonic() - t
    if answer.get("ok") is not True:
        raise VmTestError(f"ping on {agent.host.name}: {answer}")
    return took


def live_intent(host, name):
    out = host.virsh("metadata", name, "--uri", INTENT_NS, "--live", check=False)
    return out.stdout.strip() if out.returncode == 0 else ""


def distribution(values):
    ms = sorted(v * 1000 for v in values)
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return (f"{len(ms)} pings: min {ms[0]:.1f} ms, median {statistics.median(ms):.1f} ms, "
            f"p90 {q[89]:.1f} ms, p99 {q[98]:.1f} ms, max {ms[-1]:.1f} ms")


def seconds_without_ack(samples, start, end):
    """The whole seconds of [start, end) in which no new ACK was seen, from
    (time, ACKs so far) samples."""
    empty = []
    for k in range(int(end - start)):
        lo, hi = start + k, start + k + 1
        before = [c for t, c in samples if t <= lo]
        inside = [c for t, c in samples if lo < t <= hi]
        if not inside or inside[-1] <= (before[-1] if before else samples[0][1]):
            empty.append(k)
    return empty


def watched_job(hosts, guest, agents, events):
    """The slowed migration, watched for JOB_WINDOW s, then aborted."""
    agent_a, _ = agents
    expect = Expectations()
    written0, deferred0 = intent_writes(agent_a)
    dest_xml = guest.destination_xml(hosts.a, {0: PIN_B})
    pings, samples = [], []
    with aborted_migration(hosts, guest, events, dest_xml, SLOW_MIB_S) as migration:
        written1, deferred1 = intent_writes(agent_a)
        start = time.monotonic()
        samples.append((start, acks(guest)[0]))
        replies_start = len(guest.console_results("A"))
        while time.monotonic() - start < JOB_WINDOW and migration.proc.poll() is None:
            pings.append(ping(agent_a))
            samples.append((time.monotonic(), acks(guest)[0]))
            time.sleep(max(0.0, PING_EVERY - (time.monotonic() - samples[-1][0])))
        end = time.monotonic()
        job = hosts.a.virsh("domjobinfo", guest.name).stdout
        written2, deferred2 = intent_writes(agent_a)
        window = guest.console_results("A")[replies_start:]

    duration = end - start
    new_acks = samples[-1][1] - samples[0][1]
    print(f"figures: job watched {duration:.1f} s (A's job before the abort:\n{job.strip()})\n"
          f"figures: pings to A's vmpowerd during the job: {distribution(pings)}\n"
          f"figures: the guest's ACKs during the job: {new_acks} "
          f"({new_acks / duration:.1f}/s); replies printed from the start of the window to the "
          f"abort: {len(window)}\n"
          f"figures: A's intent writes: {deferred1 - deferred0} deferred between virsh migrate "
          f"and STARTED_MIGRATED, {deferred2 - deferred1} during the window; "
          f"{written1 - written0} written before STARTED_MIGRATED, "
          f"{written2 - written1} during the window", flush=True)
    slow = [f"{p * 1000:.0f} ms" for p in pings if p > PING_LIMIT]
    expect(not slow, f"every ping to A's vmpowerd during the job answered within "
                     f"{PING_LIMIT * 1000:.0f} ms (max {max(pings) * 1000:.1f} ms; slower: {slow})")
    gaps = seconds_without_ack(samples, start, end)
    expect(new_acks > 0 and not gaps,
           f"the guest's requests were ACKed in every second of the job ({new_acks} ACKs; "
           f"seconds without one: {gaps})")
    expect(all(r.status == 0 for r in window),
           f"every reply during the job was an ACK: {[r.status for r in window if r.status]}")
    expect(deferred2 > deferred0,
           f"A's intent writer put writes off for the job instead of waiting on it "
           f"({deferred2 - deferred0} deferred)")
    expect.done()
    return migration.aborted, written2


def after_abort(hosts, guest, agents, t_abort, written_before):
    """Served on A as before; the intent written again once the job is gone."""
    agent_a, _ = agents
    before = len(guest.console_results("A"))
    new = wait_results(guest, "A", 5, before, 30)
    check(all(r.status == 0 for r in new),
          f"the guest's next {len(new)} requests on A were ACKed: {[r.status for r in new]}")
    deadline = t_abort + WRITE_AFTER_ABORT
    while intent_writes(agent_a)[0] <= written_before:
        if time.monotonic() > deadline:
            said = "\n".join(l for l in agent_a.log_text().splitlines()
                             if re.search(r"intent|job", l))
            raise VmTestError(f"A's vmpowerd wrote no intent within {WRITE_AFTER_ABORT:.0f} s "
                              f"of the abort (metrics: written, deferred = "
                              f"{intent_writes(agent_a)}); its log on intents and jobs:\n{said}")
        time.sleep(0.1)
    took = time.monotonic() - t_abort
    held = live_intent(hosts.a, guest.name)
    check(re.search(r'<vcpu id="0" level="(max|min)"', held) is not None,
          f"A's live metadata holds the guest's intent again {took:.1f} s after the abort: "
          f"{held!r}")
    print(f"figures: abort -> intent written on A {took * 1000:.0f} ms", flush=True)


def scenario(vmpowerd, image):
    started = time.monotonic()
    with two_agents("vmpower-migloop-", vmpowerd, RULES) as (hosts, agents, events):
        with MigratingGuest("vmpower-migloop", image, SCENARIO, pins={0: PIN_A},
                            uri=hosts.a.uri, guest_opts=GUEST_OPTS) as guest:
            guest.boot(BOOT_TIMEOUT)
            first = guest.wait_result("set-cpu-freq,0,max", 60)
            check(first.status == 0, f"guest on A: set-cpu-freq 0 max -> ACK ({first})")
            wait_results(guest, "A", 4, 1, 30)
            check(live_intent(hosts.a, guest.name) != "",
                  "A's vmpowerd writes the guest's intent to its live metadata")
            t_abort, written = watched_job(hosts, guest, agents, events)
            after_abort(hosts, guest, agents, t_abort, written)
    print(f"figures: the whole test {time.monotonic() - started:.1f} s", flush=True)


def main():
    return real_vm_test.main(lambda exe, image, _repo: scenario(exe, image),
                             "migration_loop_test", __doc__, prepare=require_root)


if __name__ == "__main__":
    sys.exit(main())
