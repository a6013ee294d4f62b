#!/usr/bin/env bash
# Sarab's own TCP against Linux's, over real tap devices in a network namespace made for this
# run (198.18.0.0/24 and 198.18.1.0/24):
#   1. Linux connects to examples/echo: 4 MB each way at once on one connection and eight
#      connections side by side, compared by SHA-256; the image sends in TSO frames;
#   2. Sarab connects to Linux (tests/apps/tcp_client): 3 MB each way, compared by hash;
#   3. the same echo exchange through a path with loss 2%, delay 5 ms and reordering: `tc
#      netem` on Linux's side, or, where the kernel has no netem, tests/lib/impair.py (the
#      same faults, both ways, from user space between two taps);
#   4. a SYN flood from made-up addresses (raw sockets, bounded in count) while a connection
#      is carrying data: it carries on, and a new connection still gets in (SYN cookies).
# The namespace, its taps and every process go when the script ends, however it ends.
# sarab-test: sanitize
set -euo pipefail

if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null || ! command -v tc >/dev/null || ! command -v python3 >/dev/null; then
    echo "SKIP: needs root, ip, tc and python3"
    exit 0
fi
build="${SARAB_BUILD_DIR:?}"
echo_bin="$build/apps/echo/echo"
client_bin="$build/apps/tcp_client/tcp_client"
ns="sarab-tcp-$$-$RANDOM"
tap="tcp$$"
tap2="tcq$$"
work="$(mktemp -d /tmp/sarab-tcp.XXXXXX)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in "$work"/*.log; do
        [ -f "$f" ] && { echo "--- $(basename "$f"):"; tail -n 40 "$f"; }
    done
    exit 1
}
in_ns() { ip netns exec "$ns" "$@"; }
# For processes left running: nsenter execs the command itself, so $! is its process id.
in_ns_bg() { exec nsenter --net="/run/netns/$ns" "$@"; }

ip netns add "$ns"
ip -n "$ns" link set lo up
for pair in "$tap 198.18.0.1/24" "$tap2 198.18.1.1/24"; do
    set -- $pair
    ip -n "$ns" tuntap add dev "$1" mode tap
    ip -n "$ns" addr add "$2" dev "$1"
    ip -n "$ns" link set "$1" up
done

in_ns_bg "$echo_bin" --net=tap:"$tap" --ipv4=198.18.0.2/24 --port=7 >"$work/echo.log" 2>&1 &
pids+=($!)
echo_pid=$!
for _ in $(seq 1 50); do
    in_ns ping -c 1 -W 0.2 198.18.0.2 >/dev/null 2>&1 && break
done

echo_check=(python3 "$(dirname "$0")/../lib/echo_check.py" tcp)

# What Linux's side of a tap has received: bytes and packets (frames the image wrote).
rx_counts() { in_ns cat "/sys/class/net/$1/statistics/rx_bytes" "/sys/class/net/$1/statistics/rx_packets" | paste -sd' '; }

# 1. Linux to Sarab. The image's tap takes TCP segments of up to 64 KiB for the kernel to cut
# up (TSO through the virtio-net header): the 4 MB coming back must arrive in frames longer
# than the MTU on average, or the offload is not used.
read -r bytes_before packets_before < <(rx_counts "$tap")
in_ns "${echo_check[@]}" 198.18.0.2 4000000 1 || fail "one 4 MB echo exchange"
read -r bytes_after packets_after < <(rx_counts "$tap")
average=$(( (bytes_after - bytes_before) / (packets_after - packets_before) ))
[ "$average" -gt 1514 ] || fail "Linux received the echo in frames of $average bytes on average: no TCP segmentation offload"
echo "echo: 4 MB back in $((packets_after - packets_before)) frames from the image, $average bytes each on average (TSO)"
in_ns "${echo_check[@]}" 198.18.0.2 300000 8 || fail "eight echo connections at once"

# 2. Sarab to Linux: the server reads all, then answers with bytes of its own; both sides
# print FNV-1a hashes of what they sent and received.
cat >"$work/server.py" <<'PY'
import socket, sys
answer = int(sys.argv[1])
def fnv(h, data):
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xffffffffffffffff
    return h
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("198.18.1.1", 9000))
srv.listen(1)
print("listening", flush=True)
srv.settimeout(60)
c, _ = srv.accept()
c.settimeout(60)
h, n = 1469598103934665603, 0
while True:
    chunk = c.recv(1 << 16)
    if not chunk:
        break
    h, n = fnv(h, chunk), n + len(chunk)
out = bytes((i * 31 + (i >> 11)) & 0xff for i in range(answer))
c.sendall(out)
c.close()
print("received %d fnv %016x" % (n, h))
print("sent %d fnv %016x" % (answer, fnv(1469598103934665603, out)))
PY
in_ns_bg python3 "$work/server.py" 3000000 >"$work/server.log" 2>&1 &
server_pid=$!
pids+=($server_pid)
for _ in $(seq 1 100); do grep -q listening "$work/server.log" && break; sleep 0.05; done
in_ns timeout 120 "$client_bin" --net=tap:"$tap2" --ipv4=198.18.1.2/24 --to=198.18.1.1:9000 --bytes=3000000 >"$work/client.log" 2>&1 \
    || fail "tcp_client exited with $?"
