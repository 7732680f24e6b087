"""A stand-in for vmpowerd on one channel socket, for tests of the guest side
alone: connects as QEMU's client, reads 464-byte records, answers CPU_POWER
with the DPDK-style echo (ACK or NACK) and queries with 88/184-byte lists."""

import socket
import struct
import threading

from vmlib import connect_unix

PACKET = 464
ACK, NACK = 1, 2
CPU_POWER, QUERY_FREQ_LIST, QUERY_FREQ, QUERY_CAPS_LIST, QUERY_CAPS = 1, 7, 8, 9, 10


class FakeAgent(threading.Thread):
    def __init__(self, socket_path, answer=ACK, khz=1_800_000, num_vcpu=2):
        super().__init__(daemon=True)
        self.sock = connect_unix(socket_path)
        self.answer = answer
        self.khz = khz
        self.num_vcpu = num_vcpu
        self.records = []  # every whole record received, as bytes
        self._stop = False
        self.start()

    def run(self):
        buf = b""
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            buf += data
            while len(buf) >= PACKET:
                rec, buf = buf[:PACKET], buf[PACKET:]
                self.records.append(rec)
                reply = self.reply(rec)
                if reply:
                    self.sock.sendall(reply)

    def reply(self, rec):
        resource_id, unit, command = struct.unpack_from("<QII", rec)
        header = struct.pack("<QI", resource_id, unit)
        if command == CPU_POWER:
            return rec[:12] + struct.pack("<I", self.answer) + rec[16:]
        if command in (QUERY_FREQ_LIST, QUERY_FREQ):
            freqs = [self.khz + i for i in range(8)]
            return (header + struct.pack("<I", 3) + bytes(32) + struct.pack("<8I", *freqs)
                    + struct.pack("<B", self.num_vcpu) + bytes(7))
        if command in (QUERY_CAPS_LIST, QUERY_CAPS):
            return (header + struct.pack("<I", 4) + bytes(32) + struct.pack("<8Q", 1, 0, 0, 0, 0, 0, 0, 0)
                    + struct.pack("<8Q", *([0] * 8)) + struct.pack("<B", self.num_vcpu) + bytes(7))
        return None  # CONNECT and others: no reply, as DPDK's host

    def stop(self):
        self._stop = True
        self.sock.close()
