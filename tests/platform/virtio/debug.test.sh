#!/usr/bin/env bash
# `sarab debug -t virtio` starts QEMU's gdb stub and gdb with the image's symbols, and stops in
# the application's entry (sarab::app_main) with a backtrace down to the boot code. gdb is
# driven from a script on its standard input; the deadline applies as for every boot test.
source "$(dirname "$0")/lib.sh"

port=$((20000 + RANDOM % 20000))
commands=$'bt 8\nkill\nquit\n'
status=0
(
    flock 9
    printf "%s" "$commands" | SARAB_GDB_PORT="$port" SARAB_QEMU_PIDFILE="$work/debug.pid" timeout -k 10 "$deadline" \
        "$source_dir/sarab" debug -t virtio examples/hello -- --count=1 >"$work/debug.out" 2>&1
) 9>"$build_root/.virtio-test.lock" || status=$?
if [ "$status" = 124 ] || [ "$status" = 137 ]; then
    fail "sarab debug did not finish within ${deadline} s"
fi
if ! grep -q "Breakpoint 1.*sarab::app_main" "$work/debug.out"; then
    fail "gdb did not stop in sarab::app_main. Output:"
    cat "$work/debug.out"
elif ! grep -q "sarab_virtio_start" "$work/debug.out"; then
    fail "the backtrace from app_main does not reach sarab_virtio_start. Output:"
    cat "$work/debug.out"
fi
finish
