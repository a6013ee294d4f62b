#!/usr/bin/env bash
# The application's exit status is the status of `sarab run -t virtio`: 3 and 0, and 200, which
# isa-debug-exit alone cannot carry ((200 << 1) | 1 does not fit in a byte: docs/virtio.md).
source "$(dirname "$0")/lib.sh"

for want in 3 0 200; do
    boot "status-$want" tests/platform/virtio/apps/probe -- --status="$want" || continue
    expect_status "status-$want" "$want"
done
# A bad boot argument is the same error as on hosted: status 2 and a message.
if boot bad-argument tests/platform/virtio/apps/probe -- --no-such-argument=1; then
    expect_status bad-argument 2
    expect_line bad-argument "unknown boot argument '--no-such-argument'"
fi
finish
