#!/usr/bin/env bash
# HTTP on Sarab's own TCP/IP (issue 6, "own stack on tap", reported apart from the socket
# stack): examples/www (hosted, Release) on `--net=tap:IF` in a network namespace made for the
# run, serving a 1 KiB and a 100 KiB file; wrk in the namespace. Server pinned to CPU 1, wrk
# to CPU 0: `wrk -t1 -c50 -dSECONDS`, with keep-alive and with "Connection: close", RUNS runs
# each.
# Prints requests/s, requests per server CPU-second (utime+stime of the server from
# /proc/PID/stat) and the server's resident memory after each run.
#
# The namespace lets Linux reuse client ports in TIME-WAIT (bench/lib/tap_namespace.sh says
# why): with "Connection: close" both ends often close at once.
#
#   bench/http/own_stack.sh [SECONDS (default 5)] [RUNS (default 3)]     (needs root)
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "needs root (a namespace and a tap device)" >&2; exit 1; }
SECONDS_PER_RUN="${1:-5}"
RUNS="${2:-3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${SARAB_HTTP_BENCH_BUILD:-$ROOT/build/http-bench}"
command -v wrk >/dev/null || { echo "missing wrk: apt-get install -y wrk" >&2; exit 1; }
if [ ! -f "$BUILD/build.ninja" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSARAB_TESTS=OFF -DSARAB_LOG_MIN_LEVEL=info >&2
fi
ninja -C "$BUILD" -j1 www >&2
WWW="$BUILD/apps/www/www"

WORK="$(mktemp -d)"
NS="sarab-httpown-$$"
TAP="tho$$"
SERVER=""
cleanup() {
    [ -z "$SERVER" ] || { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/site"
head -c 1024 /dev/zero | tr '\0' 'x' >"$WORK/site/1k.txt"
head -c 102400 /dev/zero | tr '\0' 'y' >"$WORK/site/100k.txt"

source "$ROOT/bench/lib/tap_namespace.sh"
make_tap_namespace "$NS" "$TAP"

nsenter --net="/run/netns/$NS" taskset -c 1 "$WWW" --dev=htdocs=dir:"$WORK/site" --net=tap:"$TAP" \
    --ipv4=198.18.0.2/24 --port=80 --log=warn >"$WORK/www.log" 2>&1 &
SERVER=$!
URL=http://198.18.0.2/1k.txt
for _ in $(seq 1 100); do
    ip netns exec "$NS" curl -s -o /dev/null -m 1 "$URL" && break
    kill -0 "$SERVER" 2>/dev/null || { echo "www exited: $(cat "$WORK/www.log")" >&2; exit 1; }
    sleep 0.1
done

ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER/stat"; }
HZ=$(getconf CLK_TCK)
echo "# HTTP on Sarab's own stack over tap: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r)"
echo "| file | connections | requests/s | requests per server CPU-s | server RSS after |"
echo "|---|---|---|---|---|"
for file in 1k.txt 100k.txt; do
    for mode in keep-alive close; do
        args=()
        [ "$mode" = close ] && args=(-H "Connection: close")
        for _ in $(seq 1 "$RUNS"); do
            before=$(ticks)
            out=$(ip netns exec "$NS" taskset -c 0 wrk -t1 -c50 -d"${SECONDS_PER_RUN}s" "${args[@]}" "http://198.18.0.2/$file")
            after=$(ticks)
            if grep -qE "Non-2xx|Socket errors" <<<"$out"; then
                echo "# wrk saw errors: $(grep -E 'Non-2xx|Socket errors' <<<"$out")"
            fi
            rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
            requests=$(awk '/requests in/ { print $1 }' <<<"$out")
            rss=$(awk '/VmRSS/ { print $2 " " $3 }' "/proc/$SERVER/status")
            per_cpu=$(python3 -c "print(round($requests / max(($after - $before) / $HZ, 1e-9)))")
            echo "| $file | $mode | $rps | $per_cpu | $rss |"
        done
    done
done
