#!/usr/bin/env bash
# DNS benchmark (issue 5): dnsperf against examples/dns, NSD and Knot serving the same
# ~400-record zone on loopback. Every thread of each server is pinned to CPU 1 (again once it
# is up: see bench/lib/server_tree.py) and dnsperf to CPU 0. For each
# server: 3 runs at saturation (queries/s, queries per server CPU-second from utime+stime of
# all its processes in /proc/PID/stat, average latency), then one run at a fixed rate for
# latency. Prints a Markdown table with the median and the spread (min-max) of the 3 runs.
# A row "sarab-sandbox" is the same examples/dns built for the sandbox target (seccomp filter).
# As root, a last row: examples/dns on Sarab's own stack over a tap device, in a network
# namespace made for the run (198.18.0.2, dnsperf in the namespace), reported apart: the
# path differs (tap instead of loopback; UDP only, since that stack has no TCP yet).
#
# usage: bench/dns/run.sh [SECONDS_PER_RUN (default 10)] [FIXED_RATE (default 20000)]
# Builds examples/dns in build/dns-bench and build/dns-bench-sandbox (Release) first. Bounded:
# about 5 x (3 + 1) runs.
set -euo pipefail

SECONDS_PER_RUN="${1:-10}"
RATE="${2:-20000}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${SARAB_DNS_BENCH_BUILD:-$ROOT/build/dns-bench}"
for tool in dnsperf nsd knotd dig taskset python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y dnsperf nsd knot bind9-dnsutils util-linux" >&2; exit 1; }
done
[ -f /usr/include/seccomp.h ] || { echo "missing libseccomp (for the sandbox row): apt-get install -y libseccomp-dev" >&2; exit 1; }

if [ ! -f "$BUILD/build.ninja" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSARAB_TESTS=OFF -DSARAB_LOG_MIN_LEVEL=info >&2
fi
ninja -C "$BUILD" -j1 dns >&2
DNS="$BUILD/apps/dns/dns"
# The same server built for the sandbox target (docs/sandbox.md): the same code under its
# seccomp filter, for the cost of a filter check a system call.
SANDBOX_BUILD="$BUILD-sandbox"
if [ ! -f "$SANDBOX_BUILD/build.ninja" ]; then
    cmake -S "$ROOT" -B "$SANDBOX_BUILD" -G Ninja -DSARAB_TARGET=sandbox -DCMAKE_BUILD_TYPE=Release -DSARAB_TESTS=OFF -DSARAB_LOG_MIN_LEVEL=info >&2
fi
ninja -C "$SANDBOX_BUILD" -j1 dns >&2
DNS_SANDBOX="$SANDBOX_BUILD/apps/dns/dns"
# The server's core without sockets (bench/dns/answer.cpp), linked with the Release libraries.
ANSWER_BENCH="$BUILD/dns_answer_bench"
${CXX:-g++} -std=c++20 -O2 -Wall -Wextra -Werror -I"$ROOT/include" "$ROOT/bench/dns/answer.cpp" \
    "$BUILD/CMakeFiles/sarab_platform_hosted.dir/src/platform/hosted/hosted.cpp.o" \
    "$BUILD/CMakeFiles/sarab_platform_hosted.dir/src/platform/hosted/unsealed.cpp.o" \
    "$BUILD/src/services/libsarab_dns.a" "$BUILD/libsarab_runtime.a" "$BUILD/libsarab_platform_common.a" \
    "$BUILD/libsarab_base.a" -o "$ANSWER_BENCH"

WORK="$(mktemp -d)"
PIDS=()
NS=""
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    [ -z "$NS" ] || ip netns delete "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/zones" "$WORK/knot"
ZONE="$WORK/zones/example.org.zone"
python3 "$ROOT/bench/dns/make_zone.py" "$ZONE" "$WORK/queries.txt"
PORT=$(( 20000 + RANDOM % 40000 ))

SERVER_ADDR=127.0.0.1
IN_NS=()
wait_ready() {
    local pid="$1" i
    for i in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || { echo "server exited" >&2; return 1; }
        "${IN_NS[@]}" dig @"$SERVER_ADDR" -p "$PORT" +time=1 +tries=1 +norec example.org SOA 2>/dev/null | grep -q "status: NOERROR" && return 0
        sleep 0.1
    done
    return 1
}

# CPU time in clock ticks of the server's processes and threads (bench/lib/server_tree.py).
cpu_ticks() { python3 "$ROOT/bench/lib/server_tree.py" ticks "$1"; }

start() {
    case "$1" in
        sarab|sarab-sandbox)
            local server="$DNS"
            [ "$1" = sarab ] || server="$DNS_SANDBOX"
            taskset -c 1 "$server" --dev=zones=dir:"$WORK/zones" --port="$PORT" --log=warn > "$WORK/$1.log" 2>&1 &
            ;;
        sarab-tap)
            "${IN_NS[@]}" taskset -c 1 "$DNS" --dev=zones=dir:"$WORK/zones" --net=tap:"$TAP" --ipv4=198.18.0.2/24 \
                --port="$PORT" --log=warn > "$WORK/sarab-tap.log" 2>&1 &
            ;;
        nsd)
            cat > "$WORK/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1@$PORT
    server-count: 1
    username: ""
    zonelistfile: "$WORK/zone.list"
    database: ""
    pidfile: "$WORK/nsd.pid"
    xfrdfile: "$WORK/xfrd.state"
    xfrdir: "$WORK"
    logfile: "$WORK/nsd.log"
    rrl-ratelimit: 0
    minimal-responses: no
