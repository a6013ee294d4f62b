#!/usr/bin/env bash
# Figures for docs/performance.md (virtio section), not a test: examples/echo on virtio-net,
# under QEMU (TCG here) pinned to CPU 1, against Linux in a network namespace of its own
# (198.18.0.1 and .2), the client pinned to CPU 0. For each machine (microvm, q35):
#
#   ping      RUNS x 200 pings, 56 bytes, 10 ms apart: the median round trip of each run
#   udp-1     RUNS x 5000 UDP echo round trips of 64 bytes, one at a time: round trips/s
#   udp-32    RUNS x 20000 datagrams of 64 bytes, 32 in flight: echoes/s
#   tcp-echo  RUNS x 8 MiB through one TCP connection, sent while it is read back: MiB/s each
#             way (the bytes must come back unchanged)
#
# and QEMU's CPU time (utime + stime of its process, all threads) per 1000 echoes, or per MiB.
# Every loop is bounded; the namespace and QEMU go when the script ends.
#
#     RUNS=3 bench/virtio/net_figures.sh
#     MACHINES=microvm RUNS=5 bench/virtio/net_figures.sh      (one machine only)
source "$(dirname "$0")/lib.sh"
runs="${RUNS:-3}"

for machine in ${MACHINES:-microvm q35}; do
    start_image "$machine" examples/echo
    qemu="$(cat "$work/qemu.pid")"
    in_ns taskset -c 0 python3 - "$machine" "$runs" "$qemu" "$root/tests/lib" <<'PY'
import os, socket, statistics, subprocess, sys, time

machine, runs, qemu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tick = os.sysconf("SC_CLK_TCK")
def qemu_cpu():
    fields = open("/proc/%d/stat" % qemu).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick

def report(name, values, unit, cpu=None, per="1000"):
    values = sorted(values)
    line = "%-8s %-7s median %s %s [%s-%s]" % (machine, name, fmt(statistics.median(values)), unit, fmt(values[0]), fmt(values[-1]))
    if cpu:
        line += "; QEMU CPU-s per %s: %.3f [%.3f-%.3f]" % (per, statistics.median(cpu), min(cpu), max(cpu))
    print(line, flush=True)

def fmt(v):
    return "%.3f" % v if v < 10 else "%.0f" % v

rtts = []
for _ in range(runs):
    out = subprocess.run(["ping", "-c", "200", "-i", "0.01", "-W", "1", "198.18.0.2"], capture_output=True, text=True).stdout
    times = [float(l.split("time=")[1].split()[0]) for l in out.splitlines() if "time=" in l]
    assert len(times) >= 195, "pings lost: %d of 200 answered" % len(times)
    rtts.append(statistics.median(times))
report("ping", rtts, "ms")

payload = bytes(64)
for name, count, window in (("udp-1", 5000, 1), ("udp-32", 20000, 32)):
    rates, cpu = [], []
    for _ in range(runs):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.5)
        s.connect(("198.18.0.2", 7))
        c0, t0 = qemu_cpu(), time.monotonic()
        sent = got = lost = 0
        while got + lost < count:
            while sent < count and sent - got - lost < window:
                s.send(payload)
                sent += 1
            try:
                s.recv(2048)
                got += 1
            except socket.timeout:
                lost += sent - got - lost  # whatever is in flight is counted lost
        elapsed, used = time.monotonic() - t0, qemu_cpu() - c0
        assert lost <= count // 100, "%d of %d echoes lost" % (lost, count)
        rates.append(got / elapsed)
        cpu.append(used / got * 1000)
    report(name, rates, "echoes/s", cpu)

import hashlib
sys.path.insert(0, sys.argv[4])
from echo_check import exchange
size = 8 << 20
data = os.urandom(size)
rates, cpu = [], []
for _ in range(runs):
    c0, t0 = qemu_cpu(), time.monotonic()
    got = exchange("198.18.0.2", data, 30)
    elapsed, used = time.monotonic() - t0, qemu_cpu() - c0
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), "tcp-echo: %d bytes back of %d, or different" % (len(got), size)
    rates.append(size / elapsed / (1 << 20))
    cpu.append(used / (size / (1 << 20)))
report("tcp-echo", rates, "MiB/s", cpu, "MiB")
PY
    stop_image
done
