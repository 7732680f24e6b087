#!/usr/bin/env python3
"""Channels survive a restart of vmpowerd through systemd's file-descriptor
store. No systemd runs here: this test plays the service manager's side of
the protocol (sd_notify(3), sd_listen_fds(3)) and QEMU's (the listening
end of each channel, on libvirt's test driver):
- the manager binds a datagram socket, exports it as NOTIFY_SOCKET, and
  receives FDSTORE=1 / FDSTOREREMOVE=1 with their fds (SCM_RIGHTS);
- after SIGTERM it starts the next vmpowerd with those fds from fd 3 and
  LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID (the new process's own pid,
  set by a small wrapper that then execs vmpowerd).
Checked: QEMU's end of each channel never sees a close across the restart,
a request sent while no vmpowerd runs is answered by the next one, and no
second connection reaches QEMU's listening socket; without NOTIFY_SOCKET
nothing is sent; a kept socket whose peer is not the channel's path (and
one no channel claims) is closed and dropped from the store, and the
channel connects anew.
Usage: vmpowerd_fd_store_test.py PATH/TO/vmpowerd"""

import array
import os
import re
import select
import socket
import struct
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmptest  # noqa: E402
from vmptest import record  # noqa: E402

VMPOWERD = None
GUESTS = {"a": "1", "b": "2"}
SCALE_MAX, SCALE_MIN = 3, 4
ACK = 1
# Puts LISTEN_PID (its own pid, which exec keeps) into the environment and
# moves the kept fds (their numbers in argv[1], in order) to 3, 4, ...
LISTEN_WRAPPER = r"""
import fcntl, os, sys
fds = [int(f) for f in sys.argv[1].split(",") if f]
high = [fcntl.fcntl(f, fcntl.F_DUPFD, 100) for f in fds]
for f in fds:
    os.close(f)
for i, f in enumerate(high):
    os.dup2(f, 3 + i)
    os.close(f)
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[2], sys.argv[2:])
"""


class FakeManager:
    """systemd's side of NOTIFY_SOCKET, with its fd store (by name)."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.setblocking(False)
        self.store = {}  # name -> fd
        self.messages = []  # every datagram's text, in order

    def receive(self):
        while True:
            try:
                text, ancdata, _, _ = self.sock.recvmsg(4096, socket.CMSG_LEN(16 * 4))
            except BlockingIOError:
                return
            fds = array.array("i")
            for level, kind, data in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
            text = text.decode()
            self.messages.append(text)
            fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
            name = fields.get("FDNAME", "stored")
            if fields.get("FDSTORE") == "1":
                for fd in fds:
                    if name in self.store:  # the test keeps one per name
                        os.close(self.store[name])
                    self.store[name] = fd
            else:
                for fd in fds:
                    os.close(fd)
            if fields.get("FDSTOREREMOVE") == "1" and name in self.store:
                os.close(self.store.pop(name))

    def wait_for(self, pred, what):
        def check():
            self.receive()
            return pred()
        return vmptest.wait_for(check, what=what)

    def texts(self, key):
        return [m for m in self.messages if f"{key}=1" in m.splitlines()]

    def launch(self, fds_by_name):
        """(wrapper, pass_fds, env) starting vmpowerd with these fds kept."""
        names = list(fds_by_name)
        fds = [fds_by_name[n] for n in names]
        env = dict(os.environ, NOTIFY_SOCKET=self.path, LISTEN_FDS=str(len(fds)),
                   LISTEN_FDNAMES=":".join(names))
        wrapper = [sys.executable, "-c", LISTEN_WRAPPER, ",".join(map(str, fds))]
        return wrapper, tuple(fds), env

    def close(self):
        for fd in self.store.values():
            os.close(fd)
        self.sock.close()


def ask(conn, unit, timeout=5.0):
    """A request on QEMU's end of a channel; the reply's status."""
    conn.sendall(record(unit))
    return reply(conn, timeout)


def reply(conn, timeout=5.0):
    conn.setblocking(True)
    conn.settimeout(timeout)
    try:
        data = b""
        while len(data) < 16:
            chunk = conn.recv(464 - len(data))
            if not chunk:
                raise AssertionError("QEMU's end of the channel saw a close")
            data += chunk
        # the rest of the record, if any
        conn.settimeout(0.2)
        try:
            while len(data) < 464:
                chunk = conn.recv(464 - len(data))
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        return struct.unpack_from("<I", data, 12)[0]
    finally:
        conn.setblocking(False)


def still_open(conn):
    """No EOF and nothing unread on QEMU's end."""
    try:
        return conn.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True


def pending_connection(listener):
    r, _, _ = select.select([listener], [], [], 0)
    return bool(r)


