#!/usr/bin/env bash
# Differential test of examples/dns against NSD and Knot serving the same zone on loopback:
# a few hundred generated questions (differential.py), compared by rcode, flags and each
# section as a set of records.
#
# - NSD with `minimal-responses: no` against examples/dns as it starts by default: every
#   section is compared.
# - Knot against examples/dns --minimal-responses: both leave the zone's NS out of positive
#   answers, but Knot still adds the addresses of NS, MX and SRV targets, which
#   --minimal-responses leaves out (as BIND's minimal-responses does). That is the one
#   intended difference, so the additional section is not compared there. Knot also answers
#   ANY at the apex with another RRset than the SOA (RFC 8482 lets each server choose), so
#   ANY is not asked of it.
# - AXFR from examples/dns and from NSD: the same records (compared in lower case).
set -euo pipefail

BUILD="${SARAB_BUILD_DIR:?run through ctest, or set SARAB_BUILD_DIR}"
SRC="${SARAB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
DNS="$BUILD/apps/dns/dns"
ZONES="$SRC/tests/services/dns/zones"
ZONE="$ZONES/example.org.zone"
for tool in dig nsd knotd python3; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: ./sarab test installs bind9-dnsutils, nsd and knot" >&2; exit 1; }
done
[ -x "$DNS" ] || { echo "$DNS is not built" >&2; exit 1; }

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Four free ports (tests/lib/ports.sh), distinct.
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/ports.sh"
P_NSD=$(free_port)
while :; do P_KNOT=$(free_port); [ "$P_KNOT" != "$P_NSD" ] && break; done
while :; do P_OURS=$(free_port); [ "$P_OURS" != "$P_NSD" ] && [ "$P_OURS" != "$P_KNOT" ] && break; done
while :; do P_MIN=$(free_port); [ "$P_MIN" != "$P_NSD" ] && [ "$P_MIN" != "$P_KNOT" ] && [ "$P_MIN" != "$P_OURS" ] && break; done

# wait_ready PID PORT NAME: polls with dig until the server answers, for at most 15 s.
wait_ready() {
    local pid="$1" port="$2" what="$3" i
    for i in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || { echo "$what exited:" >&2; cat "$WORK/$what.log" >&2 || true; return 1; }
        dig @127.0.0.1 -p "$port" +time=1 +tries=1 +norec example.org SOA 2>/dev/null | grep -q "status: NOERROR" && return 0
        sleep 0.1
    done
    echo "$what did not answer on port $port" >&2
    cat "$WORK/$what.log" >&2 || true
    return 1
}

cat > "$WORK/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1@$P_NSD
    server-count: 1
    username: ""
    zonelistfile: "$WORK/zone.list"
    database: ""
    pidfile: "$WORK/nsd.pid"
    xfrdfile: "$WORK/xfrd.state"
    xfrdir: "$WORK"
    logfile: "$WORK/nsd.log"
    rrl-ratelimit: 0
    refuse-any: no
    minimal-responses: no
remote-control:
    control-enable: no
zone:
    name: example.org
    zonefile: "$ZONE"
    provide-xfr: 127.0.0.1 NOKEY
CONF
nsd -d -c "$WORK/nsd.conf" > "$WORK/nsd.out" 2>&1 &
PIDS+=($!)
NSD_PID=$!

mkdir -p "$WORK/knot"
cat > "$WORK/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$P_KNOT
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
knotd -c "$WORK/knot.conf" > "$WORK/knot.log" 2>&1 &
PIDS+=($!)
KNOT_PID=$!

"$DNS" --dev=zones=dir:"$ZONES" --port=$P_OURS > "$WORK/ours.log" 2>&1 &
PIDS+=($!)
OURS_PID=$!
"$DNS" --dev=zones=dir:"$ZONES" --port=$P_MIN --minimal-responses > "$WORK/ours-minimal.log" 2>&1 &
PIDS+=($!)
MIN_PID=$!

wait_ready $NSD_PID $P_NSD nsd
wait_ready $KNOT_PID $P_KNOT knot
wait_ready $OURS_PID $P_OURS ours
wait_ready $MIN_PID $P_MIN ours-minimal

status=0
echo "== examples/dns against NSD 'minimal-responses: no'"
python3 "$SRC/tests/services/dns/differential.py" "$ZONE" example.org. $P_OURS $P_NSD --count 400 --seed 11 || status=1
echo "== examples/dns --minimal-responses against Knot (additional section not compared)"
python3 "$SRC/tests/services/dns/differential.py" "$ZONE" example.org. $P_MIN $P_KNOT --count 400 --seed 12 \
    --skip-sections ADDITIONAL --exclude-types ANY || status=1
echo "== AXFR: the same records from examples/dns and NSD"
axfr() {
    dig @127.0.0.1 -p "$1" +time=5 +tries=1 example.org AXFR 2>&1 | grep -Ev '^;|^$' | tr 'A-Z' 'a-z' | awk '{$1=$1; print}' | sort
}
if diff <(axfr $P_OURS) <(axfr $P_NSD) > "$WORK/axfr.diff"; then
    echo "$(axfr $P_OURS | wc -l) records (the SOA twice), no differences"
else
    echo "AXFR differs:" >&2
    cat "$WORK/axfr.diff" >&2
    status=1
fi
exit $status
