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

ip netns exec "$ns" python3 "$(dirname "$0")/../lib/echo_check.py" udp 198.18.0.2 --timeout 2 || fail "UDP echo"
kill -0 "$pid" || fail "echo died"
echo "tap interop: ARP, ICMP (with fragments) and UDP work against Linux"