class FdStore(unittest.TestCase):
    def setUp(self):
        self.scratch = vmptest.Scratch()
        self.uri, self.qemu = vmptest.test_driver_guests(self.scratch, GUESTS)
        with open(self.uri.removeprefix("test://")) as f:
            node = f.read()
        self.uuids = dict(re.findall(r"<name>(\w+)</name><uuid>([0-9a-f-]+)</uuid>", node))
        self.manager = FakeManager(os.path.join(self.scratch.path, "notify.sock"))
        self.agents = []
        self.extra = []  # sockets the test owns

    def tearDown(self):
        result = getattr(self._outcome, "result", None)
        failed = result is not None and any(t is self for t, _ in result.failures + result.errors)
        for a in self.agents:
            if failed:
                print(a.log_text())
            a.close()
        for s in self.extra:
            s.close()
        for q in self.qemu.values():
            q.close()
        self.manager.close()
        self.scratch.cleanup()

    def start(self, env=None, kept=None, fresh=True):
        wrapper, pass_fds = (), ()
        if kept is not None:
            wrapper, pass_fds, env = self.manager.launch(kept)
        agent = vmptest.Agent(VMPOWERD, self.scratch, uri=self.uri,
                              extra_vms='  - name: "*"\n    rate: 0\n',
                              agent_extra="  verify_channel_peer: false\n  host_cpus: \"\"\n",
                              sysfs_exists_ok=not fresh, env=env, wrapper=wrapper,
                              pass_fds=pass_fds)
        self.agents.append(agent)
        return agent

    def connected(self):
        def all_accepted():
            for q in self.qemu.values():
                q.accept_pending()
            return all(q.conn for q in self.qemu.values())
        vmptest.wait_for(all_accepted, what="every channel connected")

    def name(self, guest):
        return f"ch-{self.uuids[guest]}-0"

    def test_restart_keeps_every_channel_connected(self):
        env = dict(os.environ, NOTIFY_SOCKET=self.manager.path)
        agent = self.start(env=env)
        self.connected()
        conns = {g: q.conn for g, q in self.qemu.items()}
        for g in GUESTS:
            self.assertEqual(ask(conns[g], SCALE_MAX), ACK)
        names = {self.name(g) for g in GUESTS}
        self.manager.wait_for(lambda: names <= set(self.manager.store), "FDSTORE of each channel")
        for text in self.manager.texts("FDSTORE"):
            name = text.split("FDNAME=", 1)[1].split("\n")[0]
            self.assertLessEqual(len(name), 255)
            self.assertNotIn(":", name)

        self.assertEqual(agent.stop(), 0)
        self.manager.receive()
        self.assertEqual(self.manager.texts("FDSTOREREMOVE"), [],
                         "a stop keeps the channels in the store")
        for g in GUESTS:
            self.assertTrue(still_open(conns[g]), f"{g}: QEMU's end saw a close at the stop")
        # A request while no vmpowerd runs waits in the kept socket.
        conns["a"].sendall(record(SCALE_MIN))

        stored = dict(self.manager.store)
        agent = self.start(kept=stored, fresh=False)
        self.assertEqual(reply(conns["a"]), ACK, "the request sent during the restart")
        self.assertEqual(ask(conns["b"], SCALE_MIN), ACK)
        for g, q in self.qemu.items():
            self.assertIs(q.conn, conns[g])
            self.assertFalse(pending_connection(q.listener),
                             f"{g}: the new vmpowerd connected anew instead of adopting")
        log = agent.log_text()
        for g in GUESTS:
            self.assertIn(f"{g}: channel 0 connected ({self.qemu[g].path}), kept across the "
                          "agent's restart", log)
        self.manager.receive()
        self.assertEqual(self.manager.texts("FDSTOREREMOVE"), [])

        # A channel vmpowerd closes for good leaves the store (else QEMU's
        # end would stay connected to the manager's copy).
        self.assertTrue(agent.request({"cmd": "set-channel-status", "name": "b", "index": 0,
                                       "status": "disabled"})["ok"])
        self.manager.wait_for(lambda: self.name("b") not in self.manager.store,
                              "FDSTOREREMOVE of a disabled channel")
        self.assertIn(self.name("a"), self.manager.store)

    def test_without_notify_socket_nothing_is_sent(self):
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        agent = self.start(env=env)
        self.connected()
        self.assertEqual(ask(self.qemu["a"].conn, SCALE_MAX), ACK)
        self.assertEqual(agent.stop(), 0)
        self.manager.receive()
        self.assertEqual(self.manager.messages, [])

    def test_a_kept_socket_elsewhere_is_closed_and_the_channel_connects_anew(self):
        decoy_path = os.path.join(self.scratch.path, "decoy")
        decoy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        decoy.bind(decoy_path)
        decoy.listen(4)
        self.extra.append(decoy)
        kept, decoy_ends = {}, []
        stray = f"ch-{uuid.uuid4()}-0"  # a domain that is gone
        for name in (self.name("a"), stray):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(decoy_path)
            end, _ = decoy.accept()
            self.extra += [c, end]
            decoy_ends.append(end)
            kept[name] = c.fileno()
        agent = self.start(kept=kept)
        for c in self.extra[1::2]:
            c.close()  # only vmpowerd holds them now
        self.connected()  # a's channel connected anew, b's as always
        self.assertEqual(ask(self.qemu["a"].conn, SCALE_MAX), ACK)
        for end in decoy_ends:
            end.settimeout(5)
            self.assertEqual(end.recv(1), b"", "vmpowerd closed the socket it did not use")
        self.manager.wait_for(lambda: self.name("a") in self.manager.store,
                              "FDSTORE of the new connection")
        removed = [t.split("FDNAME=", 1)[1] for t in self.manager.texts("FDSTOREREMOVE")]
        self.assertIn(self.name("a"), removed)
        self.assertIn(stray, removed)
        # Dropped before its new socket was stored, not after.
        order = [m for m in self.manager.messages if self.name("a") in m]
        self.assertIn("FDSTOREREMOVE=1", order[0])
        self.assertIn("FDSTORE=1", order[-1])
        self.assertIn("not using the socket kept by the previous run", agent.log_text())


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    VMPOWERD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
