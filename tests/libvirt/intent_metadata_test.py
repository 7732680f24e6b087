#!/usr/bin/env python3
"""The VM's power intent in a real libvirtd's live metadata (qemu driver,
TCG QEMU domain): a stale intent in the persistent definition is removed on
a normal start and never applied; a guest's MAX is written within the
write interval (virDomainSetMetadata, live); a storm of requests becomes at
most one write per interval and ends on the latest level; the agent's own
writes (each emits a metadata-change event) cause no lifecycle event and no
re-read. The guest end of the channel is played by the test: QEMU's socket
is replaced by the test's own (verify_channel_peer off) and the agent
reconnects to it; everything on the libvirt side is real.
The migration itself (two libvirtds): the harness in this directory.
Usage: intent_metadata_test.py PATH/TO/vmpowerd"""

import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmptest  # noqa: E402

VMPOWERD = None
NS = "urn:vmpower:intent:1"
INTERVAL = 0.25  # kIntentWriteInterval (agent/intent/intent_writer.h)
# guest/include/vmpower/protocol.h
CPU_POWER, ACK, MAX, ENABLE_TURBO, DISABLE_TURBO = 1, 1, 3, 5, 6
RECORD = 464

STALE = ("<metadata><vmpower-intent:intent xmlns:vmpower-intent='urn:vmpower:intent:1'>"
         "<vmpower-intent:vcpu id='0' level='min'/></vmpower-intent:intent></metadata>")


def record(unit, vcpu=0):
    # struct vmpower_packet: resource_id, unit, command first; core_type 0 (VIRTUAL).
    b = bytearray(RECORD)
    struct.pack_into("<QII", b, 0, vcpu, unit, CPU_POWER)
    return bytes(b)


