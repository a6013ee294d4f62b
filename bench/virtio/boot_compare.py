#!/usr/bin/env python3
"""Two virtio hello images side by side: boots them alternately under QEMU TCG on microvm,
N times each, and prints the median and range of the guest's own time from entry to its first
console line (`first console output` of the start-up figures, which the image writes to the
QEMU debug console as it exits, and to its log with --log=virtio:debug). Alternating keeps a
shared machine's load the same for both, which separate runs of boot_figures.sh do not.

    bench/virtio/boot_compare.py BEFORE_IMAGE AFTER_IMAGE [N]      (N: default 21)

The boot arguments are --count=1, or $ARGS: images older than the debug-console figures need
ARGS="--count=1 --log=virtio:debug" (then for both, to compare like with like).
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

if len(sys.argv) < 3:
    sys.exit(__doc__)
images = {"before": sys.argv[1], "after": sys.argv[2]}
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 21
qemu = ["qemu-system-x86_64", "-machine", "microvm,auto-kernel-cmdline=off", "-accel", "tcg", "-cpu", "max", "-m", "64M",
        "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
        "-serial", "stdio", "-append", os.environ.get("ARGS", "--count=1")]
results = {name: [] for name in images}
status = os.path.join(tempfile.mkdtemp(), "status")
for _ in range(runs):
    for name, image in images.items():
        if os.path.exists(status):
            os.unlink(status)
        out = subprocess.run(qemu + ["-kernel", image, "-chardev", f"file,id=status,path={status}", "-device", "isa-debugcon,iobase=0xe9,chardev=status"],
                             capture_output=True, text=True, timeout=60).stdout
        out += open(status, errors="replace").read() if os.path.exists(status) else ""
        found = re.search(r"first console output (\d+)", out)
        if not found:
            sys.exit(f"{image}: no start-up line in its output:\n{out}")
        results[name].append(int(found.group(1)) / 1000)
for name, values in results.items():
    values.sort()
    # The quartiles too: on a VM that is itself a guest, boots fall into a fast and a slow
    # group, and the median can land in either.
    quartile = lambda q: values[round(q * (len(values) - 1))]
    print(f"{name}: entry to first console line, ms: median {statistics.median(values):.2f} [{values[0]:.2f}-{values[-1]:.2f}], "
          f"quartiles {quartile(0.25):.2f} {quartile(0.75):.2f}, over {len(values)} boots")
os.unlink(status)
os.rmdir(os.path.dirname(status))
