#!/usr/bin/env bash
# virtio-blk, over virtio-mmio (microvm) and over PCI (q35): the disk application reads 64
# sectors of a file-backed disk, writes a pattern to the next 64, flushes (VIRTIO_BLK_F_FLUSH
# negotiated: QEMU keeps a write cache and syncs the file) and reads it back. Its
# checksums must match the file's, before and after, computed here on the host; a read past
# the end is an error. Completions arrive as interrupts (an I/O APIC line on microvm, MSI-X on
# q35), which --log=virtio:debug shows, with VIRTIO_F_EVENT_IDX negotiated (QEMU offers it):
# the device interrupts only for a completion the driver waits for. A device acquired in
# app_main, after start-up, is refused with a clear message. Without --block the declared
# device is bound to nothing: a clear error, status 2.
source "$(dirname "$0")/lib.sh"

checksum() { # FILE OFFSET LENGTH: FNV-1a, 64 bits, as the image computes it
    python3 -c '
import sys
data = open(sys.argv[1], "rb").read()[int(sys.argv[2]):int(sys.argv[2]) + int(sys.argv[3])]
h = 14695981039346656037
for b in data:
    h = ((h ^ b) * 1099511628211) & 0xffffffffffffffff
print("%016x" % h)' "$@"
}

for machine in microvm q35; do
    case "$machine" in
        microvm) completions="completions by I/O APIC interrupt" ;;
        q35) completions="completions by MSI-X interrupt" ;;
    esac
    disk="$work/disk-$machine.img"
    head -c $((2048 * 512)) /dev/urandom >"$disk"
    before="$(checksum "$disk" 0 $((64 * 512)))"
    name="disk-$machine"
    boot "$name" --machine "$machine" --block "data=$disk" tests/platform/virtio/apps/disk -- --sectors=64 --log=virtio:debug || continue
    expect_status "$name" 0
    expect_line "$name" "disk 2048 sectors of 512 bytes"
    expect_line "$name" "read $before"
    expect_line "$name" "flushed"
    expect_line "$name" "a write cache (flushed on block_flush)"
    expect_line "$name" "readback ok"
    expect_line "$name" "past the end: sector out of range"
    expect_line "$name" "acquired after start-up: device unavailable"
    expect_line "$name" "device 'late' acquired after start-up"
    expect_line "$name" "$completions"
    expect_line "$name" "(event index)" # VIRTIO_F_EVENT_IDX negotiated: notifications suppressed
    if ! grep -qE 'device interrupts: [1-9]' "$work/$name.out"; then
        fail "$machine: no device interrupt was taken"
    fi
    wrote="$(sed -n 's/^wrote \([0-9a-f]*\)$/\1/p' "$work/$name.out")"
    after="$(checksum "$disk" $((64 * 512)) $((64 * 512)))"
    if [ -z "$wrote" ] || [ "$wrote" != "$after" ]; then
        fail "$machine: the file holds $after where the image wrote ${wrote:-nothing}"
    fi
done
if boot unbound tests/platform/virtio/apps/disk; then
    expect_status unbound 2
    expect_line unbound "block device 'data'"
fi
finish
