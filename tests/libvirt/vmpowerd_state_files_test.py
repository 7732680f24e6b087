#!/usr/bin/env python3
"""State files are never followed nor waited on, on libvirt's test driver:
symbolic links planted at every file vmpowerd keeps (the restore journal,
energy.json, intents.json, the metrics textfile and its temporary)
and a FIFO at the textfile's temporary name. vmpowerd logs a refusal naming
each file, keeps running (`ping` answers, the guest is answered), and every
link's target stays as it was.
Usage: vmpowerd_state_files_test.py PATH/TO/vmpowerd"""

import os
import shutil
import stat
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmptest  # noqa: E402

VMPOWERD = None
MAX_UNIT = 3
STATE_FILES = ("cpufreq-journal", "energy.json", "intents.json")


class StateFiles(unittest.TestCase):
    def setUp(self):
        self.scratch = vmptest.Scratch()
        self.agent = None
        path = self.scratch.path
        uri, self.qemu = vmptest.test_driver_guests(self.scratch, {"vm1": "1"})
        pids = os.path.join(path, "pids")
        os.makedirs(pids)
        with open(os.path.join(pids, "vm1.pid"), "w") as f:
            f.write(f"{os.getpid()}\n")
        # cpufreq and a powercap tree, so that energy.json is read too.
        sysfs = os.path.join(path, "sys")
        fixtures = os.path.join(vmptest.ROOT, "tests", "fixtures", "sysfs")
        shutil.copytree(os.path.join(fixtures, "acpi-cpufreq"), sysfs, symlinks=True)
        shutil.copytree(os.path.join(fixtures, "rapl-one-package"), sysfs, symlinks=True,
                        dirs_exist_ok=True)

        # Every link points at a file of its own that must stay as it is.
        self.targets = {}
        os.makedirs(os.path.join(path, "targets"))
        state = os.path.join(path, "state")
        os.makedirs(state)
        textdir = os.path.join(path, "textfiles")
        os.makedirs(textdir)
        self.textfile = os.path.join(textdir, "vmpower.prom")
        self.links = [os.path.join(state, n) for n in STATE_FILES]
        self.links += [self.textfile, self.textfile + ".tmp"]
        for link in self.links:
            target = os.path.join(path, "targets", os.path.basename(link))
            with open(target, "w") as f:
                f.write(f"untouched {link}\n")
            self.targets[link] = target
            os.symlink(target, link)

        self.agent = vmptest.Agent(
            VMPOWERD, self.scratch, uri=uri, sysfs_exists_ok=True,
            agent_extra=(f"  verify_channel_peer: true\n  qemu_pid_dir: {pids}\n"
                         "  host_cpus: \"\"\n  energy_interval: 0.2\n"
                         f"  metrics_textfile: {self.textfile}\n  metrics_interval: 1\n"))

    def tearDown(self):
        vmptest.close_test_driver(self.agent, self.qemu, self.scratch,
                                  sys.exc_info()[0] is not None)

    def logged(self, text):
        vmptest.wait_for(lambda: text in self.agent.log_text(), what=f"the log line {text!r}")

    def alive(self):
        self.assertIsNone(self.agent.proc.poll(), "vmpowerd exited")
        start = time.monotonic()
        self.assertTrue(self.agent.request({"cmd": "ping"}).get("ok"))
        self.assertLess(time.monotonic() - start, 1.0, "ping answered late")

    def targets_untouched(self):
        for link, target in self.targets.items():
            with open(target) as f:
                self.assertEqual(f.read(), f"untouched {link}\n", f"{target} was written")

    def test_links_and_a_fifo_at_the_state_files_are_refused_not_followed(self):
        state = os.path.join(self.scratch.path, "state")
        journal = os.path.join(state, "cpufreq-journal")
        kept = os.path.join(state, "intents.json")

        # At start: each link found is refused with its name.
        self.logged(f"{journal} cannot be read: {journal}: is a symbolic link")
        self.logged(f"{kept}: not read: {kept}: is a symbolic link; refusing to read it")
        self.logged(f"{self.textfile}: is a symbolic link; refusing to replace it")
        energy = os.path.join(state, "energy.json")
        if "energy accounting unavailable" not in self.agent.log_text():
            self.logged(f"{energy}: is a symbolic link; refusing to read it")
        self.alive()
        # The journal's link was moved aside whole (never followed).
        self.assertTrue(os.path.islink(journal + ".corrupt"))

        # The journal, while running: a guest's request is refused, not
        # journaled through a link planted again.
        os.symlink(self.targets[journal], journal)
        vm1 = self.qemu["vm1"]

        def connected():
            vm1.accept_pending()
            return vm1.conn is not None
        vmptest.wait_for(connected, what="the agent connected vm1's channel")
        vm1.send(vmptest.record(MAX_UNIT))
        self.logged(f"{journal}: is a symbolic link; refusing to replace it")
        self.alive()
        os.unlink(journal)  # the journal works again (the policy below needs it)

        # intents.json: its link was set aside at start (never followed);
        # one planted again is refused at the (coalesced) write.
        self.assertTrue(any(n.startswith("intents.json.corrupt-") for n in os.listdir(state)))
        if os.path.lexists(kept):
            os.unlink(kept)  # the store written anew since
        os.symlink(self.targets[kept], kept)
        r = self.agent.request({"cmd": "set-policy", "name": "vm1", "type": "workload",
                                "vcpus": "0", "workload": "high"})
        self.assertTrue(r.get("ok"), r)
        self.logged(f"{kept}: intents not kept: {kept}: is a symbolic link")

        # The textfile's own link removed: written beside the link planted at
        # the temporary name, which is replaced, not followed.
        os.unlink(self.textfile)
        vmptest.wait_for(lambda: os.path.isfile(self.textfile) and
                         not os.path.islink(self.textfile), what="the textfile written")
        self.assertFalse(os.path.lexists(self.textfile + ".tmp"))

        # A FIFO at the temporary name neither hangs the agent nor stops
        # the next write.
        written = os.stat(self.textfile).st_mtime_ns
        os.mkfifo(self.textfile + ".tmp")
        vmptest.wait_for(lambda: os.stat(self.textfile).st_mtime_ns != written,
                         what="the textfile written again after a FIFO was planted")
        self.assertFalse(os.path.lexists(self.textfile + ".tmp") and
                         stat.S_ISFIFO(os.lstat(self.textfile + ".tmp").st_mode))
        self.alive()
        self.targets_untouched()
        self.assertTrue(os.path.islink(kept), f"{kept} was replaced")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    VMPOWERD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
