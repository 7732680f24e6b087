#!/usr/bin/env python3
"""Prints scripts/bench.sh's table from vmpower-loadgen's key=value lines.

Ratios are to the floor of the same run, placement and channel count (the
machine is shared: only ratios within one run mean much); each cell shows
the runs' range "min–max" (one value when the runs agree or there is one).
"""
import sys
from collections import defaultdict


def parse(path):
    rows = []
    with open(path) as f:
        for line in f:
            kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
            if kv:
                rows.append(kv)
    return rows


def span(values, fmt="{:.0f}"):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    lo, hi = min(values), max(values)
    a, b = fmt.format(lo), fmt.format(hi)
    return a if a == b else f"{a}–{b}"


def main(latency_path, scale_path=None, notes_path=None):
    rows = parse(latency_path)
    # (placement, channels, server) -> run -> row
    cells = defaultdict(dict)
    for r in rows:
        cells[(r["placement"], int(r["channels"]), r["server"])][r["run"]] = r
    print("| placement | channels | server | p50 µs | p99 µs | p99.9 µs | req/s "
          "| p50 × floor | p99 × floor | req/s × floor | good / bad / lost |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
    servers = ["floor", "vmpowerd", "dpdk"]
    names = {"same": "same CPU", "across": "across CPUs"}
    for placement in ["same", "across"]:
        for ch in sorted({k[1] for k in cells if k[0] == placement}):
            floor = cells.get((placement, ch, "floor"), {})
            for server in servers:
                runs = cells.get((placement, ch, server))
                if not runs:
                    continue
                ok = {k: v for k, v in runs.items() if "error" not in v}
                def vals(key):
                    return [float(v[key]) for v in ok.values()]
                def ratio(key):
                    out = []
                    for run, v in ok.items():
                        f = floor.get(run)
                        if f and "error" not in f and float(f[key]) > 0:
                            out.append(float(v[key]) / float(f[key]))
                    return out
                err = "; ".join(v["error"] for v in runs.values() if "error" in v)
                counts = " + ".join(f'{v["good"]}/{v["bad"]}/{v["lost"]}' for v in ok.values())
                if server == "floor":
                    rat = ["1", "1", "1"]
                else:
                    rat = [span(ratio("p50_us"), "{:.2f}"), span(ratio("p99_us"), "{:.2f}"),
                           span(ratio("rps"), "{:.2f}")]
                print(f"| {names[placement]} | {ch} | {server} | {span(vals('p50_us'))} "
                      f"| {span(vals('p99_us'))} | {span(vals('p999_us'))} | {span(vals('rps'))} "
                      f"| {rat[0]} | {rat[1]} | {rat[2]} | {counts or err} |")
    if scale_path:
        print()
        print("| scale | runs |")
        print("|---|---|")
        for line in open(scale_path):
            line = line.strip()
            if line:
                name, _, value = line.partition(": [")  # labels hold ": " too
                print(f"| {name} | [{value} |")
    if notes_path:
        for line in open(notes_path):
            if line.strip():
                print(line.rstrip())


if __name__ == "__main__":
    main(*sys.argv[1:])
