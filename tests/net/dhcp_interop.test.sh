#!/usr/bin/env bash
# Sarab's DHCP client against dnsmasq over a real tap device: examples/echo runs with
# --net=tap:IF and no address, in a network namespace made for this run, where dnsmasq serves
# 198.18.0.100-150. The image must take a lease and then answer ping and UDP echo there.
set -euo pipefail

if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null || ! command -v ping >/dev/null || ! command -v dnsmasq >/dev/null; then
    echo "SKIP: needs root, ip, ping and dnsmasq"
    exit 0
fi
build="${SARAB_BUILD_DIR:?}"
echo_bin="$build/apps/echo/echo"
ns="sarab-dhcp-$$-$RANDOM"
tap="dhc$$"
work="$(mktemp -d /tmp/sarab-dhcp.XXXXXX)"
pid="" dnsmasq_pid=""
cleanup() {
    for p in $pid $dnsmasq_pid; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- echo's log:"; cat "$work/echo.log"; echo "--- dnsmasq's log:"; cat "$work/dnsmasq.log"; exit 1; }

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev "$tap" mode tap
ip -n "$ns" addr add 198.18.0.1/24 dev "$tap"
ip -n "$ns" link set "$tap" up

nsenter --net="/run/netns/$ns" dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface="$tap" --bind-interfaces \
    --dhcp-range=198.18.0.100,198.18.0.150,255.255.255.0,2m --dhcp-leasefile="$work/leases" \
    --dhcp-option=option:router,198.18.0.1 --log-dhcp >"$work/dnsmasq.log" 2>&1 &
dnsmasq_pid=$!
nsenter --net="/run/netns/$ns" "$echo_bin" --net=tap:"$tap" --port=7 >"$work/echo.log" 2>&1 &
pid=$!

# Wait (bounded) for the lease.
address=""
for _ in $(seq 1 100); do
    address="$(sed -n 's/.*dhcp: bound to \(198\.18\.0\.[0-9]*\)\/24 with gateway 198\.18\.0\.1.*/\1/p' "$work/echo.log" | head -n 1)"
    [ -n "$address" ] && break
    kill -0 "$pid" 2>/dev/null || fail "echo died"
    sleep 0.1
done
[ -n "$address" ] || fail "no lease within 10 s"
grep -q "DHCPACK(.*) $address 02:53:52" "$work/dnsmasq.log" || fail "dnsmasq did not acknowledge $address"
ip netns exec "$ns" ping -c 2 -i 0.2 -W 1 "$address" >/dev/null || fail "no answer to ping at $address"
ip netns exec "$ns" python3 -c "
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(2)
u.sendto(b'leased', ('$address', 7))
assert u.recvfrom(100)[0] == b'leased'
" || fail "no UDP echo at $address"
echo "dhcp interop: leased $address from dnsmasq, answers ping and UDP"
