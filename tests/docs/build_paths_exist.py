#!/usr/bin/env python3
"""Every build path README.md, docs/*.md and the man pages name exists.

Usage: build_paths_exist.py SOURCE_ROOT BUILD_ROOT

A build path is a word starting with one of the trees scripts/setup.sh makes,
build/, build-asan/ or build-static-guest/ (build-bench/ is made by
scripts/bench.sh when it runs, not by set-up: not a build path here). It ends
at whitespace, a quote, a backtick or a bracket; a trailing . , : ; is
punctuation and a trailing * or _ scdoc's bold or underline, not part of it
(scdoc's \\_ counts as _).

Where each tree is looked for: SOURCE_ROOT/TREE when that is a configured
tree (it has build.ninja), as it is after scripts/setup.sh, which CI runs
before the tests: then every path is checked in the tree it names. A tree
that is not configured here (a developer's checkout often has build/ only)
is stood in for by BUILD_ROOT, the tree this test runs in: the three trees
are configurations of one meson.build, and meson puts an output at the same
path whatever the options, so a path that is wrong is wrong in every tree.
What only CI can see is an output the stand-in tree does not build (the
static guest's options, ASan's fuzz targets): such a path passes here and is
checked for real in CI. Nothing is skipped; the output says which tree stood
in for which.

What a path must be:
  - a bare tree (`build/`) names the tree: it must be a configured tree;
  - a path ending in / must be a directory;
  - a path with a wildcard (* or ?) or a placeholder (<name>) is a pattern:
    at least one file must match it (a placeholder matches like *);
  - anything else must exist (file or directory).
"""
import glob
import os
import re
import sys

TREES = ("build", "build-asan", "build-static-guest")
PATH = re.compile(r"(?<![A-Za-z0-9./-])(" + "|".join(re.escape(t) for t in TREES) +
                  r")/([^\s`'\"()\[\]{}]*)")
# A placeholder such as <domain>, and the characters that make a glob.
PLACEHOLDER = re.compile(r"<[^<>/]*>")
WILDCARD = re.compile(r"[*?]")


def documents(source_root):
    names = ["README.md"]
    for folder, suffix in (("docs", ".md"), ("man", ".scd")):
        for name in sorted(os.listdir(os.path.join(source_root, folder))):
            if name.endswith(suffix):
                names.append(os.path.join(folder, name))
    return names


def named_paths(source_root):
    """(document, line number, tree, path inside the tree) of every build path."""
    for doc in documents(source_root):
        with open(os.path.join(source_root, doc), encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                for m in PATH.finditer(line.replace("\\_", "_")):
                    yield doc, number, m.group(1), m.group(2).rstrip(".,:;*_")


def configured(tree):
    return os.path.isfile(os.path.join(tree, "build.ninja"))


def problem(root, rest):
    """Why ROOT/REST does not satisfy the rules above, or None."""
    if rest == "":
        return None if configured(root) else "is not a configured build tree"
    pattern = PLACEHOLDER.sub("*", rest)
    full = os.path.join(root, pattern)
    if WILDCARD.search(pattern):
        return None if glob.glob(full) else "matches nothing"
    if rest.endswith("/"):
        return None if os.path.isdir(full) else "is not a directory"
    return None if os.path.exists(full) else "does not exist"


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    source_root, build_root = sys.argv[1], sys.argv[2]
    roots = {}
    for tree in TREES:
        own = os.path.join(source_root, tree)
        roots[tree] = own if configured(own) else build_root
        if roots[tree] != own:
            print(f"{tree}/ is not configured in {source_root}: {build_root} stands in for it")
    failures = 0
    checked = 0
    for doc, number, tree, rest in named_paths(source_root):
        checked += 1
        why = problem(roots[tree], rest)
        if why:
            failures += 1
            print(f"{doc}:{number}: {tree}/{rest} {why} (looked in {roots[tree]})")
    print(f"{checked} build paths named, {failures} wrong")
    if checked == 0:
        print("no build path found: the pattern or the documents moved")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
