#!/usr/bin/env bash
# Firecracker's kernel command line, on microvm: Firecracker names its virtio-mmio devices
# with `virtio_mmio.device=SIZE@BASE:IRQ` words and adds Linux's own (`console=ttyS0 reboot=k
# panic=1 pci=off` ...). None of them may reach the application's boot-argument parser; a
# named device is probed at that address with that line. QEMU's microvm puts the first
# -device (the default user NIC) on virtio-mmio slot 23 and the disk on slot 22, at
# 0xfeb00000 + 22 * 0x200 = 0xfeb02c00 and GSI 24 + 22 = 46 (microvm's second I/O APIC):
# naming that slot on the command line must find the disk there once, not twice, and its
# completions must still arrive as interrupts. A word naming an empty address finds nothing;
# a malformed one, or one in RAM (mapping it would break W^X), is a warning, not a failure; a
# word after `--` is the application's.
source "$(dirname "$0")/lib.sh"

linux_words="console=ttyS0 reboot=k panic=1 pci=off nomodules 8250.nr_uarts=0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd root=/dev/vda rw"
disk="$work/disk.img"
head -c $((2048 * 512)) /dev/urandom >"$disk"

# shellcheck disable=SC2086 # the words are meant to be split
if boot named --block "data=$disk" tests/platform/virtio/apps/disk -- --sectors=8 --log=virtio:debug \
    $linux_words virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=512@0xfeb02c00:46 virtio_mmio.device=512@nowhere \
    virtio_mmio.device=4K@0x200000:5; then
    expect_status named 0
    expect_line named "readback ok"
    expect_line named "a virtio-mmio device of 512 bytes at 0xfeb02c00, IRQ 46"
    expect_line named "found a virtio block device at virtio-mmio 0xfeb02c00"
    expect_line named "found a virtio net device at virtio-mmio slot 23"
    expect_line named "'virtio_mmio.device=512@nowhere' is not a usable virtio-mmio device"
    expect_line named "the virtio-mmio device at 0x200000 (4096 bytes) is in RAM" # 2 MiB: the image's RAM
    expect_line named "completions by I/O APIC interrupt"
    for word in $linux_words; do
        expect_line named "'$word' is Linux's, ignored"
    done
    if [ "$(grep -c 'found a virtio block device' "$work/named.out")" != 1 ]; then
        fail "named: the disk was found more than once:"
        grep 'found a virtio' "$work/named.out"
    fi
    if ! grep -qE 'device interrupts: [1-9]' "$work/named.out"; then
        fail "named: no device interrupt was taken"
    fi
fi

# Only Linux's words, as Firecracker's defaults: the image boots as without them.
# shellcheck disable=SC2086
if boot defaults examples/hello -- --count=1 $linux_words; then
    expect_status defaults 0
    expect_line defaults "hello"
fi

# After `--` every word is the application's: `console=ttyS0` is then an unexpected argument.
if boot separator examples/hello -- reboot=k -- console=ttyS0; then
    expect_status separator 2
    expect_line separator "unexpected 'console=ttyS0'"
fi
finish
