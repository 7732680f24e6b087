#!/usr/bin/env python3
"""vmpowerd's metrics, from a running agent on libvirt's test driver (the
test plays two guests' QEMU ends): `vmpowerctl metrics` and the textfile
for node_exporter pass `promtool check metrics`, and the samples say what
happened (one guest ACKed and holding its CPU at max, one refused by its
rule, one channel refused by the peer check), and the counters by command,
by NACK reason and of peer-check refusals move with the guests' records.
Usage: metrics_test.py PATH/TO/vmpowerd PATH/TO/vmpowerctl"""

import json
import os
import re
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmptest  # noqa: E402

VMPOWERD = None
VMPOWERCTL = None
MAX_UNIT = 3
QUERY_FREQ_LIST = 7  # guest/include/vmpower/protocol.h
# acpi-cpufreq fixture: policy1 = CPU 1 (top 3400000 kHz), policy2 = CPUs 2-3.
# The impostor's pid file names pid 1: the peer check refuses its socket.
GUESTS = {"served": "1", "refused": "2", "impostor": "0"}
SERVED = ("served", "refused")
RULES = ('  - name: served\n    rate: 0\n'
         '  - name: refused\n    commands: []\n')


def samples(text, name):
    """{labels-text: value} of one metric."""
    out = {}
    for m in re.finditer(rf"^{name}(\{{[^}}]*\}})? (\S+)$", text, re.M):
        out[m.group(1) or ""] = float(m.group(2))
    return out


def value(text, name, **labels):
    for key, v in samples(text, name).items():
        if all(f'{k}="{want}"' in key for k, want in labels.items()):
            return v
    raise AssertionError(f"no {name} with {labels} in:\n{text}")


def promtool(text):
    return subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=30)


