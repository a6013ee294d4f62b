#!/usr/bin/env bash
# `sarab debug -t virtio` starts QEMU's gdb stub and gdb with the image's symbols, and stops in
# the application's entry (sarab::app_main) with a backtrace down to the boot code, or where
# --break says. gdb is driven from a script on its standard input; the deadline applies as for
# every boot test.
#
# The stops are also where the page tables are checked, as the CPU walks them
# (page_tables.py): no page is both writable and executable, and text is not writable, at the
# first C++ instruction of start-up (the tables entry.S wrote before it turned paging on) and
# when the application starts (sealed); by then the null page is not mapped either.
source "$(dirname "$0")/lib.sh"

# debug NAME [sarab debug options...]: gdb's output in $work/NAME.out.
debug() {
    local name="$1" status=0
    shift
    local port=$((20000 + RANDOM % 20000))
    local commands
    commands="source $source_dir/tests/platform/virtio/page_tables.py"$'\n'"check-page-tables $name"$'\nbt 8\nkill\nquit\n'
    (
        flock 9
        printf "%s" "$commands" | SARAB_GDB_PORT="$port" SARAB_QEMU_PIDFILE="$work/$name.pid" timeout -k 10 "$deadline" \
            "$source_dir/sarab" debug -t virtio "$@" examples/hello -- --count=1 >"$work/$name.out" 2>&1
    ) 9>"$build_root/.virtio-test.lock" || status=$?
    if [ "$status" = 124 ] || [ "$status" = 137 ]; then
        fail "sarab debug ($name) did not finish within ${deadline} s"
    fi
}

# expect_tables NAME PATTERN...: the check-page-tables line of NAME has each PATTERN.
expect_tables() {
    local name="$1" line pattern
    shift
    line="$(grep -a "page tables $name:" "$work/$name.out" | sed 's/^.*page tables/page tables/' || true)"
    for pattern in "$@"; do
        if ! grep -q -- "$pattern" <<<"$line"; then
            fail "$name: the page tables do not show '$pattern': ${line:-no check-page-tables line}. Output:"
            cat "$work/$name.out"
            return
        fi
    done
}

debug app_main
if ! grep -q "Breakpoint 1.*sarab::app_main" "$work/app_main.out"; then
    fail "gdb did not stop in sarab::app_main. Output:"
    cat "$work/app_main.out"
elif ! grep -q "sarab_virtio_start" "$work/app_main.out"; then
    fail "the backtrace from app_main does not reach sarab_virtio_start. Output:"
    cat "$work/app_main.out"
fi
expect_tables app_main " 0 writable and executable" "null page not mapped" "text writable: 0"

debug entry --break sarab_virtio_start
if ! grep -q "Breakpoint 1.*sarab_virtio_start" "$work/entry.out"; then
    fail "gdb did not stop in sarab_virtio_start with --break. Output:"
    cat "$work/entry.out"
fi
expect_tables entry " 0 writable and executable" "text writable: 0"
finish
