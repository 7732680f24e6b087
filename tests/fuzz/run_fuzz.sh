#!/bin/sh
# run_fuzz.sh TARGET SEED_DIR SECONDS MODE
# MODE libfuzzer: fuzz for SECONDS from the seed corpus (new inputs go to a
# scratch dir, never into the source tree). MODE replay: replay the seeds.
set -eu
target=$1 seeds=$2 seconds=$3 mode=$4
if [ "$mode" = libfuzzer ]; then
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    exec_status=0
    # libFuzzer's own exit code for a finding is 77, which meson reads as
    # SKIP: a crash, a sanitizer report or a timeout must be a failure (1).
    "$target" "$scratch" "$seeds" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 || exec_status=$?
    exit $exec_status
fi
exec "$target" "$seeds"
