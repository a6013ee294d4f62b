#!/usr/bin/env bash
# examples/dns as a virtio unikernel under QEMU (TCG here), as issue 5's user runs it:
#   ./sarab run -t virtio examples/dns --kv zones=DIR --forward PORT:53/udp --forward PORT:53
# The zones are compiled into the image; the image leases its address from QEMU's DHCP and
# answers over Sarab's own UDP and TCP. Checked with dig over loopback: an authoritative
# answer, NXDOMAIN, and queries over TCP. QEMU is stopped by its pid.
set -euo pipefail
source "$(dirname "$0")/../../platform/virtio/lib.sh"
source "$source_dir/tests/lib/ports.sh"
command -v dig >/dev/null || { echo "FAIL: dig is missing (Debian package bind9-dnsutils)"; exit 1; }
trap 'stop_qemu; cleanup' EXIT
die() { die_showing dns "$@"; }

lock_virtio_tests
zones="$source_dir/tests/services/dns/zones"
"$source_dir/sarab" build -t virtio --kv zones="$zones" "$source_dir/examples/dns" >/dev/null 2>"$work/dns.build" \
    || die "build: $(tail -5 "$work/dns.build")"

port="$(free_port)"
start_running dns --kv zones="$zones" "$source_dir/examples/dns" --forward "$port:53/udp" --forward "$port:53"
q() { dig @127.0.0.1 -p "$port" +time=2 +tries=1 +norec "$@"; }
up=0
for _ in $(seq 1 300); do
    if q example.org SOA 2>/dev/null | grep -q "status: NOERROR"; then up=1; break; fi
    kill -0 "$runner" 2>/dev/null || break
done
[ "$up" = 1 ] || die "the image never answered on 127.0.0.1:$port (UDP)"
grep -q "loaded 1 zones" "$work/dns.out" || die "the image did not say it loaded the zone"

answer="$(q www.example.org A)"
grep -q "flags: qr aa" <<<"$answer" || die "no authoritative answer: $answer"
grep -qE "^www\.example\.org\..*IN[[:space:]]+A[[:space:]]" <<<"$answer" || die "no A record for www.example.org: $answer"
q nothing-here.example.org A | grep -q "status: NXDOMAIN" || die "a missing name is not NXDOMAIN"
q +tcp www.example.org A | grep -qE "^www\.example\.org\..*IN[[:space:]]+A[[:space:]]" || die "no answer over TCP"
q example.org SOA +tcp | grep -q "status: NOERROR" || die "SOA over TCP failed"
echo "dns on virtio: UDP and TCP answers, NXDOMAIN, from zones compiled into the image"
