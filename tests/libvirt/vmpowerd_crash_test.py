#!/usr/bin/env python3
"""Do no harm, even when killed: vmpowerd is started on libvirt's test driver
with three guests (this test plays their QEMU ends), the guests drive
requests, and vmpowerd is killed with SIGKILL at a random moment; 50 rounds.
After every restart (its crash restore done, before any new request) the
fixture sysfs tree must be byte-identical to the original, and at the end a
clean SIGTERM leaves it so too. The guests' kept intents (intents.json) are
removed before each restart: a restart applies them again after the crash
restore (tests/integration/agent_restart_intent_test.cpp tests that), and
this test is about the crash restore alone.
Usage: vmpowerd_crash_test.py PATH/TO/vmpowerd"""

import os
import random
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmptest  # noqa: E402

VMPOWERD = None
UNITS = [1, 2, 3, 4, 5, 6]  # up, down, max, min, turbo on, turbo off
ROUNDS = 50
# acpi-cpufreq fixture: policy0 = CPU 0, policy1 = CPU 1, policy2 = CPUs 2-3.
# a and b are alone on their policies; c and d share policy2.
GUESTS = {"a": "1", "c": "2", "d": "3"}


class KilledAtRandom(unittest.TestCase):
    def setUp(self):
        self.scratch = vmptest.Scratch()
        self.uri, self.qemu = vmptest.test_driver_guests(self.scratch, GUESTS)
        self.agent = None

    def tearDown(self):
        if self.agent:
            self.agent.close()
        for q in self.qemu.values():
            q.close()
        self.scratch.cleanup()

    def start_agent(self):
        kept = os.path.join(self.scratch.path, "state", "intents.json")
        if os.path.exists(kept):
            os.unlink(kept)
        self.agent = vmptest.Agent(
            VMPOWERD, self.scratch, uri=self.uri,
            extra_vms='  - name: "*"\n    rate: 0\n',
            agent_extra="  verify_channel_peer: false\n  host_cpus: \"\"\n",
            sysfs_exists_ok=True)

    def test_sigkill_at_random_moments_then_restart_restores_the_tree(self):
        rng = random.Random(int(os.environ.get("VMPOWER_TEST_SEED", os.getpid())))
        self.start_agent()
        original = vmptest.tree_snapshot(self.agent.sysfs)
        wrote_something = 0
        for round_ in range(ROUNDS):
            if round_ > 0:
                self.start_agent()  # restores what the killed run left
                self.assertEqual(vmptest.tree_snapshot(self.agent.sysfs), original,
                                 f"round {round_}: the restart left the tree changed")
            deadline = time.monotonic() + rng.uniform(0.02, 0.4)
            while time.monotonic() < deadline:
                for name, q in self.qemu.items():
                    q.accept_pending()
                    q.send(b"".join(vmptest.record(rng.choice(UNITS)) for _ in range(rng.randint(1, 4))))
                    q.drain()
                time.sleep(0.005)
            if vmptest.tree_snapshot(self.agent.sysfs) != original:
                wrote_something += 1
            self.agent.proc.send_signal(signal.SIGKILL)
            self.agent.proc.wait()
            self.agent.log.close()
            self.agent = None
        # The runs did write (else this proves nothing), and one last clean stop.
        self.assertGreater(wrote_something, ROUNDS // 4)
        self.start_agent()
        self.assertEqual(vmptest.tree_snapshot(self.agent.sysfs), original)
        self.assertEqual(self.agent.stop(), 0)
        self.assertEqual(vmptest.tree_snapshot(self.agent.sysfs), original)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    VMPOWERD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
