#!/usr/bin/env bash
# examples/dns on the host's sockets, queried with dig over loopback: every kind of answer of
# issue 5 once, over UDP and TCP, plus truncation and AXFR. Needs dig (bind9-dnsutils).
# It runs in the AddressSanitizer build too:
# sarab-test: sanitize
set -euo pipefail

BUILD="${SARAB_BUILD_DIR:?run through ctest, or set SARAB_BUILD_DIR}"
SRC="${SARAB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
DNS="$BUILD/apps/dns/dns"
ZONES="$SRC/tests/services/dns/zones"
command -v dig >/dev/null || { echo "dig is missing: apt-get install bind9-dnsutils" >&2; exit 1; }
[ -x "$DNS" ] || { echo "$DNS is not built" >&2; exit 1; }

WORK="$(mktemp -d)"
PID=""
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

source "$(dirname "${BASH_SOURCE[0]}")/../../lib/ports.sh"

# Start the server on a free port; try another if that one is taken meanwhile.
start_server() {
    local attempt
    for attempt in 1 2 3 4 5; do
        PORT=$(free_port)
        "$DNS" --dev=zones=dir:"$ZONES" --port="$PORT" "$@" > "$WORK/server.log" 2>&1 &
        PID=$!
        # Ready when it answers; give up after 10 s.
        local i
        for i in $(seq 1 100); do
            if ! kill -0 "$PID" 2>/dev/null; then
                break
            fi
            if dig @127.0.0.1 -p "$PORT" +time=1 +tries=1 example.org SOA >/dev/null 2>&1; then
                return 0
            fi
            sleep 0.1
        done
        if kill -0 "$PID" 2>/dev/null; then
            kill "$PID"; wait "$PID" 2>/dev/null || true
        else
            wait "$PID" 2>/dev/null || true
        fi
        PID=""
        grep -q "cannot bind\|cannot listen" "$WORK/server.log" || { cat "$WORK/server.log" >&2; return 1; }
    done
    return 1
}

stop_server() {
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}

start_server --tcp-idle=1 || { echo "the server did not start" >&2; exit 1; }
grep -q "loaded 1 zones, 71 records in" "$WORK/server.log" || fail "start-up log: $(cat "$WORK/server.log")"

q() { dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +norec "$@"; }

# expect NAME TYPE [dig options] -- STATUS FLAGS-GREP ANSWER-GREP...
expect() {
    local name="$1" type="$2"; shift 2
    local opts=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
    shift
    local status="$1" flags="$2"; shift 2
    local out
    out="$(q "${opts[@]}" "$name" "$type" 2>&1)" || { fail "$name $type: dig failed: $out"; return; }
    grep -q "status: $status," <<< "$out" || fail "$name $type ${opts[*]}: want $status: $out"
    grep -Eq "flags: $flags;" <<< "$out" || fail "$name $type ${opts[*]}: want flags '$flags': $out"
    local want
    for want in "$@"; do
        grep -Eq -- "$want" <<< "$out" || fail "$name $type ${opts[*]}: want '$want': $out"
    done
}

A='IN[[:space:]]+A[[:space:]]+'
expect www.example.org A -- NOERROR "qr aa" "^www\.example\.org\.[[:space:]]+3600[[:space:]]+${A}198\.18\.0\.80" "${A}198\.18\.0\.81"
expect www.example.org AAAA -- NOERROR "qr aa" "AAAA[[:space:]]+2001:db8::80"
expect example.org MX -- NOERROR "qr aa" "MX[[:space:]]+10 mail\.example\.org\." "MX[[:space:]]+20 mail2\.example\.org\." \
    "^mail\.example\.org\..*198\.18\.0\.25"
expect text.example.org TXT -- NOERROR "qr aa" '"hello world" "second string" "with \\"quotes\\" and \\\\ backslash" "ABC"'
expect alias.example.org A -- NOERROR "qr aa" "CNAME[[:space:]]+www\.example\.org\." "${A}198\.18\.0\.80"
expect chain1.example.org A -- NOERROR "qr aa" "ANSWER: 4,"
expect outside.example.org A -- NOERROR "qr aa" "ANSWER: 1," "CNAME[[:space:]]+www\.example\.net\."
expect dangling.example.org A -- NXDOMAIN "qr aa" "CNAME[[:space:]]+nothing\.example\.org\." "SOA"
expect anything.wild.example.org A -- NOERROR "qr aa" "^anything\.wild\.example\.org\..*198\.18\.1\.1"
expect a.b.wild.example.org TXT -- NOERROR "qr aa" '"wildcard"'
expect sub.wild.example.org TXT -- NOERROR "qr aa" "ANSWER: 0," "SOA"
expect x.cname-wild.example.org A -- NOERROR "qr aa" "^x\.cname-wild\.example\.org\..*CNAME" "198\.18\.0\.80"
expect nothing.example.org A -- NXDOMAIN "qr aa" "ANSWER: 0," "^example\.org\.[[:space:]]+300[[:space:]]+IN[[:space:]]+SOA"
expect www.example.org MX -- NOERROR "qr aa" "ANSWER: 0," "^example\.org\.[[:space:]]+300[[:space:]]+IN[[:space:]]+SOA"
expect b.c.ent.example.org A -- NOERROR "qr aa" "ANSWER: 0," "SOA"
expect www.child.example.org A -- NOERROR "qr" "ANSWER: 0," "^child\.example\.org\..*NS[[:space:]]+ns1\.child\.example\.org\." \
    "^ns1\.child\.example\.org\..*198\.18\.3\.1" "^ns1\.child\.example\.org\..*AAAA[[:space:]]+2001:db8:3::1"
