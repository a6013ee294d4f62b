#!/usr/bin/env bash
# Sarab's own stack against Linux over a real tap device: examples/echo runs with
# --net=tap:IF --ipv4=198.18.0.2/24 inside a network namespace made for this run; Linux, at
# 198.18.0.1, resolves it with ARP, pings it (with fragments: ping -s 8000 too) and talks UDP
# echo to it. The namespace goes when the script ends, however it ends.
# sarab-test: sanitize
set -euo pipefail

if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null || ! command -v ping >/dev/null; then
    echo "SKIP: needs root, ip and ping"
    exit 0
fi
build="${SARAB_BUILD_DIR:?}"
echo_bin="$build/apps/echo/echo"
ns="sarab-stack-$$-$RANDOM"
tap="stk$$"
log="$(mktemp /tmp/sarab-stack.XXXXXX)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    ip netns del "$ns" 2>/dev/null || true
    rm -f "$log"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- echo's log:"; cat "$log"; exit 1; }

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev "$tap" mode tap
ip -n "$ns" addr add 198.18.0.1/24 dev "$tap"
ip -n "$ns" link set "$tap" up

nsenter --net="/run/netns/$ns" "$echo_bin" --net=tap:"$tap" --ipv4=198.18.0.2/24 --port=7 --log=debug >"$log" 2>&1 &
pid=$!

# Wait (bounded) until it answers ping: ARP and ICMP work.
for _ in $(seq 1 50); do
    ip netns exec "$ns" ping -c 1 -W 0.2 198.18.0.2 >/dev/null 2>&1 && break
done
ip netns exec "$ns" ping -c 3 -i 0.2 -W 1 198.18.0.2 >/dev/null || fail "no answer to ping"
ip netns exec "$ns" ip neigh show 198.18.0.2 | grep -q "lladdr 02:53:52" || fail "Linux did not learn the image's MAC by ARP"
ip netns exec "$ns" ping -c 2 -i 0.2 -W 2 -s 8000 198.18.0.2 >/dev/null || fail "no answer to an 8000-byte ping (fragments)"

ip netns exec "$ns" python3 - <<'PY' || fail "UDP echo"
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
for i, size in enumerate([1, 100, 1472, 1473, 8000, 30000]):
    data = bytes((i * 31 + j) & 0xff for j in range(size))
    u.sendto(data, ("198.18.0.2", 7))
    got, source = u.recvfrom(65536)
    assert got == data, "size %d came back different" % size
    assert source == ("198.18.0.2", 7)
# A closed port answers with ICMP port unreachable, which Linux reports as a refused connection.
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(2)
c.connect(("198.18.0.2", 9))
c.send(b"anyone?")
try:
    c.recv(100)
    raise SystemExit("a closed port answered")
except ConnectionRefusedError:
    pass
print("udp: echo and port unreachable work")
PY
kill -0 "$pid" || fail "echo died"
echo "tap interop: ARP, ICMP (with fragments) and UDP work against Linux"
