#!/bin/sh
# The main job, told to a person: a tiny QEMU guest asks for CPU speed and
# vmpowerd changes the pCPU behind its vCPU (on a copy of a cpufreq tree;
# nothing of this host's cpufreq or domains is touched). Needs scripts/setup.sh.
set -eu
cd "$(dirname "$0")/.."
trap 'scripts/libvirtd.sh stop' EXIT
python3 scripts/demo.py "$@"