expect www.example.com A -- REFUSED "qr" "ANSWER: 0,"
expect _sip._tcp.example.org SRV -- NOERROR "qr aa" "SRV[[:space:]]+10 60 5060 sip\.example\.org\."
expect example.org CAA -- NOERROR "qr aa" 'CAA[[:space:]]+0 issue "ca\.example\.net"'
expect unknown.example.org TYPE65280 -- NOERROR "qr aa" '\\# 4 0A0B0C0D'
expect generic-a.example.org A -- NOERROR "qr aa" "198\.18\.0\.99"
expect ptr.example.org PTR -- NOERROR "qr aa" "PTR[[:space:]]+www\.example\.org\."
# 0x20: the answer comes back in the question's case, also when memoised.
expect MiXeD.ExAmPlE.OrG A -- NOERROR "qr aa" "^MiXeD\.ExAmPlE\.OrG\..*198\.18\.5\.1"
expect mixed.example.org A -- NOERROR "qr aa" "^mixed\.example\.org\..*198\.18\.5\.1"
# RD is echoed, RA never set.
expect www.example.org A +rec -- NOERROR "qr aa rd" "${A}198\.18\.0\.80"

# Truncation: 32 A records do not fit 512 bytes; with EDNS 1232 they do; TCP always.
expect big.example.org A +noedns +ignore -- NOERROR "qr aa tc" "ANSWER: 0,"
expect big.example.org A +bufsize=1232 -- NOERROR "qr aa" "ANSWER: 32,"
expect big.example.org A +noedns +tcp -- NOERROR "qr aa" "ANSWER: 32,"
# dig retries over TCP by itself after TC.
expect big.example.org A +noedns -- NOERROR "qr aa" "ANSWER: 32,"
expect www.example.org AAAA +tcp -- NOERROR "qr aa" "2001:db8::80"

# Several queries on one TCP connection (RFC 7766): dig +keepopen reuses it.
out="$(q +tcp +keepopen www.example.org A mail.example.org A nothing.example.org A 2>&1)"
[ "$(grep -c 'status: NOERROR' <<< "$out")" = 2 ] && grep -q 'status: NXDOMAIN' <<< "$out" \
    || fail "three queries on one TCP connection: $out"

# A TCP connection that stays quiet is closed after --tcp-idle (1 s here), not kept for ever.
python3 - "$PORT" <<'PY' || fail "an idle TCP connection was not closed within 5 s"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
start = time.monotonic()
try:
    data = s.recv(1)  # b"" once the server closes
except socket.timeout:
    sys.exit(1)
sys.exit(0 if data == b"" and time.monotonic() - start < 5 else 1)
PY

# AXFR over TCP: SOA first and last, every record between.
axfr="$(dig @127.0.0.1 -p "$PORT" +time=5 +tries=1 example.org AXFR 2>&1)"
n_records=$(grep -Ec '^[^;[:space:]].*[[:space:]]IN[[:space:]]' <<< "$axfr" || true)
[ "$n_records" = 72 ] || fail "AXFR: want 71 records + the closing SOA, got $n_records: $axfr"
[ "$(grep -E '[[:space:]]IN[[:space:]]' <<< "$axfr" | head -1 | awk '{print $4}')" = SOA ] || fail "AXFR does not start with the SOA"
[ "$(grep -E '[[:space:]]IN[[:space:]]' <<< "$axfr" | tail -1 | awk '{print $4}')" = SOA ] || fail "AXFR does not end with the SOA"
# (AXFR over UDP, answered NOTIMP, is a unit test: dig always asks for AXFR over TCP.)

stop_server

# --minimal-responses: no authority NS or extra addresses on positive answers.
start_server --minimal-responses || { echo "the server did not start with --minimal-responses" >&2; exit 1; }
expect example.org MX -- NOERROR "qr aa" "AUTHORITY: 0," "ADDITIONAL: 1$"
stop_server

# A bad zone file: a clear error naming file:line, exit status 1, nothing served.
mkdir -p "$WORK/bad"
cp "$ZONES/example.org.zone" "$WORK/bad/"
printf '$TTL 60\n@ SOA ns h 1 2 3 4 5\n NS ns\nns A 198.18.0.300\n' > "$WORK/bad/example.net.zone"
set +e
"$DNS" --dev=zones=dir:"$WORK/bad" --port=0 > "$WORK/bad.log" 2>&1
status=$?
set -e
[ "$status" = 1 ] || fail "a bad zone file: want exit status 1, got $status"
grep -q "example.net.zone:4: bad RDATA: bad IPv4 address '198.18.0.300' (A record)" "$WORK/bad.log" \
    || fail "a bad zone file: want file:line in the error: $(cat "$WORK/bad.log")"

if [ "$failures" -gt 0 ]; then
    echo "$failures checks failed" >&2
    exit 1
fi
echo "dns.test.sh: all checks passed"
