#!/usr/bin/env bash
# fuzz/run.sh BUILD_DIR SECONDS
#
# Runs every fuzz target built in BUILD_DIR/fuzz (a build configured with -DSARAB_FUZZ=ON and
# clang) for SECONDS each, on a scratch copy of its seed corpus fuzz/corpus/<name>/, so that
# the committed seeds stay as make_corpus.py wrote them. Prints one line per target with the
# number of inputs executed; exits 1 if any target crashed (or leaked, hung, ran out of
# memory), leaving the input that did it and the log in BUILD_DIR/fuzz/artifacts/<name>/.
# Exits 2 when there is nothing to run. Longer runs: fuzz/README.md.
set -uo pipefail

if [ $# -ne 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$(cd "$1" && pwd) || exit 2
seconds=$2
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

shopt -s nullglob
targets=("$build"/fuzz/*_fuzz)
if [ ${#targets[@]} -eq 0 ]; then
    echo "$0: no fuzz targets in $build/fuzz; configure with -DCMAKE_CXX_COMPILER=clang++ -DSARAB_FUZZ=ON and build" >&2
    exit 2
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/sarab-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

failed=0
for target in "${targets[@]}"; do
    [ -x "$target" ] || continue
    name=$(basename "$target" _fuzz)
    corpus="$scratch/$name"
    artifacts="$build/fuzz/artifacts/$name"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "$source_dir/corpus/$name" ]; then
        cp -r "$source_dir/corpus/$name/." "$corpus/"
    fi
    log="$artifacts/last-run.log"
    "$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
    status=$?
    executions=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [ $status -eq 0 ]; then
        printf '%-14s ok      %12s executions in %ss\n' "$name" "${executions:-?}" "$seconds"
    else
        failed=1
        printf '%-14s FAILED  (exit %d) after %s executions; log: %s\n' "$name" "$status" "${executions:-?}" "$log"
        for artifact in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
            echo "    input: $artifact"
        done
        grep -m 5 -E 'PANIC|ERROR: |runtime error' "$log" | sed 's/^/    /'
    fi
done
exit $failed
