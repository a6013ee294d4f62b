#!/usr/bin/env bash
# W^X, sealing and the null page: a write to the image's text, a jump into the heap, a write
# to the IDT or a page table after start-up, and a read of address 0 each end the image with
# a report that says what happened and where (vector, access, address, registers, a backtrace
# that sarab symbolizes) and exit status 139. A failed VERIFY is an abort (status 134, with its
# message and a backtrace), as is a free() of a pointer into the middle of a block.
source "$(dirname "$0")/lib.sh"

check_fault() {
    local name="$1" detail="$2"
    expect_status "$name" 139
    expect_line "$name" "sarab: CPU exception 14 (#PF page fault)"
    expect_line "$name" "$detail"
    expect_line "$name" "backtrace:"
    if ! grep -q "do_fault" "$work/$name.err"; then
        fail "$name: the symbolized backtrace does not name do_fault. Messages:"
        cat "$work/$name.err"
    fi
}

if boot write-text tests/platform/virtio/apps/probe -- --fault=write-text; then
    check_fault write-text "page fault: write of"
    expect_line write-text "(the image's text (read+execute only): not permitted)"
fi
if boot jump-heap tests/platform/virtio/apps/probe -- --fault=jump-heap; then
    check_fault jump-heap "page fault: execute of"
    expect_line jump-heap "(the heap (no execute): not permitted)"
fi
# Sealing: after start-up the IDT and the page tables are read-only, in ring 0 too (CR0.WP).
if boot write-idt tests/platform/virtio/apps/probe -- --fault=write-idt; then
    check_fault write-idt "page fault: write of"
    expect_line write-idt "(the page tables or descriptor tables (sealed: read-only): not permitted)"
fi
if boot write-page-table tests/platform/virtio/apps/probe -- --fault=write-page-table; then
    check_fault write-page-table "page fault: write of"
    expect_line write-page-table "(the page tables or descriptor tables (sealed: read-only): not permitted)"
fi
if boot null tests/platform/virtio/apps/probe -- --fault=null; then
    check_fault null "page fault: read of 0x0000000000000000 (the null page: not mapped)"
fi
if boot abort tests/platform/virtio/apps/probe -- --fault=abort; then
    expect_status abort 134
    expect_line abort "VERIFY(kind != \"abort\") failed: the probe was asked to abort"
    expect_line abort "backtrace:"
fi
# The heap's page descriptors are cleared as it grows: one never written still says "not the
# start of a block".
if boot bad-free tests/platform/virtio/apps/probe -- --fault=bad-free; then
    expect_status bad-free 134
    expect_line bad-free "free() of a pointer that is not allocated"
fi
finish
