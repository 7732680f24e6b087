#!/usr/bin/env python3
"""Every option and command a program's --help lists appears in its man page.

Usage: man_matches_help.py PAGE.scd PROGRAM [PAGE.scd PROGRAM ...]

Commands come from CLI11's "Subcommands:" section (each is asked for its own
--help too) or from vmpowerctl's "Commands" list; options are the -x/--xyz
words that start an option line. A page "names" a word when the word occurs
in it outside a longer word (scdoc's \\_ counts as _).
"""
import re
import subprocess
import sys

OPTION_LINE = re.compile(r"^\s+((?:-\w,)?--[\w-]+|-\w)\b")
WORD = re.compile(r"--?[\w-]+")


def help_text(argv):
    run = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=30)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} --help exited {run.returncode}: {run.stderr}")
    return run.stdout


def options(text):
    found = set()
    for line in text.splitlines():
        m = OPTION_LINE.match(line)
        if m:
            found.update(WORD.findall(m.group(1)))
    return found


def commands(text):
    found = []
    section = None
    for line in text.splitlines():
        if not line.startswith(" "):
            section = line
            continue
        if section and (section.startswith("Subcommands:") or section.startswith("Commands")):
            m = re.match(r"^  ([a-z][\w-]*)", line)
            if m:
                found.append(m.group(1))
    return section_kind(text), found


def section_kind(text):
    return "cli11" if "\nSubcommands:" in text else "table"


def names(page_text, word):
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", page_text) is not None


def check(page, program):
    with open(page, encoding="utf-8") as f:
        page_text = f.read().replace("\\_", "_")
    top = help_text([program])
    kind, cmds = commands(top)
    wanted = {f"option {o}": o for o in options(top)}
    for c in cmds:
        wanted[f"command {c}"] = c
        if kind == "cli11":
            for o in options(help_text([program, c])):
                wanted[f"option {o} (of {c})"] = o
    missing = sorted(what for what, word in wanted.items() if not names(page_text, word))
    if not wanted:
        return [f"{program}: --help listed nothing (parser out of date?)"]
    return [f"{page}: does not name {what} from {program} --help" for what in missing]


def main(argv):
    if len(argv) < 3 or len(argv) % 2 == 0:
        raise SystemExit(__doc__)
    problems = []
    pairs = list(zip(argv[1::2], argv[2::2]))
    for page, program in pairs:
        problems += check(page, program)
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"ok: {len(pairs)} man pages name everything their programs' --help lists")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
