#!/usr/bin/env bash
# The sandbox target (docs/sandbox.md): the hosted executable, sealed by seccomp when start-up
# ends. `sarab run -t sandbox` runs hello as hosted does; an image that does only what its
# devices need is left alone (heap, timers, clock, the socket stack, a file-backed block
# device); and each thing a sandbox must refuse (opening a file, running a program, making a
# process, mapping memory executable, a socket other than IPv4) stops the image by SIGSYS with
# a report that names the system call; a panic is reported as on hosted.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_apps examples/hello tests/platform/sandbox/apps/escape tests/platform/virtio/apps/disk
escape="$sandbox_dir/apps/escape/escape"
disk="$sandbox_dir/apps/disk/disk"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# hello through the command users run.
status=0
sarab_locked run -t sandbox examples/hello -- --count=2 --interval=0.05 >"$work/hello.out" 2>"$work/hello.err" || status=$?
[ "$status" -eq 0 ] || fail "sarab run -t sandbox examples/hello exited $status: $(cat "$work/hello.err")"
[ "$(cat "$work/hello.out")" = "$(printf 'hello\nhello')" ] || fail "hello printed: $(cat "$work/hello.out")"

# An ordinary image: nothing refused.
status=0
"$escape" --try=nothing >"$work/nothing.out" 2>&1 || status=$?
[ "$status" -eq 0 ] || fail "escape --try=nothing exited $status: $(cat "$work/nothing.out")"
grep -q "escape: nothing tried; heap 100000 ints" "$work/nothing.out" || fail "escape --try=nothing: $(cat "$work/nothing.out")"

# What a sandbox refuses: status 128 + SIGSYS (31), and the call named.
for case in open:openat exec:execve fork:clone exec-memory:mmap packet-socket:socket; do
    attempt="${case%%:*}" call="${case#*:}"
    status=0
    "$escape" --try="$attempt" >"$work/$attempt.out" 2>"$work/$attempt.err" || status=$?
    [ "$status" -eq 159 ] || fail "--try=$attempt: status $status, not 159 (SIGSYS): $(cat "$work/$attempt.out" "$work/$attempt.err")"
    grep -q "sandbox: the image made system call $call ([0-9]*), which the sandbox does not allow" "$work/$attempt.err" ||
        fail "--try=$attempt: no report naming $call: $(cat "$work/$attempt.err")"
    grep -q "^backtrace:" "$work/$attempt.err" || fail "--try=$attempt: no backtrace"
    if grep -q "was allowed" "$work/$attempt.out"; then
        fail "--try=$attempt was allowed"
    fi
done

# A panic in a sealed image: its message and backtrace, then SIGABRT (128 + 6), as on hosted.
status=0
"$escape" --try=panic >"$work/panic.out" 2>"$work/panic.err" || status=$?
[ "$status" -eq 134 ] || fail "--try=panic: status $status, not 134 (SIGABRT): $(cat "$work/panic.err")"
grep -q "escape: a panic in a sealed image" "$work/panic.err" || fail "--try=panic: no message: $(cat "$work/panic.err")"
grep -q "^backtrace:" "$work/panic.err" || fail "--try=panic: no backtrace: $(cat "$work/panic.err")"
if grep -q "sandbox: the image made system call" "$work/panic.err"; then
    fail "--try=panic: the panic's report made a refused call: $(cat "$work/panic.err")"
fi

# A file-backed block device: read, written and read back through the sealed process; the file
# holds what was written.
python3 -c "import os, sys; open(sys.argv[1], 'wb').write(os.urandom(256 * 512))" "$work/disk.img"
status=0
"$disk" --dev=data=file:"$work/disk.img" --sectors=64 >"$work/disk.out" 2>&1 || status=$?
[ "$status" -eq 0 ] || fail "disk exited $status: $(cat "$work/disk.out")"
python3 - "$work/disk.img" "$work/disk.out" <<'PY' || failures=$((failures + 1))
import sys
image = open(sys.argv[1], "rb").read()
out = open(sys.argv[2]).read()
def fnv1a(data):
    h = 14695981039346656037
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h
n = 64 * 512
expected = [f"read {fnv1a(image[:n]):016x}", f"wrote {fnv1a(image[n:2 * n]):016x}", "readback ok"]
missing = [line for line in expected if line not in out]
if missing:
    sys.exit(f"FAIL: disk: missing {missing} in:\n{out}")
PY

if [ "$failures" -ne 0 ]; then
    echo "sandbox: $failures checks failed"
    exit 1
fi
echo "sandbox: all checks passed"