class Metrics(unittest.TestCase):
    def setUp(self):
        self.scratch = vmptest.Scratch()
        uri, self.qemu = vmptest.test_driver_guests(self.scratch, GUESTS)
        self.textfile = os.path.join(self.scratch.path, "vmpower.prom")
        # This process plays every QEMU: the pid files libvirt would write
        # name it, but for the impostor's.
        pids = os.path.join(self.scratch.path, "pids")
        os.makedirs(pids)
        for name in GUESTS:
            with open(os.path.join(pids, name + ".pid"), "w") as f:
                f.write("1\n" if name == "impostor" else f"{os.getpid()}\n")
        self.agent = vmptest.Agent(
            VMPOWERD, self.scratch, uri=uri, extra_vms=RULES,
            agent_extra=(f"  verify_channel_peer: true\n  qemu_pid_dir: {pids}\n"
                         "  host_cpus: \"\"\n"
                         f"  metrics_textfile: {self.textfile}\n  metrics_interval: 1\n"))

    def tearDown(self):
        vmptest.close_test_driver(self.agent, self.qemu, self.scratch,
                                  sys.exc_info()[0] is not None)

    def ctl(self, *words):
        return subprocess.run([VMPOWERCTL, "--socket", self.agent.control, *words],
                              capture_output=True, text=True, timeout=30)

    def test_metrics_pass_promtool_and_tell_what_happened(self):
        def connected():
            for q in self.qemu.values():
                q.accept_pending()
            return all(self.qemu[n].conn for n in SERVED)
        vmptest.wait_for(connected, what="the agent connected both channels")
        for n in SERVED:
            self.qemu[n].send(vmptest.record(MAX_UNIT))

        def answered():
            m = self.ctl("metrics").stdout
            try:
                return (value(m, "vmpower_replies_total", vm="served", result="ack") == 1 and
                        value(m, "vmpower_replies_total", vm="refused", result="nack") == 1)
            except AssertionError:
                return False
        vmptest.wait_for(answered, what="one ACK and one NACK counted")

        r = self.ctl("metrics")
        self.assertEqual(r.returncode, 0, r.stderr)
        check = promtool(r.stdout)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        m = r.stdout
        self.assertEqual(value(m, "vmpower_channels", state="connected"), 2)
        self.assertEqual(value(m, "vmpower_channels", state="refused"), 1)
        self.assertEqual(value(m, "vmpower_peer_check_refusals_total"), 1)
        self.assertEqual(value(m, "vmpower_requests_total", vm="served", channel="0",
                               command="max"), 1)
        self.assertEqual(value(m, "vmpower_requests_total", vm="refused", command="max"), 1)
        self.assertEqual(len(samples(m, "vmpower_requests_total")), 2,
                         "only the commands a channel has seen have a row")
        self.assertEqual(value(m, "vmpower_replies_total", vm="served", result="nack"), 0)
        self.assertEqual(value(m, "vmpower_replies_total", vm="served", result="answer"), 0)
        self.assertEqual(value(m, "vmpower_nacks_total", vm="refused", reason="not_allowed"), 1)
        self.assertNotIn('vm="served"', "".join(samples(m, "vmpower_nacks_total")))
        self.assertEqual(value(m, "vmpower_cpu_held_frequency_hertz", cpu="1"), 3400000000)
        self.assertEqual(value(m, "vmpower_cpu_holders", cpu="1"), 1)
        self.assertEqual(value(m, "vmpower_cpu_holders", cpu="2"), 0)
        self.assertNotIn('cpu="2"', "".join(samples(m, "vmpower_cpu_held_frequency_hertz")))
        self.assertEqual(value(m, "vmpower_cpufreq_policy_stakeholders", policy="policy2"), 1)
        self.assertEqual(value(m, "vmpower_libvirt_connected"), 1)
        self.assertEqual(value(m, "vmpower_build_info"), 1)

        # The dashboard shipped in data/ plots only metrics the agent has.
        dashboard = os.path.join(vmptest.ROOT, "data", "vmpower-grafana-dashboard.json")
        with open(dashboard) as f:
            exprs = [t["expr"] for p in json.load(f)["panels"] for t in p["targets"]]
        families = set(re.findall(r"^# TYPE (\S+)", m, re.M))
        used = {n for e in exprs for n in re.findall(r"\bvmpower_\w+", e)}
        self.assertTrue(used)
        # Energy families exist only with a powercap tree (unavailable is not
        # zero): this fixture has none; tests/vm/energy_vm_test.py sees them.
        energy = {"vmpower_vm_energy_joules_total", "vmpower_vm_power_watts",
                  "vmpower_vm_idle_energy_joules_total", "vmpower_energy_idle_mode"}
        self.assertEqual(families & energy, set())
        self.assertEqual(used - families - energy, set(),
                         "the dashboard plots metrics the agent lacks")
        # docs/metrics.md lists every family, and every command and reason seen.
        with open(os.path.join(vmptest.ROOT, "docs", "metrics.md")) as f:
            doc = f.read()
        self.assertEqual({n for n in families if f"`{n}`" not in doc}, set(),
                         "metrics missing from docs/metrics.md")

        # More records: each counter moves by what was sent, under its label.
        query = bytearray(vmptest.record(0))
        struct.pack_into("<I", query, 12, QUERY_FREQ_LIST)
        self.qemu["served"].send(bytes(query))
        self.qemu["refused"].send(vmptest.record(MAX_UNIT) + vmptest.record(99))

        def moved():
            m = self.ctl("metrics").stdout
            try:
                return value(m, "vmpower_nacks_total", vm="refused", reason="malformed") == 1
            except AssertionError:
                return False
        vmptest.wait_for(moved, what="the malformed record's NACK counted")
        m = self.ctl("metrics").stdout
        self.assertEqual(value(m, "vmpower_nacks_total", vm="refused", reason="not_allowed"), 2)
        self.assertEqual(value(m, "vmpower_replies_total", vm="refused", result="nack"), 3)
        self.assertEqual(value(m, "vmpower_requests_total", vm="refused", command="max"), 2)
        self.assertEqual(value(m, "vmpower_requests_total", vm="refused", command="CPU_POWER"), 1)
        self.assertEqual(value(m, "vmpower_requests_total", vm="served",
                               command="QUERY_FREQ_LIST"), 1)
        self.assertEqual(value(m, "vmpower_replies_total", vm="served", result="answer"), 1)
        self.assertEqual(value(m, "vmpower_peer_check_refusals_total"), 1)
        check = promtool(m)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        words = set(re.findall(r'(?:command|reason)="([^"]+)"', m))
        self.assertEqual({w for w in words if f"`{w}`" not in doc}, set(),
                         "commands or reasons missing from docs/metrics.md")

        # The textfile: written atomically every second, the same families.
        def fresh_file():
            try:
                with open(self.textfile) as f:
                    return 'result="ack"} 1' in f.read()
            except FileNotFoundError:
                return False
        vmptest.wait_for(fresh_file, timeout=10, what="the textfile shows the ACK")
        with open(self.textfile) as f:
            text = f.read()
        check = promtool(text)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual(set(re.findall(r"^# TYPE (\S+)", text, re.M)),
                         set(re.findall(r"^# TYPE (\S+)", m, re.M)))
        self.assertFalse(os.path.exists(self.textfile + ".tmp"))

        # A reload that fails is counted, and changes nothing else.
        with open(self.agent.config, "a") as f:
            f.write("  - name: [unclosed\n")
        self.assertEqual(self.ctl("reload").returncode, 1)
        m = self.ctl("metrics").stdout
        self.assertEqual(value(m, "vmpower_config_reloads_total", result="refused"), 1)
        self.assertEqual(value(m, "vmpower_config_reloads_total", result="applied"), 0)

    def test_a_textfile_node_exporter_would_not_read_is_refused(self):
        config = os.path.join(self.scratch.path, "bad.yaml")
        with open(config, "w") as f:
            f.write(f"agent:\n  metrics_textfile: {self.scratch.path}/vmpower.txt\n")
        r = subprocess.run([VMPOWERD, "--connect", "test:///default", "--config", config],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.yaml:2:21: metrics_textfile: node_exporter reads only *.prom files",
                      r.stdout + r.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    VMPOWERD = os.path.abspath(sys.argv.pop(1))
    VMPOWERCTL = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
