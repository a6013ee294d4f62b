#!/usr/bin/env bash
# examples/www as a virtio unikernel under QEMU (TCG here), reached through QEMU's user
# network with a forwarded port, as the README's first command runs it: the image gets its
# address by DHCP and serves the site over Sarab's own TCP. Checked with curl (pages, 404,
# keep-alive reuse, a range, a conditional request) and headless Chromium, whose screenshot
# must show the rendered home page. Only loopback traffic; QEMU is stopped by its pid.
set -euo pipefail
source "$(dirname "$0")/../../platform/virtio/lib.sh"
source "$source_dir/tests/lib/ports.sh"
command -v curl >/dev/null || { echo "FAIL: curl is missing (Debian package curl)"; exit 1; }

trap 'stop_qemu; cleanup' EXIT
die() { die_showing www "$@"; }

lock_virtio_tests
"$source_dir/sarab" build -t virtio "$source_dir/examples/www" >/dev/null 2>"$work/www.build" || die "build: $(tail -5 "$work/www.build")"

port="$(free_port)"
base="http://127.0.0.1:$port"
start_running www "$source_dir/examples/www" --forward "$port:80"
up=0
for _ in $(seq 1 600); do
    if curl -s -o /dev/null --max-time 2 "$base/"; then up=1; break; fi
    kill -0 "$runner" 2>/dev/null || break
    sleep 0.1 # the guest boots and leases its address; checked every 100 ms, 60 s at most
done
[ "$up" = 1 ] || die "www never answered on $base"
grep -q "bound to 10.0.2.15" "$work/www.out" || die "the image did not lease its address from QEMU's DHCP"

# Pages and errors.
home="$(curl -s --max-time 10 "$base/")"
grep -q "<title>Sarab" <<<"$home" || die "the home page is not Sarab's"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$base/no/such/page")" = 404 ] || die "a missing page is not 404"
# Keep-alive: two requests, one connection.
reuse="$(curl -s -v --max-time 10 -o /dev/null -o /dev/null "$base/" "$base/" 2>&1 | grep -c 'Re-using existing connection' || true)"
[ "$reuse" -ge 1 ] || die "the second request did not reuse the connection"
# A range and a conditional request.
[ "$(curl -s --max-time 10 -r 0-14 "$base/")" = "<!doctype html>" ] || die "range 0-14 is not the page's first 15 bytes"
etag="$(curl -s -D - -o /dev/null --max-time 10 "$base/" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')"
[ -n "$etag" ] || die "no ETag"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "If-None-Match: $etag" "$base/")" = 304 ] || die "If-None-Match did not give 304"
# A bigger transfer: every file of the site, compared with its source.
for f in $(cd "$source_dir/examples/www/site" && find . -type f ! -name '*.gz' | sed 's|^\./||'); do
    curl -s --max-time 20 -o "$work/got" "$base/$f" || die "GET /$f failed"
    cmp -s "$work/got" "$source_dir/examples/www/site/$f" || die "/$f differs from its source"
done
echo "www on virtio: pages, 404, keep-alive, range, 304 and every file intact"

python3 "$source_dir/tests/lib/check_screenshot.py" "$base/" "$work" || die "headless Chromium did not show the rendered page"
echo "www on virtio: headless Chromium rendered the home page served by the unikernel"
