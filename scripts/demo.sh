#!/bin/sh
# The main job, end to end on this machine: vmpowerd (on a copy of a fixture
# cpufreq tree, since these machines have none) serves a real QEMU guest whose
# vmpower-guest asks to scale its vCPUs; prints each step as it is checked.
set -eu
cd "$(dirname "$0")/.."
exec python3 tests/vm/real_vm_test.py --repo . --vmpowerd build/agent/core/vmpowerd "$@"
