#!/usr/bin/env bash
# The virtio target's figures for docs/performance.md: the stripped size of the hello image,
# the guest time from entry to its first console line (the image's own TSC readings, which
# it writes to the QEMU debug console, port 0xe9, as it exits: measured without --log, which
# would change the way to the first line), the wall time from starting QEMU to the first console line on
# microvm, q35 and pc, and the smallest -m (MiB) that boots hello. Each timing is run RUNS
# times (default 7); the median and the range are printed.
#
#     bench/virtio/boot_figures.sh [IMAGE]      (default: build/virtio/apps/hello/hello)
#
# To compare two images on a shared machine, boot them alternately: boot_compare.py.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
image="${1:-$root/build/virtio/apps/hello/hello}"
runs="${RUNS:-7}"
[ -f "$image" ] || { echo "no image $image: ./sarab build -t virtio examples/hello" >&2; exit 1; }

stripped="$(mktemp)"
trap 'rm -f "$stripped"' EXIT
strip -o "$stripped" "$image"
echo "image: $image"
echo "stripped size: $(stat -c %s "$stripped") bytes"

python3 - "$image" "$runs" <<'PY'
import os, re, statistics, subprocess, sys, tempfile, time
image, runs = sys.argv[1], int(sys.argv[2])
base = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-nodefaults", "-no-user-config", "-no-reboot",
        "-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-serial", "stdio", "-kernel", image]

def summary(values):
    values = sorted(values)
    return f"median {statistics.median(values):.2f} [{values[0]:.2f}-{values[-1]:.2f}]"

for machine in ["microvm,auto-kernel-cmdline=off", "q35", "pc"]:
    firsts = []
    for _ in range(runs):
        started = time.monotonic()
        p = subprocess.Popen(base + ["-machine", machine, "-m", "64M", "-append", "--count=1"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        p.stdout.readline()
        firsts.append((time.monotonic() - started) * 1000)
        p.communicate(timeout=60)
    print(f"{machine.split(',')[0]}: QEMU start to first console line, ms: {summary(firsts)}")

steps = {}
with tempfile.TemporaryDirectory() as tmp:
  status = os.path.join(tmp, "status")
  for _ in range(runs):
    if os.path.exists(status):
        os.unlink(status)
    subprocess.run(base + ["-machine", "microvm,auto-kernel-cmdline=off", "-m", "64M", "-append", "--count=1",
                           "-chardev", f"file,id=status,path={status}", "-device", "isa-debugcon,iobase=0xe9,chardev=status"],
                   capture_output=True, text=True, timeout=60)
    m = re.search(r"start-up, us after entry: (.*)", open(status, errors="replace").read())
    for name, value in re.findall(r"([a-zA-Z][a-zA-Z0-9 +]*?) (\d+)(?:,|;|$)", m.group(1)):
        steps.setdefault(name.strip(), []).append(int(value) / 1000)
for name, values in steps.items():
    print(f"microvm guest time, entry to {name}, ms: {summary(values)}")

for mib in [1, 2, 3, 4, 8, 16]:
    try:
        out = subprocess.run(base + ["-machine", "microvm,auto-kernel-cmdline=off", "-m", f"{mib}M", "-append", "--count=1"],
                             capture_output=True, text=True, timeout=20).stdout
    except subprocess.TimeoutExpired:
        out = ""
    if out.startswith("hello"):
        print(f"smallest -m that boots hello on microvm: {mib} MiB")
        break
PY
