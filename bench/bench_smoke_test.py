#!/usr/bin/env python3
"""The benchmark's seconds-long smoke run (meson suite 'bench-smoke'): runs
scripts/bench.sh --smoke on the build's vmpower-loadgen and vmpowerd and
checks that it printed a sane table. No timing is asserted: speed is the
benchmark's business, not a test's."""
import os
import re
import subprocess
import sys
import tempfile

root, loadgen, vmpowerd = sys.argv[1:4]


def fail(why, output):
    print(output)
    print("FAIL:", why)
    sys.exit(1)


with tempfile.TemporaryDirectory(prefix="vmpb-smoke.", dir="/dev/shm") as out:
    env = dict(os.environ, BENCH_OUT=out, BENCH_LOADGEN=loadgen, BENCH_VMPOWERD=vmpowerd,
               BENCH_TMPDIR=out)
    run = subprocess.run([os.path.join(root, "scripts", "bench.sh"), "--smoke"], env=env,
                         capture_output=True, text=True, timeout=240)
    output = run.stdout + run.stderr
    if run.returncode != 0:
        fail(f"bench.sh --smoke exited {run.returncode}", output)

rows = {}
for line in run.stdout.splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 11 and cells[2] in ("floor", "vmpowerd"):
        rows[(cells[0], cells[1], cells[2])] = cells

for placement in ("same CPU", "across CPUs"):
    for channels in ("1", "4"):
        for server in ("floor", "vmpowerd"):
            row = rows.get((placement, channels, server))
            if row is None:
                fail(f"no row for {server}, {placement}, {channels} channels", output)
            # p50, p99, p99.9, req/s: numbers (a range "a–b" with several runs)
            for cell in row[3:7]:
                if not re.fullmatch(r"[0-9.]+(–[0-9.]+)?", cell):
                    fail(f"not a figure: {cell!r} in {row}", output)
            good, bad, lost = (int(x) for x in row[10].split("/"))
            if good == 0 or bad != 0 or lost != 0:
                fail(f"replies good/bad/lost = {row[10]} in {row}", output)
            if server == "vmpowerd" and not re.fullmatch(r"[0-9.]+(–[0-9.]+)?", row[7]):
                fail(f"no ratio to the floor in {row}", output)

for key in ("connect_all_ms=", "rss_kb=", "idle_cpu_pct=", "startup_cpu_ms="):
    if not re.search(re.escape(key) + r"[0-9]", run.stdout):
        fail(f"no {key} figure", output)
if "DPDK vm_power_manager:" not in run.stdout:
    fail("the table does not say what became of DPDK's host", output)
print(run.stdout)
