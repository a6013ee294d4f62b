#!/usr/bin/env bash
# examples/www on the socket stack, checked from outside with curl, raw sockets (python3) and
# headless Chromium: the site and its precompressed variants, keep-alive reuse, pipelining,
# ranges, conditional requests, gzip, chunked uploads to the echo route, malformed and
# oversized requests answered with 4xx while the server keeps serving, a slow client timed
# out, a directory bound at start instead of the built-in pages, and a screenshot of the
# rendered home page. Only loopback traffic; only processes this script started are killed.
# sarab-test: sanitize
set -euo pipefail

build="${SARAB_BUILD_DIR:?}"
src="${SARAB_SOURCE_DIR:?}"
www="$build/apps/www/www"
site="$src/examples/www/site"
[ -x "$www" ] || { echo "FAIL: $www was not built"; exit 1; }
command -v curl >/dev/null || { echo "FAIL: curl is missing (Debian package curl)"; exit 1; }

source "$src/tests/lib/ports.sh"
tmp="$(mktemp -d /tmp/sarab-www.XXXXXX)"
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for log in "$tmp"/*.log; do [ -f "$log" ] && { echo "--- $log"; tail -20 "$log"; }; done
    exit 1
}

# Starts www on a free port with the given arguments; sets PORT. Waits (bounded) until it
# accepts connections; tries another port if the one chosen was taken meanwhile.
start_www() {
    local name="$1"; shift
    local attempt
    for attempt in 1 2 3 4 5; do
        PORT="$(free_port)"
        "$www" --port="$PORT" "$@" >"$tmp/$name.log" 2>&1 &
        local pid=$!
        pids+=("$pid")
        local i
        for i in $(seq 1 200); do
            if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/"; then
                return 0
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        # The port may have been taken: try another.
        grep -q "address in use" "$tmp/$name.log" 2>/dev/null || fail "www ($name) never answered on port $PORT"
    done
    fail "no free port for www ($name)"
}

# ---- the site's precompressed variants are what their files compress to ---------------------
while IFS= read -r -d '' gz; do
    gunzip -c "$gz" | cmp -s - "${gz%.gz}" || fail "$gz does not match ${gz%.gz}: run examples/www/compress.sh"
done < <(find "$site" -name '*.gz' -print0)

start_www main --echo --header-timeout=1s --max-body=65536
base="http://127.0.0.1:$PORT"
server_pid="${pids[-1]}"

# ---- pages and keep-alive reuse ---------------------------------------------------------------
curl -sv "$base/" -o "$tmp/index.html" "$base/style.css" -o "$tmp/style.css" 2>"$tmp/keepalive.txt" || fail "curl of two pages"
cmp -s "$tmp/index.html" "$site/index.html" || fail "/ is not site/index.html"
cmp -s "$tmp/style.css" "$site/style.css" || fail "/style.css is not site/style.css"
grep -q "Re-using existing connection" "$tmp/keepalive.txt" || fail "curl did not reuse the connection: $(grep -i connection "$tmp/keepalive.txt")"
grep -qi "^< Server: sarab" "$tmp/keepalive.txt" || fail "no Server field"
grep -qiE "^< Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT" "$tmp/keepalive.txt" || fail "no IMF-fixdate Date field"
echo "www: pages and keep-alive reuse"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$base/docs")" = 301 ] || fail "/docs is not redirected"
[ "$(curl -s -o /dev/null -w '%{redirect_url}' "$base/docs")" = "$base/docs/" ] || fail "/docs is not redirected to /docs/"
[ "$(code "$base/docs/")" = 200 ] || fail "/docs/ is not served"
[ "$(code "$base/no-such-page")" = 404 ] || fail "a missing page is not 404"
curl -s "$base/no-such-page" | grep -q "A mirage" || fail "the 404 page is not the site's 404.html"
[ "$(code -X POST -d x "$base/index.html")" = 405 ] || fail "POST to a page is not 405"
curl -s -D - -o /dev/null -X DELETE "$base/" | grep -qi "^Allow: GET, HEAD, OPTIONS" || fail "405 without Allow"
head_fields="$(curl -s -I "$base/index.html")"
grep -qi "^Content-Length: $(stat -c %s "$site/index.html")" <<<"$head_fields" || fail "HEAD has the wrong Content-Length"
for path in "/../../etc/passwd" "/%2e%2e/%2e%2e/etc/passwd" "/docs/..%2f..%2fetc%2fpasswd" "/a%00b" '/docs\..\index.html'; do
    c="$(code --path-as-is "$base$path")"
    [ "$c" = 400 ] || fail "traversal $path gave $c, not 400"
done
echo "www: redirects, 404, 405, HEAD, traversal refused"

# ---- ranges and conditional requests ----------------------------------------------------------
size="$(stat -c %s "$site/style.css")"
curl -s -D "$tmp/range.h" -r 10-29 "$base/style.css" -o "$tmp/range.b"
grep -q "^HTTP/1.1 206" "$tmp/range.h" || fail "a range is not 206"
grep -qi "^Content-Range: bytes 10-29/$size" "$tmp/range.h" || fail "wrong Content-Range: $(grep -i content-range "$tmp/range.h")"
cmp -s "$tmp/range.b" <(dd if="$site/style.css" bs=1 skip=10 count=20 2>/dev/null) || fail "the range's bytes are wrong"
[ "$(code -r "$size-" "$base/style.css")" = 416 ] || fail "an unsatisfiable range is not 416"
curl -s -D - -o /dev/null -r "$size-" "$base/style.css" | grep -qi "^Content-Range: bytes \*/$size" || fail "416 without Content-Range"
[ "$(code -r 0-1,5-6 "$base/style.css")" = 200 ] || fail "several ranges are not answered with the whole file"

