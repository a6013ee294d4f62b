#!/usr/bin/env bash
# examples/dns on Sarab's own stack: a tap device in a network namespace made for this run
# (Linux end 198.18.0.1/24, the image 198.18.0.2), queried with dig from the namespace. That
# stack has no TCP yet, so this is UDP only: answers, NXDOMAIN, a referral, truncation. The
# namespace goes when the script ends, however it ends.
set -euo pipefail

if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null; then
    echo "SKIP: needs root and ip (network namespaces and tap devices)"
    exit 0
fi
BUILD="${SARAB_BUILD_DIR:?run through ctest, or set SARAB_BUILD_DIR}"
SRC="${SARAB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
DNS="$BUILD/apps/dns/dns"
command -v dig >/dev/null || { echo "dig is missing: apt-get install bind9-dnsutils" >&2; exit 1; }
[ -x "$DNS" ] || { echo "$DNS is not built" >&2; exit 1; }

ns=sarab-dns-$$-$RANDOM
tap=sdns$$
log=$(mktemp)
PID=""
cleanup() {
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    ip netns delete "$ns" 2>/dev/null || true
    rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns"
ip -n "$ns" tuntap add dev "$tap" mode tap
ip -n "$ns" address add 198.18.0.1/24 dev "$tap"
ip -n "$ns" link set dev "$tap" up

# nsenter runs the server itself (ip netns exec would fork): $! is its process id.
nsenter --net="/run/netns/$ns" "$DNS" --dev=zones=dir:"$SRC/tests/services/dns/zones" --net=tap:"$tap" \
    --ipv4=198.18.0.2/24 --port=53 > "$log" 2>&1 &
PID=$!

q() { ip netns exec "$ns" dig @198.18.0.2 +time=2 +tries=1 +norec "$@" 2>&1; }
ready=0
for i in $(seq 1 100); do
    kill -0 "$PID" 2>/dev/null || break
    if q example.org SOA | grep -q "status: NOERROR"; then
        ready=1
        break
    fi
    sleep 0.1
done
[ "$ready" = 1 ] || { echo "FAIL: the server did not answer on 198.18.0.2:"; cat "$log"; exit 1; }
grep -q "sarab stack" "$log" || { echo "FAIL: not on Sarab's stack:"; cat "$log"; exit 1; }

failures=0
check() {
    local what="$1" pattern="$2" out="$3"
    grep -Eq -- "$pattern" <<< "$out" || { echo "FAIL: $what: want '$pattern': $out"; failures=$((failures + 1)); }
}
out="$(q www.example.org A)"
check "A" "status: NOERROR" "$out"
check "A" "flags: qr aa;" "$out"
check "A" "198\.18\.0\.80" "$out"
out="$(q nothing.example.org A)"
check "NXDOMAIN" "status: NXDOMAIN" "$out"
check "NXDOMAIN" "SOA" "$out"
out="$(q www.child.example.org A)"
check "referral" "flags: qr;" "$out"
check "referral" "198\.18\.3\.1" "$out"
out="$(q big.example.org A +noedns +ignore)"
check "truncation" "flags: qr aa tc;" "$out"
out="$(q big.example.org A +bufsize=1232)"
check "EDNS" "ANSWER: 32," "$out"
[ "$failures" = 0 ] || exit 1
echo "PASS: examples/dns answers on Sarab's own stack over a tap device"
