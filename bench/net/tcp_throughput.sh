#!/usr/bin/env bash
# TCP bulk throughput into Sarab's own stack on hosted, over a tap device, against Linux to
# Linux over a veth pair on the same machine (issue 4: the goal is at least 70% of the
# latter). Not a test; results go to docs/performance.md.
#
#   Linux -> Linux   a Python sender in one namespace, a Python discard server in another,
#                    joined by veth (198.18.3.1 -> 198.18.3.2)
#   Linux -> Sarab   the same sender, to tests/apps/tcp_sink on Sarab's stack over a tap
#                    (198.18.0.1 -> 198.18.0.2)
#
# The receiver is pinned to CPU 1 and the sender to CPU 0. Each run sends for SECONDS
# (default 5) in 1 MiB writes; the receiver reports bytes and rate when the sender closes.
# RUNS (default 3) runs each; the median is printed. Needs root. Everything it starts, and
# its namespaces, go when it ends.
#
#   bench/net/tcp_throughput.sh [SECONDS] [RUNS]
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "needs root (namespaces, veth and tap devices)" >&2; exit 1; }
SECONDS_PER_RUN="${1:-5}"
RUNS="${2:-3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${SARAB_NET_BENCH_BUILD:-$ROOT/build/net-bench}"
if [ ! -f "$BUILD/build.ninja" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSARAB_TESTS=ON -DSARAB_LOG_MIN_LEVEL=info >&2
fi
ninja -C "$BUILD" -j1 tcp_sink >&2
SINK="$BUILD/test_apps/tcp_sink/tcp_sink"
[ -x "$SINK" ] || SINK="$BUILD/apps/tcp_sink/tcp_sink"

WORK="$(mktemp -d)"
NS_CLIENT="sarab-tput-c-$$"
NS_SERVER="sarab-tput-s-$$"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    ip netns del "$NS_CLIENT" 2>/dev/null || true
    ip netns del "$NS_SERVER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$NS_CLIENT"
ip netns add "$NS_SERVER"
ip -n "$NS_CLIENT" link set lo up
ip -n "$NS_SERVER" link set lo up
ip link add "vtc$$" netns "$NS_CLIENT" type veth peer name "vts$$" netns "$NS_SERVER"
ip -n "$NS_CLIENT" addr add 198.18.3.1/24 dev "vtc$$"
ip -n "$NS_SERVER" addr add 198.18.3.2/24 dev "vts$$"
ip -n "$NS_CLIENT" link set "vtc$$" up
ip -n "$NS_SERVER" link set "vts$$" up
ip -n "$NS_CLIENT" tuntap add dev "tpt$$" mode tap
ip -n "$NS_CLIENT" addr add 198.18.0.1/24 dev "tpt$$"
ip -n "$NS_CLIENT" link set "tpt$$" up

cat >"$WORK/send.py" <<'PY'
import socket, sys, time
host, seconds = sys.argv[1], float(sys.argv[2])
s = socket.create_connection((host, 9), timeout=30)
chunk = bytes(1 << 20)
end = time.monotonic() + seconds
sent = 0
while time.monotonic() < end:
    s.sendall(chunk)
    sent += len(chunk)
s.shutdown(socket.SHUT_WR)
s.recv(1)  # until the receiver closes
PY
cat >"$WORK/sink.py" <<'PY'
import socket, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("198.18.3.2", 9))
srv.listen(1)
print("discarding", flush=True)
buf = bytearray(1 << 18)
while True:
    c, _ = srv.accept()
    total, start = 0, time.monotonic()
    while True:
        n = c.recv_into(buf)
        if not n:
            break
        total += n
    seconds = time.monotonic() - start
    c.close()
    print("received %d bytes in %.3f s: %.3f Gbit/s" % (total, seconds, total * 8 / seconds / 1e9), flush=True)
PY

# wait_for LOG TEXT: bounded.
wait_for() { for _ in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "no '$2' in $1" >&2; cat "$1" >&2; exit 1; }

nsenter --net="/run/netns/$NS_SERVER" taskset -c 1 python3 "$WORK/sink.py" >"$WORK/linux.log" 2>&1 &
PIDS+=($!)
nsenter --net="/run/netns/$NS_CLIENT" taskset -c 1 "$SINK" --net=tap:"tpt$$" --ipv4=198.18.0.2/24 --port=9 >"$WORK/sarab.log" 2>&1 &
PIDS+=($!)
wait_for "$WORK/linux.log" discarding
wait_for "$WORK/sarab.log" discarding
for _ in $(seq 1 50); do ip netns exec "$NS_CLIENT" ping -c 1 -W 0.2 198.18.0.2 >/dev/null 2>&1 && break; done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() { # run NAME HOST LOG
    local i
    for i in $(seq 1 "$RUNS"); do
        ip netns exec "$NS_CLIENT" taskset -c 0 python3 "$WORK/send.py" "$2" "$SECONDS_PER_RUN"
    done
    # Each received line ends in the rate; the last RUNS lines are this series.
    grep -o '[0-9.]* Gbit/s' "$3" | tail -n "$RUNS" | awk '{print $1}' | median
}
linux="$(run linux 198.18.3.2 "$WORK/linux.log")"
sarab="$(run sarab 198.18.0.2 "$WORK/sarab.log")"
echo "| path | Gbit/s (median of $RUNS x ${SECONDS_PER_RUN} s) |"
echo "|---|---|"
echo "| Linux -> Linux, veth | $linux |"
echo "| Linux -> Sarab (own stack, hosted, tap) | $sarab |"
awk -v s="$sarab" -v l="$linux" 'BEGIN { printf "Sarab / Linux: %.0f%%\n", 100 * s / l }'
