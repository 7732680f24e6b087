#!/usr/bin/env python3
"""One vmpowerd per state directory, on libvirt's test driver: a second one
started on the same config exits non-zero at once, naming the first one's
pid, and changes nothing: the first keeps its control socket and its state
directory stays byte for byte as it was.
Usage: vmpowerd_one_instance_test.py PATH/TO/vmpowerd"""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmptest  # noqa: E402

VMPOWERD = None


class OneInstance(unittest.TestCase):
    def setUp(self):
        self.scratch = vmptest.Scratch()
        self.agent = vmptest.Agent(VMPOWERD, self.scratch, uri="test:///default")

    def tearDown(self):
        self.agent.close()
        self.scratch.cleanup()

    def test_a_second_agent_on_the_same_state_directory_is_refused(self):
        state_dir = os.path.join(self.scratch.path, "state")
        before = vmptest.tree_snapshot(state_dir)
        second = subprocess.run([VMPOWERD, "--connect", "test:///default",
                                 "--config", self.agent.config],
                                capture_output=True, text=True, timeout=30)
        self.assertNotEqual(second.returncode, 0, second.stderr)
        self.assertIn(f"another vmpowerd (pid {self.agent.proc.pid}) runs on the state "
                      f"directory {state_dir}; stop it first", second.stderr)
        self.assertEqual(vmptest.tree_snapshot(state_dir), before,
                         "the refused agent must not touch the state directory")
        self.assertTrue(self.agent.state().get("ready"), "the first keeps its control socket")
        self.assertIsNone(self.agent.proc.poll())

        # Once the first is gone, the next one starts.
        self.assertEqual(self.agent.stop(), 0)
        self.agent.log.close()
        self.agent = vmptest.Agent(VMPOWERD, self.scratch, uri="test:///default",
                                   sysfs_exists_ok=True)
        self.assertTrue(self.agent.state().get("ready"))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    VMPOWERD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
