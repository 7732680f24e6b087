#!/usr/bin/env python3
"""The vmpowerd binary's signals, on libvirt's test driver (no daemon needed):
SIGHUP reloads the policy; an invalid file is refused with FILE:LINE:COLUMN
and the old policy stays in force; SIGTERM exits 0.
Usage: vmpowerd_signals_test.py PATH/TO/vmpowerd"""

import os
import re
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmptest  # noqa: E402

VMPOWERD = None
TEST_VM = "test"  # the domain libvirt's test:///default runs


def rule_label(agent):
    answer = agent.request({"cmd": "show-rule", "name": TEST_VM})
    return answer.get("rule", {}).get("label") if answer.get("ok") else None


class Signals(unittest.TestCase):
    def setUp(self):
        self.scratch = vmptest.Scratch()
        self.agent = vmptest.Agent(VMPOWERD, self.scratch, uri="test:///default",
                                   extra_vms='  - label: first\n    name: "*"\n')

    def tearDown(self):
        self.agent.close()
        self.scratch.cleanup()

    def rewrite_vms(self, vms_yaml):
        with open(self.agent.config) as f:
            text = f.read()
        text = text[:text.index("vms:\n") + len("vms:\n")] + vms_yaml
        with open(self.agent.config, "w") as f:
            f.write(text)

    def test_sighup_reloads_and_an_invalid_file_changes_nothing(self):
        self.assertEqual(rule_label(self.agent), "first")

        self.rewrite_vms('  - label: second\n    name: "*"\n')
        self.agent.proc.send_signal(signal.SIGHUP)
        vmptest.wait_for(lambda: rule_label(self.agent) == "second", what="policy reloaded")

        self.rewrite_vms('  - label: broken\n    name: "*"\n    rate: lots\n')
        self.agent.proc.send_signal(signal.SIGHUP)
        pattern = re.escape(self.agent.config) + r":\d+:\d+: "
        vmptest.wait_for(lambda: re.search(pattern, self.agent.log_text()),
                         what="FILE:LINE:COLUMN error in the log")
        self.assertEqual(rule_label(self.agent), "second", "the old policy must stay in force")
        self.assertIsNone(self.agent.proc.poll(), "an invalid file must not stop the agent")

        self.assertEqual(self.agent.stop(), 0)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    VMPOWERD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
