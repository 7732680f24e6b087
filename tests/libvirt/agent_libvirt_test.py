#!/usr/bin/env python3
"""vmpowerd against a real libvirtd and a real QEMU domain (TCG): channels
connect on start, vcpupin updates the map, destroy closes, and a libvirtd
killed with SIGKILL and started again leaves the channels connected and the
agent in sync; vmpowerctl's pinning commands pin through the real libvirtd.
Usage: agent_libvirt_test.py PATH/TO/vmpowerd PATH/TO/vmpower-provision PATH/TO/vmpowerctl"""

import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmptest  # noqa: E402

VMPOWERD = None
PROVISION = None
VMPOWERCTL = None


def channel_states(dom):
    return [(c["index"], c["state"]) for c in dom["channels"]]


class AgentOnRealLibvirt(unittest.TestCase):
    def setUp(self):
        vmptest.start_libvirtd()
        self.scratch = vmptest.Scratch()
        self.name = "vmptest-agent-%d" % os.getpid()
        paths = [os.path.join(self.scratch.sock, f"{self.name}.{i}") for i in range(2)]
        self.dom = vmptest.Domain(self.name, vmptest.domain_xml(self.name, paths, pins=["0", "1"]),
                                  self.scratch)
        self.agent = None

    def tearDown(self):
        if self.agent:
            rc = self.agent.stop()
            if rc != 0 or sys.exc_info()[0] is not None:
                print(self.agent.log_text())
            self.agent.close()
        # A test that kills libvirtd must not leave its domain behind: bring
        # libvirtd back (if a test left it down) before removing the domain.
        try:
            vmptest.start_libvirtd()
        except Exception as e:  # still clean up what we can
            print(f"tearDown: libvirtd: {e}")
        self.dom.cleanup()
        self.scratch.cleanup()

    def test_zero_touch_lifecycle_pinning_and_libvirtd_restart(self):
        self.agent = vmptest.Agent(VMPOWERD, self.scratch)
        before = vmptest.tree_snapshot(self.agent.sysfs)
        self.assertIsNone(self.agent.domain(self.name))

        # start -> both channels connected, map from the boot-time pinning
        self.dom.start()
        d = vmptest.wait_for(
            lambda: (dom := self.agent.domain(self.name)) and
            channel_states(dom) == [(0, "connected"), (1, "connected")] and dom,
            what="both channels connected")
        self.assertEqual([v["pcpus"] for v in d["vcpus"]], ["0", "1"])

        # live vcpupin -> TUNABLE -> the map follows (full cpuset kept)
        vmptest.virsh("vcpupin", self.name, "0", "1")
        vmptest.wait_for(lambda: self.agent.domain(self.name)["vcpus"][0]["pcpus"] == "1",
                         what="vCPU 0 re-pinned to pCPU 1")
        vmptest.virsh("vcpupin", self.name, "1", "0-1")
        vmptest.wait_for(lambda: self.agent.domain(self.name)["vcpus"][1]["pcpus"] == "0-1",
                         what="vCPU 1 on pCPUs 0-1")

        # libvirtd killed -9 and started again: channels (QEMU's sockets)
        # stay connected, the agent reconnects and is in sync again.
        connects = self.agent.state()["libvirt"]["connects"]
        subprocess.run(["pkill", "-9", "-x", "libvirtd"], check=True)
        vmptest.wait_for(lambda: not self.agent.state()["libvirt"]["connected"],
                         what="agent notices libvirtd is gone")
        d = self.agent.domain(self.name)
        self.assertEqual(channel_states(d), [(0, "connected"), (1, "connected")])
        subprocess.run(["libvirtd", "-d"], check=True)
        vmptest.wait_for(lambda: self.agent.state()["libvirt"]["connects"] > connects,
                         timeout=30, what="agent reconnected to libvirtd")
        d = self.agent.domain(self.name)
        self.assertEqual([(c["state"], c["connects"]) for c in d["channels"]],
                         [("connected", 1), ("connected", 1)],
                         "channels must not have been closed by the libvirtd restart")
        # events are registered again: a new pin arrives
        vmptest.virsh("vcpupin", self.name, "0", "0")
        vmptest.wait_for(lambda: self.agent.domain(self.name)["vcpus"][0]["pcpus"] == "0",
                         what="TUNABLE after reconnect")

        # destroy -> closed and forgotten
        self.dom.destroy()
        vmptest.wait_for(lambda: self.agent.domain(self.name) is None, what="domain dropped")

        # start again -> connected again, zero touch
        self.dom.start()
        vmptest.wait_for(
            lambda: (dom := self.agent.domain(self.name)) and
            channel_states(dom) == [(0, "connected"), (1, "connected")],
            what="channels connected after restart of the domain")

        # SIGTERM: clean exit, the sysfs tree as we found it
        self.assertEqual(self.agent.stop(), 0)
        self.assertEqual(vmptest.tree_snapshot(self.agent.sysfs), before)

    def test_libvirtd_killed_at_random_moments_never_drops_a_channel(self):
        # Only libvirt's "no such domain" means a domain is gone: a libvirtd
        # killed while the agent lists or reads domains (reconcile after each
        # reconnect) must leave the channels connected and the map intact.
        import random
        rng = random.Random(os.getpid())
        self.dom.start()
        self.agent = vmptest.Agent(VMPOWERD, self.scratch)
        vmptest.wait_for(lambda: channel_states(self.agent.domain(self.name)) ==
                         [(0, "connected"), (1, "connected")], what="channels connected")
        def kill_libvirtd():
            subprocess.run(["pkill", "-9", "-x", "libvirtd"], check=False)
            # A new libvirtd cannot start while the old one holds its pid file.
            vmptest.wait_for(lambda: subprocess.run(["pgrep", "-x", "libvirtd"],
                                                    capture_output=True).returncode != 0,
                             what="libvirtd gone")

        for _ in range(8):
            kill_libvirtd()
            subprocess.run(["libvirtd", "-d"], check=True)
            time.sleep(rng.uniform(0.05, 1.2))  # mid-connect, mid-reconcile or after
        kill_libvirtd()
        connects = self.agent.state()["libvirt"]["connects"]
        vmptest.start_libvirtd()
        vmptest.wait_for(lambda: self.agent.state()["libvirt"]["connected"] and
                         self.agent.state()["libvirt"]["connects"] > connects,
                         timeout=30, what="agent reconnected to libvirtd")
        d = self.agent.domain(self.name)
        self.assertEqual([(c["state"], c["connects"]) for c in d["channels"]],
                         [("connected", 1), ("connected", 1)],
                         "no libvirtd death may close a channel of a running domain")
        self.assertEqual([v["pcpus"] for v in d["vcpus"]], ["0", "1"])

    def test_vmpowerctl_pinning_commands_pin_the_live_domain(self):
        self.agent = vmptest.Agent(VMPOWERD, self.scratch)
        self.dom.start()
        vmptest.wait_for(lambda: self.agent.domain(self.name), what="domain tracked")

        def ctl(*words):
            return subprocess.run([VMPOWERCTL, "--socket", self.agent.control, *words],
                                  capture_output=True, text=True, timeout=30)

        r = ctl("set_pcpu_mask", self.name, "0", "0x2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("pinned to pCPUs 1", r.stdout)
        r = ctl("set-pcpu", self.name, "1", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        # libvirt's own answer, and the agent's map from the TUNABLE event
        pins = vmptest.virsh("vcpupin", self.name, "--live")
        self.assertRegex(pins, r"(?m)^\s*0\s+1\s*$")
        self.assertRegex(pins, r"(?m)^\s*1\s+0\s*$")
        vmptest.wait_for(lambda: [v["pcpus"] for v in self.agent.domain(self.name)["vcpus"]] ==
                         ["1", "0"], what="the agent's map follows vmpowerctl's pins")
        # bad input: a clear error, nothing pinned
        r = ctl("set-pcpu-mask", self.name, "0", "0xq")
        self.assertEqual(r.returncode, 2)
        self.assertIn("neither a hex core mask", r.stderr)
        r = ctl("set-pcpu-mask", "no-such-vm", "0", "0x1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no-such-vm", r.stderr)
        self.assertEqual(vmptest.virsh("vcpupin", self.name, "--live"), pins)

    def test_agent_started_after_domain_finds_it(self):
        self.dom.start()
        self.agent = vmptest.Agent(VMPOWERD, self.scratch)
        d = self.agent.domain(self.name)
        self.assertIsNotNone(d, "reconcile at start must find the running domain")
        vmptest.wait_for(lambda: channel_states(self.agent.domain(self.name)) ==
                         [(0, "connected"), (1, "connected")], what="channels connected")


class HotplugThroughProvision(unittest.TestCase):
    """vmpower-provision --live on a running domain: DEVICE_ADDED makes the
    agent connect the new channels; remove --live, DEVICE_REMOVED, closes."""

    def setUp(self):
        vmptest.start_libvirtd()
        self.scratch = vmptest.Scratch()
        self.name = "vmptest-hotplug-%d" % os.getpid()
        self.dom = vmptest.Domain(self.name, vmptest.domain_xml(self.name, []), self.scratch)
        self.agent = None

    def tearDown(self):
        if self.agent:
            self.agent.close()
        self.dom.cleanup()
        self.scratch.cleanup()

    def provision(self, *args):
        return subprocess.run([PROVISION, *args, "--state-dir", self.scratch.path + "/prov"],
                              capture_output=True, text=True)

    def test_live_provision_connects_through_device_added(self):
        self.dom.start()
        self.agent = vmptest.Agent(VMPOWERD, self.scratch)
        self.assertEqual(self.agent.domain(self.name)["channels"], [])
        r = self.provision("edit-domain", self.name, "--channels", "2", "--live",
                           "--socket-dir", self.scratch.sock)
        self.assertEqual(r.returncode, 0, r.stderr)
        vmptest.wait_for(
            lambda: channel_states(self.agent.domain(self.name)) ==
            [(0, "connected"), (1, "connected")],
            what="hot-plugged channels connected by the agent")
        r = self.provision("remove", self.name, "--live")
        self.assertEqual(r.returncode, 0, r.stderr)
        vmptest.wait_for(lambda: self.agent.domain(self.name)["channels"] == [],
                         what="hot-unplugged channels closed")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    VMPOWERD = os.path.abspath(sys.argv.pop(1))
    PROVISION = os.path.abspath(sys.argv.pop(1))
    VMPOWERCTL = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