wait "$server_pid" || fail "the Linux server failed"
client_sent="$(sed -n 's/^sent \(.*\)/\1/p' "$work/client.log")"
client_received="$(sed -n 's/^received \(.*\)/\1/p' "$work/client.log")"
server_received="$(sed -n 's/^received \(.*\)/\1/p' "$work/server.log")"
server_sent="$(sed -n 's/^sent \(.*\)/\1/p' "$work/server.log")"
[ -n "$client_sent" ] && [ "$client_sent" = "$server_received" ] || fail "Linux received '$server_received', Sarab sent '$client_sent'"
[ -n "$server_sent" ] && [ "$server_sent" = "$client_received" ] || fail "Sarab received '$client_received', Linux sent '$server_sent'"
echo "client: Sarab connected to Linux, 3 MB each way intact"

# 3. A lossy, slow, reordering path.
if in_ns tc qdisc add dev "$tap" root netem loss 2% delay 5ms reorder 25% 50% 2>/dev/null; then
    # Linux's egress on the tap: data one way, ACKs the other.
    in_ns "${echo_check[@]}" 198.18.0.2 2000000 1 || fail "echo under netem"
    in_ns tc qdisc del dev "$tap" root
    echo "netem: loss 2%, delay 5 ms, reordering"
else
    # No netem in this kernel: the same faults from user space, both ways, between Linux's tap
    # (198.18.2.1) and a second echo's.
    lossy_linux="tcl$$" lossy_image="tci$$"
    ip -n "$ns" tuntap add dev "$lossy_linux" mode tap
    ip -n "$ns" tuntap add dev "$lossy_image" mode tap
    ip -n "$ns" addr add 198.18.2.1/24 dev "$lossy_linux"
    ip -n "$ns" link set "$lossy_linux" up
    ip -n "$ns" link set "$lossy_image" up
    in_ns_bg "$echo_bin" --net=tap:"$lossy_image" --ipv4=198.18.2.2/24 --port=7 >"$work/echo-lossy.log" 2>&1 &
    pids+=($!)
    in_ns_bg python3 "$(dirname "$0")/../lib/impair.py" "$lossy_linux" "$lossy_image" \
        --loss 0.02 --delay 0.005 --reorder 0.25 --seconds 100 >"$work/impair.log" 2>&1 &
    impair_pid=$!
    pids+=($impair_pid)
    for _ in $(seq 1 100); do grep -q ready "$work/impair.log" && break; sleep 0.05; done
    for _ in $(seq 1 50); do in_ns ping -c 1 -W 0.3 198.18.2.2 >/dev/null 2>&1 && break; done
    in_ns "${echo_check[@]}" 198.18.2.2 2000000 1 || fail "echo through the lossy path"
    kill "$impair_pid"; wait "$impair_pid" 2>/dev/null || true
    counts="$(grep '^frames' "$work/impair.log" || true)"
    [[ "$counts" =~ dropped\ [1-9] ]] || fail "the lossy path dropped nothing: '$counts'"
    echo "lossy path (impair.py; no netem here): $counts"
fi

# 4. A SYN flood from 150 made-up hosts (20000 SYNs) while a connection is in use.
cat >"$work/flood.py" <<'PY'
import socket, struct, sys, threading, time
def checksum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
def syn(src, sport, seq):
    dst = socket.inet_aton("198.18.0.2")
    tcp = struct.pack("!HHIIBBHHH", sport, 7, seq, 0, 5 << 4, 0x02, 65535, 0, 0)
    tcp = tcp[:16] + struct.pack("!H", checksum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
# A connection that is busy before, during and after the flood.
busy = socket.create_connection(("198.18.0.2", 7), timeout=10)
stop = False
echoed = [0]
def keep_busy():
    i = 0
    while not stop:
        msg = b"ping %06d\n" % i
        busy.sendall(msg)
        got = b""
        while len(got) < len(msg):
            got += busy.recv(100)
        assert got == msg, got
        echoed[0] += 1
        i += 1
t = threading.Thread(target=keep_busy)
t.start()
before = echoed[0]
for i in range(20000):
    src = socket.inet_aton("198.18.0.%d" % (100 + i % 150))
    raw.sendto(syn(src, 1024 + i % 60000, i * 2654435761 & 0xffffffff), ("198.18.0.2", 0))
    if i == 10000:
        # Halfway: a new connection must still be accepted and echo.
        n = socket.create_connection(("198.18.0.2", 7), timeout=10)
        n.sendall(b"newcomer")
        assert n.recv(100) == b"newcomer"
        n.close()
during = echoed[0] - before
time.sleep(0.2)
stop = True
t.join()
busy.close()
assert during > 0, "the busy connection stalled during the flood"
print("flood: 20000 SYNs; %d echoes on the busy connection during it; a new connection got in" % during)
PY
in_ns timeout 120 python3 "$work/flood.py" || fail "SYN flood"
kill -0 "$echo_pid" || fail "echo died"
in_ns "${echo_check[@]}" 198.18.0.2 100000 1 || fail "echo after the flood"
echo "tcp interop: echo, client, netem and SYN flood work against Linux"
