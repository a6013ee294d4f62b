# Shared by the virtio boot tests (*.test.sh here): run an image under QEMU through
# `sarab run -t virtio`, with a deadline, and check what it printed and how it ended.
#
# The images come from the virtio build that `sarab test` made (SARAB_VIRTIO_BUILD_DIR);
# without it, `sarab run` builds them in the default build root. Runs take a lock on the
# build tree, so that two tests never run ninja in it at once (and TCG guests, which keep a
# core busy, run one at a time). A run that outlives its deadline is killed: `timeout` stops
# `sarab`, whose trap stops QEMU; QEMU's pid file is the last resort.
set -euo pipefail

source_dir="${SARAB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
source "$source_dir/tests/lib/build_tree.sh"
use_build_tree virtio "${SARAB_VIRTIO_BUILD_DIR:-}"
deadline="${SARAB_VIRTIO_TEST_TIMEOUT:-120}"
work="$(mktemp -d)"
failures=0

runner="" # a `sarab run` left in the background by the test, if any

# stop_qemu [SIGNAL]: every QEMU this test started, by the pid in its pid file (only if its
# command line names that file), then the `sarab run` around it.
stop_qemu() {
    local signal="${1:-TERM}" pidfile pid
    for pidfile in "$work"/*.pid; do
        [ -f "$pidfile" ] || continue
        pid="$(cat "$pidfile" 2>/dev/null || true)"
        if [ -n "$pid" ] && grep -qaF -- "$pidfile" "/proc/$pid/cmdline" 2>/dev/null; then
            kill "-$signal" "$pid" 2>/dev/null || true
        fi
        rm -f "$pidfile"
    done
    if [ -n "$runner" ]; then
        wait "$runner" 2>/dev/null || true
        runner=""
    fi
}

cleanup() {
    stop_qemu KILL
    rm -rf "$work"
}
trap cleanup EXIT

# boot NAME [sarab run options...] APP [-- BOOT_ARGS...]: runs the image; its console is in
# $work/NAME.out, sarab's messages in $work/NAME.err, its status in STATUS.
boot() {
    local name="$1"
    shift
    mkdir -p "$build_root"
    STATUS=0
    (
        flock 9
        SARAB_QEMU_PIDFILE="$work/$name.pid" timeout -k 10 "$deadline" \
            "$source_dir/sarab" run -t virtio "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null
    ) 9>"$build_root/.virtio-test.lock" || STATUS=$?
    if [ "$STATUS" = 124 ] || [ "$STATUS" = 137 ]; then
        echo "FAIL: $name: no exit within ${deadline} s; QEMU was stopped. Console:"
        cat "$work/$name.out"
        failures=$((failures + 1))
        return 1
    fi
    return 0
}

# start_running NAME [sarab run options...] APP [-- BOOT_ARGS...]: the same as boot, for an
# image that keeps running (a service): started in the background, sarab's pid in `runner`,
# QEMU's in $work/NAME.pid for stop_qemu. The caller holds the lock (lock_virtio_tests).
start_running() {
    local name="$1"
    shift
    SARAB_QEMU_PIDFILE="$work/$name.pid" timeout -k 10 "$deadline" \
        "$source_dir/sarab" run -t virtio "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null &
    runner=$!
}

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# For tests that keep an image running: lock_virtio_tests takes the lock that serialises the
# virtio tests (TCG guests keep a core busy) for the rest of the script; die_showing NAME
# MESSAGE ends the test, showing the console and sarab's messages of the run NAME.
lock_virtio_tests() {
    exec 9>"$build_root/.virtio-test.lock"
    flock 9
}
die_showing() {
    local name="$1"
    shift
    echo "FAIL: $*"
    echo "--- console:"; cat "$work/$name.out" 2>/dev/null || true
    echo "--- messages:"; tail -20 "$work/$name.err" 2>/dev/null || true
    exit 1
}

# expect_status NAME WANT
expect_status() {
    if [ "$STATUS" != "$2" ]; then
        fail "$1: exit status $STATUS, expected $2. Console and messages:"
        cat "$work/$1.out" "$work/$1.err"
    fi
}

# expect_line NAME FIXED-TEXT: the console has a line containing the text.
expect_line() {
    if ! grep -qF -- "$2" "$work/$1.out"; then
        fail "$1: no line with '$2'. Console:"
        cat "$work/$1.out"
    fi
}

finish() {
    if [ "$failures" -gt 0 ]; then
        echo "$failures check(s) failed"
        exit 1
    fi
    echo "PASS"
}
