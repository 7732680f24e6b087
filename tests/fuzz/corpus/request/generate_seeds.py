#!/usr/bin/env python3
"""Writes the binary seeds of tests/fuzz/request_fuzz.cpp into this directory.

Seed layout: flags byte (bit0 legacy-16, bit1 physical, bit2 multi_pcpu,
bit3 shared_pcpus, bit4 queries, bit5 rate limit, bit6 explicit pcpus,
bit7 unmatched VM), vCPU count byte, then reads: a length byte (n: 4n bytes,
0: the rest) and the read's bytes. (This script is itself replayed as a seed;
any bytes are valid input.)
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ALLOW = 0x04 | 0x08 | 0x10  # multi_pcpu, shared_pcpus, queries


def packet(command, unit=0, resource_id=0, vm_name=b"", core_type=0, fill=0):
    body = bytearray([fill]) * 464
    struct.pack_into("<QII", body, 0, resource_id, unit, command)
    body[16:48] = vm_name.ljust(32, b"\0")[:32]
    body[444] = core_type
    return bytes(body)


def legacy(command, unit=0, resource_id=0):
    return struct.pack("<QII", resource_id, unit, command)


def one_read(*records):
    return b"\0" + b"".join(records)


def reads(data, sizes):
    out, pos = b"", 0
    for n in sizes:
        out += bytes([n]) + data[pos:pos + 4 * n]
        pos += 4 * n
    return out + b"\0" + data[pos:]


def connect_garbage():
    p = bytearray(b"\xa5" * 464)
    struct.pack_into("<I", p, 12, 2)
    return bytes(p)


SEEDS = {
    "freq_up_lcore0": (ALLOW, 4, one_read(packet(1, 1, 0))),
    "every_unit": (ALLOW, 4, one_read(*[packet(1, u, u % 4) for u in range(0, 8)])),
    "split_record": (ALLOW, 4, reads(packet(1, 2, 1), [1, 50, 65])),
    "three_in_one_read": (ALLOW, 4, one_read(packet(1, 1, 0), packet(1, 2, 1), packet(1, 3, 2))),
    "tail_and_head": (ALLOW, 4, reads(packet(1, 1, 0) + packet(1, 4, 3) + packet(1, 2, 2), [30, 150, 0])),
    "partial_at_close": (ALLOW, 4, one_read(packet(1, 1, 0) + packet(1, 1, 1)[:100])),
    "unknown_command": (ALLOW, 4, one_read(packet(5, 1, 0), packet(0xFFFFFFFF, 1, 0))),
    "huge_resource_id": (ALLOW, 4, one_read(packet(1, 1, 1 << 63), packet(1, 1, 1 << 32),
                                            packet(8, 0, 1 << 63), packet(10, 0, 4))),
    "physical_denied": (ALLOW, 4, one_read(packet(1, 1, 3, core_type=1))),
    "physical_allowed": (ALLOW | 0x02 | 0x40, 4, one_read(packet(1, 1, 3, core_type=1),
                                                         packet(1, 1, 99, core_type=1))),
    "core_type_garbage": (ALLOW | 0x02, 4, one_read(packet(1, 1, 0, core_type=0x7F))),
    "other_vm_name": (ALLOW, 4, one_read(packet(1, 3, 0, b"victim"), packet(7, 0, 0, b"victim"))),
    "queries": (ALLOW, 12, one_read(packet(7), packet(8, 0, 3), packet(9), packet(10, 0, 7),
                                    packet(8, 0, 9))),
    "queries_denied": (0x04 | 0x08, 4, one_read(packet(7), packet(9))),
    "flood": (ALLOW | 0x20, 4, one_read(*[packet(1, 1, 0)] * 40)),
    "garbage_connect": (ALLOW, 4, one_read(connect_garbage())),
    "pkt_policy": (ALLOW, 4, one_read(packet(3, 0, 0, b"vm1", fill=0), packet(4))),
    "unmatched": (ALLOW | 0x80, 4, one_read(packet(1, 1, 0), packet(7))),
    "multi_pcpu_denied": (0x10, 10, one_read(packet(1, 1, 4), packet(1, 1, 9))),
    "shared_denied": (0x04 | 0x10, 4, one_read(packet(1, 1, 0), packet(1, 1, 1))),
    "legacy16": (ALLOW | 0x01, 4, reads(legacy(1, 1, 0) + legacy(1, 9, 1) + legacy(2) + legacy(7)
                                        + legacy(1, 1, 1 << 63), [2, 3, 0])),
    "no_vcpus": (ALLOW, 0, one_read(packet(1, 1, 0), packet(7))),
}

for name, (flags, vcpus, stream) in SEEDS.items():
    with open(os.path.join(HERE, name + ".bin"), "wb") as f:
        f.write(bytes([flags, vcpus]) + stream)
