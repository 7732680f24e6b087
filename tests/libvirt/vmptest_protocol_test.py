#!/usr/bin/env python3
"""vmptest's control-protocol checks: the table the build wrote from
common/control_protocol.h is loaded, and a request or an answer that does not
match it fails (a command or key renamed on one side only)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmptest  # noqa: E402


class ProtocolChecks(unittest.TestCase):
    def test_the_table_has_the_agents_commands(self):
        commands = vmptest.protocol()["commands"]
        self.assertEqual(commands["show-rule"]["args"], ["name"])
        self.assertTrue(commands["show-rule"]["read_only"])
        self.assertEqual(commands["show-policy"], commands["show-rule"])  # the old name
        self.assertFalse(commands["set-policy"]["read_only"])
        self.assertIn("connects", vmptest.protocol()["channel_statistics"])

    def test_requests_are_checked(self):
        vmptest.check_request({"cmd": "show-vm", "name": "vm1"})
        vmptest.check_request({"cmd": "set-policy", "name": "vm1", "type": "workload",
                               "vcpus": [0], "workload": "high"})
        vmptest.check_request({"cmd": "show-rule", "name": "vm1"})
        vmptest.check_request({"cmd": "show-policy", "name": "vm1"})  # the old name
        with self.assertRaisesRegex(AssertionError, "no command"):
            vmptest.check_request({"cmd": "show-rules", "name": "vm1"})
        with self.assertRaisesRegex(AssertionError, r"\['vm'\] not in"):
            vmptest.check_request({"cmd": "show-vm", "vm": "vm1"})
        with self.assertRaisesRegex(AssertionError, r"\['cpu'\] missing"):
            vmptest.check_request({"cmd": "show-cpu-freq"})

    def test_answers_are_checked(self):
        keys = vmptest.protocol()["objects"]["channel"]
        vmptest.check_keys({k: 0 for k in keys}, keys, "channel")
        with self.assertRaisesRegex(AssertionError, "channel lacks"):
            vmptest.check_keys({k: 0 for k in keys if k != "acked"}, keys, "channel")


if __name__ == "__main__":
    unittest.main()