remote-control:
    control-enable: no
zone:
    name: example.org
    zonefile: "$ZONE"
CONF
            taskset -c 1 nsd -d -c "$WORK/nsd.conf" > "$WORK/nsd.out" 2>&1 &
            ;;
        knot)
            cat > "$WORK/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$PORT
    rundir: "$WORK/knot"
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$WORK/knot"
log:
  - target: stderr
    any: warning
zone:
  - domain: example.org
    file: "$ZONE"
    zonefile-sync: -1
    journal-content: none
CONF
            taskset -c 1 knotd -c "$WORK/knot.conf" > "$WORK/knot.log" 2>&1 &
            ;;
    esac
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_ready "$SERVER_PID"
    # taskset above pins the threads there at start; servers may move their own later (Knot
    # binds its UDP workers to CPUs of its choice), so every thread is bound again here.
    echo "# $1: $(python3 "$ROOT/bench/lib/server_tree.py" pin "$SERVER_PID" 1) threads pinned to CPU 1" >&2
}

stop() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

# One dnsperf run; prints "qps completed cpu_seconds avg_latency_ms".
run_once() {
    local extra=("$@") before after out
    before=$(cpu_ticks "$SERVER_PID")
    out="$("${IN_NS[@]}" taskset -c 0 dnsperf -s "$SERVER_ADDR" -p "$PORT" -d "$WORK/queries.txt" -l "$SECONDS_PER_RUN" -c 1 -q 200 "${extra[@]}" 2>&1)"
    after=$(cpu_ticks "$SERVER_PID")
    local qps completed latency lost
    qps=$(awk '/Queries per second:/ {print $4}' <<< "$out")
    completed=$(awk '/Queries completed:/ {print $3}' <<< "$out")
    lost=$(awk '/Queries lost:/ {print $3}' <<< "$out")
    latency=$(awk '/Average Latency/ {print $4}' <<< "$out")
    local hz
    hz=$(getconf CLK_TCK)
    echo "$qps $completed $(( after - before )) $hz $latency $lost"
}

echo "# DNS benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(uname -r)"
echo "# zone: $(grep -c . "$ZONE") lines, queries: $(wc -l < "$WORK/queries.txt") names/types; ${SECONDS_PER_RUN}s per run"
echo "# the core alone (bench/dns/answer.cpp, CPU 1):"
taskset -c 1 "$ANSWER_BENCH" "$ZONE" "$WORK/queries.txt" | sed 's/^/#   /'
echo
echo "| server | queries/s (median, min-max) | queries per server CPU-second (median, min-max) | avg latency at saturation | avg latency at ${RATE} q/s | lost |"
echo "|---|---|---|---|---|---|"
# BENCH_SERVERS="sarab knot" runs only those (for A/B runs while changing the server).
read -r -a SERVERS <<< "${BENCH_SERVERS:-sarab sarab-sandbox nsd knot}"
if [ -z "${BENCH_SERVERS:-}" ] && [ "$(id -u)" = 0 ] && command -v ip >/dev/null; then
    NS="sarab-dnsbench-$$"
    TAP="sdb$$"
    ip netns add "$NS"
    ip -n "$NS" tuntap add dev "$TAP" mode tap
    ip -n "$NS" address add 198.18.0.1/24 dev "$TAP"
    ip -n "$NS" link set dev "$TAP" up
    SERVERS+=(sarab-tap)
fi
for server in "${SERVERS[@]}"; do
    if [ "$server" = sarab-tap ]; then
        SERVER_ADDR=198.18.0.2
        IN_NS=(ip netns exec "$NS")
    fi
    start "$server"
    # Warm-up: fills the memo (sarab) and the caches of the host.
    "${IN_NS[@]}" taskset -c 0 dnsperf -s "$SERVER_ADDR" -p "$PORT" -d "$WORK/queries.txt" -l 1 -c 1 -q 200 > /dev/null 2>&1 || true
    rows=()
    for i in 1 2 3; do
        rows+=("$(run_once)")
    done
    fixed="$(run_once -Q "$RATE")"
    stop
    python3 - "$server" "$fixed" "${rows[@]}" <<'PY'
import statistics, sys
server, fixed, rows = sys.argv[1], sys.argv[2], sys.argv[3:]
qps, per_cpu, lat, lost = [], [], [], 0
for row in rows:
    q, completed, ticks, hz, latency, l = row.split()
    qps.append(float(q))
    cpu = int(ticks) / int(hz)
    per_cpu.append(int(completed) / cpu if cpu > 0 else float("inf"))
    lat.append(float(latency) * 1000)
    lost += int(l)
f = fixed.split()
def show(v, fmt="{:,.0f}"):
    return f"{fmt.format(statistics.median(v))} ({fmt.format(min(v))}-{fmt.format(max(v))})"
print(f"| {server} | {show(qps)} | {show(per_cpu)} | {statistics.median(lat):.3f} ms | {float(f[4]) * 1000:.3f} ms | {lost + int(f[5])} |")
PY
done
