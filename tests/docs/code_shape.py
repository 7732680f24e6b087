#!/usr/bin/env python3
"""The shape docs/architecture.md promises for the production code.

Usage: code_shape.py SOURCE_ROOT

1. Rooms: agent/'s rooms are listed in order in docs/architecture.md's
   paragraph "The rooms in order, each including only rooms before it"
   (backticked `agent/NAME`); a quoted #include of a file in agent/ must
   name a file of the same room or of a room listed before it. A room the
   paragraph says "stands aside" may be included from any room. A room
   missing from that paragraph fails, so a new room is placed on purpose.
2. Size: no production .cpp together with its .h over 600 lines, and no
   function body over 80 lines (counted from its opening to its closing
   brace, outside namespaces, classes and extern "C" blocks), in agent/,
   common/, virt/, xml/, tools/ and guest/. Tests, fakes and rigs are not
   production code.
"""
import collections
import os
import re
import sys

MAX_FILE = 600
MAX_FUNCTION = 80
PRODUCTION = ["agent", "common", "virt", "xml", "tools", "guest"]


def is_production(name):
    return (name.endswith((".cpp", ".h", ".c")) and "_test" not in name
            and not name.startswith("fake_") and not name.endswith("_rig.h")
            and name != "test_support.h")


def room_order(root):
    text = open(os.path.join(root, "docs", "architecture.md")).read()
    start = text.index("The rooms in order")
    para = text[start:text.index("\n\n", start)]
    aside = re.findall(r"`agent/([a-z_]+)`[^`]*stands aside", para)
    order = [r for r in re.findall(r"`agent/([a-z_]+)`", para) if r not in aside]
    return order, set(aside)


def strip(line):
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(\\.|[^'\\])*'", "''", line)
    return line.split("//")[0]


def long_functions(path):
    lines = open(path, errors="replace").read().split("\n")
    stack, found = [], []
    for i, raw in enumerate(lines):
        line = strip(raw)
        for ch in line:
            if ch == "{":
                scope = (re.match(r"\s*(namespace\b|extern\b)", line) or
                         (re.match(r"\s*(class|struct|union|enum)\b", line) and "(" not in line))
                stack.append(("scope" if scope else "block", i))
            elif ch == "}" and stack:
                kind, begin = stack.pop()
                if kind == "block" and all(k == "scope" for k, _ in stack):
                    if i - begin + 1 > MAX_FUNCTION:
                        found.append(f"{path}:{begin + 1}: function of {i - begin + 1} lines "
                                     f"(at most {MAX_FUNCTION}): {lines[begin].strip()[:60]}")
    return found


def main():
    root = sys.argv[1]
    problems = []

    order, aside = room_order(root)
    rank = {room: i for i, room in enumerate(order)}
    agent = os.path.join(root, "agent")
    room_of = {}
    for room in sorted(os.listdir(agent)):
        if not os.path.isdir(os.path.join(agent, room)):
            continue
        if room not in rank and room not in aside:
            problems.append(f"agent/{room}: not in docs/architecture.md's room order")
        for name in os.listdir(os.path.join(agent, room)):
            room_of.setdefault(name, room)
    for room in sorted(rank):
        for name in sorted(os.listdir(os.path.join(agent, room))):
            if not is_production(name):
                continue
            for line in open(os.path.join(agent, room, name), errors="replace"):
                m = re.match(r'#include "([^"]+)"', line)
                target = room_of.get(os.path.basename(m.group(1))) if m else None
                if target is None or target in aside or target == room:
                    continue
                if rank.get(target, -1) > rank[room]:
                    problems.append(f"agent/{room}/{name} includes {m.group(1)} of agent/{target}, "
                                    f"a room above it")

    sizes = collections.Counter()
    for top in PRODUCTION:
        for folder, _, names in os.walk(os.path.join(root, top)):
            for name in names:
                if not is_production(name):
                    continue
                path = os.path.join(folder, name)
                sizes[os.path.splitext(path)[0]] += sum(1 for _ in open(path, errors="replace"))
                problems += long_functions(path)
    for stem, n in sorted(sizes.items()):
        if n > MAX_FILE:
            problems.append(f"{stem}.cpp/.h: {n} lines (at most {MAX_FILE})")

    checked = sum(1 for _ in sizes)
    if len(order) < 5 or checked < 100:
        problems.append(f"read too little to judge: {len(order)} rooms, {checked} files")
    for p in problems:
        print(p)
    print(f"{len(order)} rooms in order, {checked} production files: "
          f"{'ok' if not problems else str(len(problems)) + ' problems'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
