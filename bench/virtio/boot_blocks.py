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

    bench/virtio/boot_blocks.py [IMAGE] [--top N] [--by-file N] [--args "BOOT ARGS"] [--timeline]

IMAGE defaults to build/virtio/apps/hello/hello; --top N lists the N functions with the most
blocks (symbol names from the image, as QEMU prints them); --by-file N the N source files
with the most, each block counted where its first instruction was written (addr2line, with
inlining: link-time optimisation merges functions, the debug information still tells them
apart); --args defaults to --count=1.

--timeline boots the image once more with QEMU's translate_block trace event, whose log lines
carry the host time in microseconds (-msg timestamp=on), and prints each block translated on
the way to the first console byte: when it was translated after entry, the time until the next
one (its translation and its run, and the trace's own write), and where its code was written.
Tracing adds some 4 us to every block, so read the gaps against each other, not as absolute
costs; large gaps are loops, exits to QEMU or QEMU's own work (docs/performance.md, "Start-up,
eighth pass").
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
parser.add_argument("--timeline", action="store_true")
options = parser.parse_args()
if not os.path.isfile(options.image):
    sys.exit(f"no image {options.image}: ./sarab build -t virtio examples/hello")


def boot_with_log(log_options):
    """Boots the image once under TCG with QEMU's log options; returns the log's text."""
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "qemu.log")
        subprocess.run(["qemu-system-x86_64", "-machine", "microvm,auto-kernel-cmdline=off", "-accel", "tcg", "-cpu", "max",
                        "-m", "64M", "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
                        "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-serial", "null",
                        "-kernel", options.image, "-append", options.args, "-D", log] + log_options,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=60)
        return open(log, errors="replace").read()


def print_timeline():
    symbols = subprocess.run(["nm", "-n", options.image], capture_output=True, text=True, check=True).stdout.splitlines()
    entry = {int(line.split()[0], 16) for line in symbols if line.endswith(" sarab_pvh_entry")}
    console = {int(line.split()[0], 16) for line in symbols if "serial_write" in line}
    text = boot_with_log(["-msg", "timestamp=on", "-trace", "translate_block"])
    # "PID@SECONDS.MICROSECONDS:translate_block tb:..., pc:0x..., tb_code:..."
    events = [(int(m[1]) * 1_000_000 + int(m[2]), int(m[3], 16))
              for m in re.finditer(r"\d+@(\d+)\.(\d+):translate_block .*?pc:0x([0-9a-f]+)", text)]
    first = next((i for i, (_, pc) in enumerate(events) if pc in entry), None)
    last = next((i for i, (_, pc) in enumerate(events) if pc in console and first is not None and i > first), None)
    if first is None or last is None:
        sys.exit(f"{options.image}: no translate_block events from the PVH entry to the console (QEMU built without the log trace backend?)")
    shown = events[first:last + 1]
    where = subprocess.run(["addr2line", "-C", "-f", "-i", "-a", "-e", options.image] + [hex(pc) for _, pc in shown],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    frames = []  # per block: [function, file:line, ...], innermost first
    for line in where:
        if line.startswith("0x"):
            frames.append([])
        else:
            frames[-1].append(line)
    start = shown[0][0]
    print("  us after entry   gap  address  where (innermost function, source line; outermost function)")
    for i, ((time, pc), lines) in enumerate(zip(shown, frames)):
        gap = shown[i + 1][0] - time if i + 1 < len(shown) else 0
        inner = lines[0] if lines else "?"
        source = os.path.basename(lines[1]) if len(lines) > 1 else ""
        outer = lines[-2] if len(lines) > 2 else ""
        print(f"{time - start:15d} {gap:5d} {pc:8x}  {inner[:44]:44s} {source[:32]:32s} {outer[:40]}")
    print(f"{len(shown) - 1} blocks, {shown[-1][0] - start} us from entry to the first console byte with tracing")


if options.timeline:
    print_timeline()
    sys.exit(0)

text = boot_with_log(["-d", "in_asm"])

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
