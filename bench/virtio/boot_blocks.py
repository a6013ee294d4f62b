#!/usr/bin/env python3
"""The code a virtio image runs for the first time on its way to its first console line, as
QEMU's TCG sees it: boots the image once under TCG on microvm with QEMU's `-d in_asm` log and
counts the translation blocks (TBs) translated from the PVH entry (sarab_pvh_entry) up to the
first block of serial_write, the guest instructions in them, and those of the instructions
that touch memory. Under TCG each such block costs its translation, about 3.9 us here, and
each instruction that touches memory about 0.5 us more, for the loads and stores through the
emulated TLB that QEMU generates (docs/performance.md, "Start-up, sixth pass"). These counts
are the start-up's cost without the noise of timing on a shared machine; they leave out what
QEMU spends on devices and on its own first use of a code path.

    bench/virtio/boot_blocks.py [IMAGE] [--top N] [--by-file N] [--args "BOOT ARGS"]

IMAGE defaults to build/virtio/apps/hello/hello; --top N lists the N functions with the most
blocks (symbol names from the image, as QEMU prints them); --by-file N the N source files
with the most, each block counted where its first instruction was written (addr2line, with
inlining: link-time optimisation merges functions, the debug information still tells them
apart); --args defaults to --count=1.
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("image", nargs="?", default=os.path.join(root, "build/virtio/apps/hello/hello"))
parser.add_argument("--top", type=int, default=0)
parser.add_argument("--by-file", type=int, default=0)
parser.add_argument("--args", default="--count=1")
options = parser.parse_args()
if not os.path.isfile(options.image):
    sys.exit(f"no image {options.image}: ./sarab build -t virtio examples/hello")

with tempfile.TemporaryDirectory() as tmp:
    log = os.path.join(tmp, "in_asm.log")
    subprocess.run(["qemu-system-x86_64", "-machine", "microvm,auto-kernel-cmdline=off", "-accel", "tcg", "-cpu", "max",
                    "-m", "64M", "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
                    "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-serial", "null",
                    "-kernel", options.image, "-append", options.args, "-d", "in_asm", "-D", log],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=60)
    text = open(log, errors="replace").read()

blocks = instructions = touching_memory = 0
per_function = collections.Counter()
first_addresses = []
started = reached = False
for block in text.split("----------------\n"):
    lines = block.splitlines()
    names = [line[4:].strip() for line in lines if line.startswith("IN:")]
    if not names:
        continue
    name = names[0]
    started = started or name == "sarab_pvh_entry"
    if not started:
        continue  # the firmware's blocks
    if "serial_write" in name:
        reached = True
        break
    blocks += 1
    code = [line for line in lines if line.startswith("0x")]
    instructions += len(code)
    for line in code:
        # "0xADDR:  BYTES  MNEMONIC OPERANDS": a memory operand has parentheses; push, pop,
        # call and ret use the stack.
        parts = re.match(r"0x[0-9a-f]+:\s+(?:[0-9a-f]{2} )+\s*(\S+)\s*(.*)", line)
        if parts:
            mnemonic, operands = parts.groups()
            touching_memory += "(" in operands or mnemonic.startswith(("push", "pop", "call", "ret"))
    if code:
        first_addresses.append(code[0].split(":")[0])
    per_function[name] += 1
if not started or not reached:
    sys.exit(f"{options.image}: the log has no {'PVH entry' if not started else 'console output'} (QEMU's -d in_asm needs the image's symbols)")
print(f"{os.path.basename(options.image)}: {blocks} blocks translated from entry to the first console byte, {instructions} guest instructions in them, {touching_memory} of them touching memory")
for name, count in per_function.most_common(options.top):
    print(f"{count:5d}  {name}")
if options.by_file:
    # -a prints each address before its frames (innermost first), so the output splits per block.
    out = subprocess.run(["addr2line", "-a", "-i", "-e", options.image] + first_addresses,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    per_file = collections.Counter()
    for i, line in enumerate(out):
        if line.startswith("0x") and i + 1 < len(out):
            per_file[os.path.basename(out[i + 1].split(":")[0]) or "?"] += 1
    for name, count in per_file.most_common(options.by_file):
        print(f"{count:5d}  {name}")
