#!/usr/bin/env python3
"""vmpowerd out of file descriptors: a domain with more channels than the
agent may open fds. The agent must not spin (CPU near idle), must keep
serving the channels it has, and must connect the rest once fds free up.
libvirt's test driver (no daemon); this test plays QEMU.
Usage: vmpowerd_fd_limit_test.py PATH/TO/vmpowerd"""

import os
import resource
import struct
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmptest  # noqa: E402
from vmptest import QemuEnd, record  # noqa: E402

VMPOWERD = None
DOMAINS = 2
CHANNELS = 60  # per domain (at most 64 are served per domain)
FD_LIMIT = 128  # soft = hard: the agent cannot raise it (80 for channels)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class OutOfFds(unittest.TestCase):
    def setUp(self):
        self.scratch = vmptest.Scratch()
        self.qemu = []
        domains = ""
        for dom in range(DOMAINS):
            channels = ""
            for i in range(CHANNELS):
                path = os.path.join(self.scratch.path, f"big{dom}.{i}")
                self.qemu.append(QemuEnd(path))
                channels += (f"<channel type='unix'><source mode='bind' path='{path}'/>"
                             f"<target type='virtio' name='virtio.serial.port.poweragent.{i}'/>"
                             "</channel>")
            domains += (f"<domain type='test'><name>big{dom}</name><uuid>{uuid.uuid4()}</uuid>"
                        "<memory>1048576</memory><vcpu placement='static'>1</vcpu>"
                        f"<cputune><vcpupin vcpu='0' cpuset='{dom + 1}'/>"
                        f"<emulatorpin cpuset='{dom + 1}'/></cputune>"
                        "<os><type>hvm</type></os><devices>"
                        "<controller type='virtio-serial' index='0'/>" + channels +
                        "</devices></domain>")
        node = os.path.join(self.scratch.path, "node.xml")
        with open(node, "w") as f:
            f.write("<node><cpu><mode>host-model</mode><nodes>1</nodes><sockets>1</sockets>"
                    "<cores>4</cores><threads>1</threads><active>4</active></cpu>" + domains +
                    "</node>\n")
        self.uri = "test://" + node
        self.agent = None

    def tearDown(self):
        if self.agent:
            self.agent.close()
        for q in self.qemu:
            q.close()
        self.scratch.cleanup()

    def test_no_spin_keeps_serving_and_recovers(self):
        limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))
        self.agent = vmptest.Agent(VMPOWERD, self.scratch, uri=self.uri,
                                   extra_vms='  - name: "*"\n    rate: 0\n',
                                   agent_extra="  verify_channel_peer: false\n",
                                   preexec_fn=limit)
        pid = self.agent.proc.pid
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for q in self.qemu:
                q.accept_pending()
            time.sleep(0.05)
        served = [q for q in self.qemu if q.conn]
        self.assertGreater(len(served), 0)
        self.assertLess(len(served), DOMAINS * CHANNELS, "the limit must bite for this test to mean anything")

        # Near idle while fds are exhausted: no loop spinning on them.
        before = cpu_seconds(pid)
        time.sleep(3)
        used = cpu_seconds(pid) - before
        self.assertLess(used, 0.3, f"{used:.2f} s of CPU in 3 s while out of fds")

        # A connected channel is still served.
        served[0].conn.setblocking(True)
        served[0].conn.settimeout(5)
        served[0].conn.sendall(record(3))  # SCALE_MAX
        reply = served[0].conn.recv(464)
        self.assertEqual(struct.unpack_from("<I", reply, 12)[0], 1, "ACK")

        # Free fds: QEMU ends of half the served channels go away; the agent
        # then connects the ones that were waiting (their backoff is <= 5 s).
        waiting = [q for q in self.qemu if not q.conn]
        for q in served[len(served) // 2:]:
            q.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(not q.conn for q in waiting[:len(served) // 3]):
            for q in waiting:
                q.accept_pending()
            time.sleep(0.05)
        self.assertTrue(all(q.conn for q in waiting[:len(served) // 3]),
                        "channels waiting for fds connect once fds are free")
        self.assertIsNone(self.agent.proc.poll(), "the agent is still running")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    VMPOWERD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
