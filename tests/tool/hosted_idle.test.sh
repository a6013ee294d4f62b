#!/usr/bin/env bash
# An idle hosted image costs (almost) no CPU: the hello example, printing twice 1.5 s apart,
# sleeps in the platform's yield in between instead of polling. Its user + system CPU time
# must stay under 15 ms (1% of the 1.5 s), and it must print exactly two "hello" lines and
# exit 0.
set -euo pipefail

build=${SARAB_BUILD_DIR:?SARAB_BUILD_DIR is not set}
hello=$build/apps/hello/hello
if [[ ! -x $hello ]]; then
    echo "FAIL: $hello is not built (ninja -C $build hello)"
    exit 1
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$dir/out

# The image's own CPU time, exactly: from wait4(2), which Linux accounts to the nanosecond
# (bash's `times` is coarser). A watchdog kills it after 30 s.
measure='
import os, signal, subprocess, sys, time
out = open(sys.argv[2], "wb")
started = time.monotonic()
image = subprocess.Popen([sys.argv[1], "--count=2", "--interval=1.5"], stdout=out, stderr=subprocess.STDOUT)
signal.signal(signal.SIGALRM, lambda *_: image.kill())
signal.alarm(30)
_, status, usage = os.wait4(image.pid, 0)
signal.alarm(0)
image.returncode = 0  # reaped above
wall = time.monotonic() - started
code = os.waitstatus_to_exitcode(status)
print(code if code >= 0 else "signal%d" % -code, round(usage.ru_utime * 1e6), round(usage.ru_stime * 1e6), round(wall * 1e6))
'
if ! command -v python3 >/dev/null; then
    echo "FAIL: hosted_idle needs python3 to measure the image's CPU time"
    exit 1
fi
if ! result=$(python3 -c "$measure" "$hello" "$out"); then
    echo "FAIL: could not run and measure $hello"
    exit 1
fi
read -r status user_us sys_us wall_us <<<"$result"
cpu_us=$((user_us + sys_us))
hellos=$(grep -cx 'hello' "$out" || true)
echo "hello: status $status, $hellos hello lines, CPU user ${user_us} us + system ${sys_us} us = ${cpu_us} us in ${wall_us} us"

fail=0
if [[ $status != 0 ]]; then
    echo "FAIL: hello exited with status $status"
    fail=1
fi
if [[ $hellos -ne 2 ]]; then
    echo "FAIL: hello printed $hellos hello lines, not 2; its output:"
    cat "$out"
    fail=1
fi
if ((wall_us < 1500000)); then
    echo "FAIL: hello ended after ${wall_us} us, before its 1.5 s interval"
    fail=1
fi
if ((cpu_us >= 15000)); then
    echo "FAIL: hello used ${cpu_us} us of CPU in a run that mostly sleeps 1.5 s (limit 15000 us, 1%)"
    fail=1
fi
if ((fail)); then
    exit 1
fi
echo "PASS: idle hosted image used ${cpu_us} us of CPU"