etag="$(curl -s -D - -o /dev/null "$base/style.css" | sed -n 's/^[Ee][Tt][Aa][Gg]: *\(.*\)\r$/\1/p')"
modified="$(curl -s -D - -o /dev/null "$base/style.css" | sed -n 's/^[Ll]ast-[Mm]odified: *\(.*\)\r$/\1/p')"
[[ "$etag" =~ ^\"[0-9a-f]{16}\"$ ]] || fail "not a strong ETag: [$etag]"
[ "$(code -H "If-None-Match: $etag" "$base/style.css")" = 304 ] || fail "If-None-Match did not give 304"
[ "$(code -H "If-None-Match: \"stale\"" "$base/style.css")" = 200 ] || fail "a stale If-None-Match did not give 200"
[ "$(code -H "If-Modified-Since: $modified" "$base/style.css")" = 304 ] || fail "If-Modified-Since did not give 304"
[ "$(code -H "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT" "$base/style.css")" = 200 ] || fail "an old If-Modified-Since did not give 200"
[ "$(code -r 0-3 -H "If-Range: \"stale\"" "$base/style.css")" = 200 ] || fail "a stale If-Range kept the range"
echo "www: ranges (206, 416), If-None-Match, If-Modified-Since, If-Range"

# ---- gzip variants ------------------------------------------------------------------------------
curl -s -D "$tmp/gz.h" -H "Accept-Encoding: gzip" "$base/style.css" -o "$tmp/gz.b"
grep -qi "^Content-Encoding: gzip" "$tmp/gz.h" || fail "no gzip variant for Accept-Encoding: gzip"
grep -qi "^Vary: Accept-Encoding" "$tmp/gz.h" || fail "the gzip variant has no Vary"
gunzip -c "$tmp/gz.b" | cmp -s - "$site/style.css" || fail "the gzip variant does not decompress to the file"
curl -s -D - -o /dev/null "$base/style.css" | grep -qi "^Content-Encoding" && fail "gzip sent without Accept-Encoding"
curl -s --compressed "$base/docs/architecture.html" | cmp -s - "$site/docs/architecture.html" || fail "curl --compressed got another page"
echo "www: gzip variants chosen by Accept-Encoding"

# ---- uploads to the echo route ------------------------------------------------------------------
head -c 50000 /dev/urandom >"$tmp/upload.bin"
curl -s -H "Transfer-Encoding: chunked" -H "Content-Type: application/octet-stream" --data-binary @"$tmp/upload.bin" "$base/echo" -o "$tmp/echoed.bin"
cmp -s "$tmp/upload.bin" "$tmp/echoed.bin" || fail "a chunked upload did not come back as sent"
curl -s --data-binary @"$tmp/upload.bin" "$base/echo" -o "$tmp/echoed2.bin"
cmp -s "$tmp/upload.bin" "$tmp/echoed2.bin" || fail "a Content-Length upload did not come back as sent"
head -c 70000 /dev/zero >"$tmp/too-big.bin"
[ "$(code --data-binary @"$tmp/too-big.bin" "$base/echo")" = 413 ] || fail "a body over --max-body is not 413"
[ "$(code -H "Transfer-Encoding: chunked" --data-binary @"$tmp/too-big.bin" "$base/echo")" = 413 ] || fail "a chunked body over --max-body is not 413"
echo "www: chunked and sized uploads echoed; oversized bodies 413"

# ---- raw requests: pipelining, malformed and oversized, a slow client ---------------------------
python3 - "$PORT" <<'PY' || fail "raw request checks"
import socket, sys, time

port = int(sys.argv[1])

def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def read_response(s, buf=b""):
    """One response (Content-Length framed); returns (status, headers, body, rest)."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError("connection closed before a response: %r" % buf[:200])
        buf += chunk
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        fields[k.strip().lower()] = v.strip()
    n = int(fields.get("content-length", "0"))
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError("body cut short")
        buf += chunk
    return status, fields, buf[:n], buf[n:]

def closed(s):
    s.settimeout(5)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True

def still_serving():
    s = connect()
    s.sendall(b"GET /favicon.svg HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body, _ = read_response(s)
    s.close()
    assert status == 200 and body.startswith(b"<svg"), "the server stopped serving"

# Pipelining: three requests in one write, three responses in order on one connection.
s = connect()
s.sendall(b"GET /style.css HTTP/1.1\r\nHost: t\r\n\r\n"
          b"HEAD /index.html HTTP/1.1\r\nHost: t\r\n\r\n"
          b"GET /favicon.svg HTTP/1.1\r\nHost: t\r\n\r\n")
st1, h1, b1, rest = read_response(s)
# The HEAD response has a Content-Length but no body: its head only.
while b"\r\n\r\n" not in rest:
    rest += s.recv(65536)
head2, _, rest = rest.partition(b"\r\n\r\n")
st3, h3, b3, rest = read_response(s, rest)
assert st1 == 200 and h1["content-type"].startswith("text/css"), "pipelined response 1"
assert head2.startswith(b"HTTP/1.1 200") and b"text/html" in head2, "pipelined response 2 (HEAD)"
assert st3 == 200 and b3.startswith(b"<svg") and h3["content-type"] == "image/svg+xml", "pipelined response 3"
assert rest == b"", "stray bytes after the pipelined responses"
s.close()
print("www: pipelined requests answered in order on one connection")

# Malformed and oversized requests: a 4xx each, then the server goes on serving.
cases = [
    (b"GET / HTTP/1.1\r\nHost: t\r\nBad Field: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: t\r\n folded\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: t\r\nCookie: " + b"c" * 20000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: t\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n", 431),
    (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
    (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
    (b"BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n", 501),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40, 400),  # a TLS hello
]
for raw, want in cases:
    s = connect()
    s.sendall(raw)
    status, fields, _, _ = read_response(s)
    assert status == want, "%r...: %d, not %d" % (raw[:40], status, want)
    if want != 501 or raw.startswith(b"POST"):
        assert fields.get("connection") == "close", "%r: no Connection: close" % raw[:40]
        assert closed(s), "%r: the connection stayed open" % raw[:40]
    s.close()
    still_serving()
print("www: malformed and oversized requests answered 400/414/431/501/505; still serving")

# A slow client (one header line every 0.3 s) gets 408 once --header-timeout=1s has passed.
s = connect()
start = time.monotonic()
s.sendall(b"GET / HTTP/1.1\r\n")
got = b""
s.settimeout(0.3)
while time.monotonic() - start < 10:
    try:
        s.sendall(b"X-Slow: 1\r\n")
    except (BrokenPipeError, ConnectionResetError):
        break
    try:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    except socket.timeout:
        pass
    except ConnectionResetError:
        break
elapsed = time.monotonic() - start
assert got.startswith(b"HTTP/1.1 408"), "the slow client got %r" % got[:60]
assert 0.8 < elapsed < 4, "the slow client was cut off after %.2f s" % elapsed
s.close()
print("www: a slow client was answered 408 after %.1f s" % elapsed)

# An idle connection that never sends a byte is closed after the header timeout too.
s = connect()
start = time.monotonic()
assert closed(s), "an idle new connection stayed open"
assert time.monotonic() - start < 4
s.close()
still_serving()
print("www: idle connections closed; still serving")
PY

kill -0 "$server_pid" 2>/dev/null || fail "www died"
grep -qE "VERIFY|panic|AddressSanitizer|runtime error" "$tmp/main.log" && fail "www logged a panic or a sanitizer report"

# ---- a directory bound when the image starts (what `sarab run --kv htdocs=DIR` passes) ------------
mkdir -p "$tmp/other/sub"
printf '<h1>another site</h1>\n' >"$tmp/other/index.html"
printf 'plain\n' >"$tmp/other/sub/file.txt"
start_www other "--dev=htdocs=dir:$tmp/other"
[ "$(curl -s "http://127.0.0.1:$PORT/")" = "<h1>another site</h1>" ] || fail "--dev=htdocs=dir: did not serve the directory"
[ "$(curl -s "http://127.0.0.1:$PORT/sub/file.txt")" = "plain" ] || fail "--dev=htdocs=dir: sub/file.txt"
[ "$(code "http://127.0.0.1:$PORT/echo" -d x)" = 405 ] || fail "/echo answered without --echo"
echo "www: a directory bound at start is served instead of the built-in pages"

# ---- headless Chromium renders the home page ------------------------------------------------------
python3 "$src/tests/lib/check_screenshot.py" "$base/" "$tmp" || fail "headless Chromium did not show the rendered page"
echo "www: headless Chromium rendered the home page"
echo "www: all checks passed"