def live_intent(name):
    r = subprocess.run(["virsh", "-q", "-c", vmptest.URI, "metadata", name, "--uri", NS, "--live"],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


class IntentOnRealLibvirt(unittest.TestCase):
    def setUp(self):
        vmptest.start_libvirtd()
        self.scratch = vmptest.Scratch()
        self.name = "vmpintent-%d" % os.getpid()
        self.path = os.path.join(self.scratch.sock, self.name + ".0")
        xml = vmptest.domain_xml(self.name, [self.path], pins=["0"], vcpus=1)
        xml = xml.replace("<memory", STALE + "\n  <memory", 1)
        self.dom = vmptest.Domain(self.name, xml, self.scratch)
        self.agent = None
        self.guest = None

    def tearDown(self):
        if self.guest:
            self.guest.close()
        if self.agent:
            rc = self.agent.stop()
            if rc != 0 or sys.exc_info()[0] is not None:
                print(self.agent.log_text())
            self.agent.close()
        self.dom.cleanup()
        self.scratch.cleanup()

    def play_guest(self):
        """Takes the channel over from QEMU: our socket at its path, then the
        agent reconnects (channel switched off and on)."""
        os.unlink(self.path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path)
        listener.listen(1)
        uuid = self.agent.domain(self.name)["uuid"]
        for status in ("disabled", "enabled"):
            r = self.agent.request({"cmd": "set-channel-status", "name": self.name, "index": 0,
                                    "status": status})
            self.assertTrue(r["ok"], r)
        listener.settimeout(10)
        self.guest, _ = listener.accept()
        listener.close()
        self.guest.settimeout(10)
        return uuid

    def exchange(self, unit):
        self.guest.sendall(record(unit))
        reply = b""
        while len(reply) < RECORD:
            reply += self.guest.recv(RECORD - len(reply))
        return struct.unpack_from("<I", reply, 12)[0]

    def test_stale_intent_removed_then_guest_levels_written_coalesced(self):
        # Other domains may run on the shared libvirtd: they are stakeholders
        # of every CPU, so only raises are sure to be allowed (docs/policy.md).
        # Turbo found off makes on and off both raises or restores: the storm
        # toggles it at max.
        sysfs = os.path.join(self.scratch.path, "sys")
        shutil.copytree(os.path.join(vmptest.ROOT, "tests", "fixtures", "sysfs", "acpi-cpufreq"),
                        sysfs, symlinks=True)
        with open(os.path.join(sysfs, "devices/system/cpu/cpufreq/boost"), "w") as f:
            f.write("0\n")
        self.agent = vmptest.Agent(VMPOWERD, self.scratch, sysfs_exists_ok=True,
                                   agent_extra="  verify_channel_peer: false\n",
                                   extra_vms='  - name: "vmpintent-*"\n    rate: 0\n')
        before = vmptest.tree_snapshot(self.agent.sysfs)
        self.assertIn("level=\"min\"", vmptest.virsh("metadata", self.name, "--uri", NS,
                                                      "--config"))
        self.dom.start()
        # Started normally: the persistent definition's intent is from an
        # earlier run: removed from the live XML, never applied.
        vmptest.wait_for(lambda: self.agent.domain(self.name) and live_intent(self.name) == "",
                         what="stale intent removed from the live metadata")
        self.assertIn("started normally: ignoring the power intent", self.agent.log_text())
        self.assertEqual(vmptest.tree_snapshot(self.agent.sysfs), before)
        vmptest.wait_for(lambda: self.agent.domain(self.name)["channels"][0]["state"] ==
                         "connected", what="channel connected")

        self.play_guest()
        self.assertEqual(self.exchange(MAX), ACK)
        want = '<intent>\n  <vcpu id="0" level="max" khz="3400000"/>\n</intent>'
        vmptest.wait_for(lambda: live_intent(self.name) == want, timeout=5,
                         what="the guest's max in the live metadata")
        vcpu = self.agent.domain(self.name)["vcpus"][0]["intent"]
        self.assertTrue(vcpu["from"].startswith("held since "), vcpu)

        # A storm: turbo on and off as fast as the guest can, then on.
        log_before = self.agent.log_text()
        lifecycle_before = log_before.count("lifecycle ")
        writes_before = log_before.count("power intent written")
        start = time.monotonic()
        for i in range(600):
            self.assertEqual(self.exchange(DISABLE_TURBO if i % 2 else ENABLE_TURBO), ACK)
        self.assertEqual(self.exchange(ENABLE_TURBO), ACK)
        want = '<intent>\n  <vcpu id="0" level="max" khz="3400000" turbo="on"/>\n</intent>'
        vmptest.wait_for(lambda: live_intent(self.name) == want, timeout=5,
                         what="the latest level in the live metadata")
        time.sleep(2 * INTERVAL)
        elapsed = time.monotonic() - start
        log = self.agent.log_text()
        writes = log.count("power intent written") - writes_before
        self.assertGreaterEqual(writes, 1)
        self.assertLessEqual(writes, int(elapsed / INTERVAL) + 1,
                             f"{writes} writes for 601 requests in {elapsed:.2f} s")
        # Its own writes emit metadata-change events only, which the agent
        # does not subscribe to: no lifecycle event, nothing re-read.
        self.assertEqual(log.count("lifecycle "), lifecycle_before)
        costs = [int(us) for us in re.findall(r"power intent written \(\d+ bytes, (\d+) us\)", log)]
        print(f"\n{writes} metadata writes for 601 requests in {elapsed:.2f} s; "
              f"virDomainSetMetadata took {min(costs)}-{max(costs)} us "
              f"(median {sorted(costs)[len(costs) // 2]} us)", flush=True)

        # SIGTERM: the tree as found; the domain keeps its last intent.
        self.guest.close()
        self.guest = None
        self.assertEqual(self.agent.stop(), 0)
        self.assertEqual(vmptest.tree_snapshot(self.agent.sysfs), before)


if __name__ == "__main__":
    VMPOWERD = sys.argv.pop(1)
    unittest.main()
