#!/usr/bin/env bash
# Runaway recursion runs into the guard page below the main stack. The page fault is taken on
# its own interrupt stack, so it can still be reported: as a stack overflow, with the recursion
# folded in the backtrace, and exit status 139.
source "$(dirname "$0")/lib.sh"

if boot overflow tests/platform/virtio/apps/probe -- --fault=recurse; then
    expect_status overflow 139
    expect_line overflow "sarab: stack overflow: the main stack ran into its guard page"
    expect_line overflow "more times"
    if ! grep -q "recurse" "$work/overflow.err"; then
        fail "the symbolized backtrace does not name recurse. Messages:"
        cat "$work/overflow.err"
    fi
fi
finish
