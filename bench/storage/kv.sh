#!/usr/bin/env bash
# The read-write store behind examples/kv, measured from outside over HTTP (not a test): one
# client (python3, one keep-alive connection, pinned to CPU 0), the service pinned to CPU 1.
# For each target, COUNT puts of 100-byte values to distinct keys, each answered only once the
# record is written and flushed; then COUNT gets of them; then COUNT overwrites of one key
# with 4 KiB values (compactions included). Prints operations per second for each.
#
#   bench/storage/kv.sh [COUNT (default 2000)] [TARGETS (default "hosted virtio")]
#
# hosted: the Release build of examples/kv on a 64 MiB disk file in a fresh temporary
# directory (so fdatasync reaches whatever file system holds it); virtio: the unikernel under
# QEMU (TCG here, KVM where /dev/kvm exists), the same kind of file as a virtio-blk disk, its
# port forwarded by QEMU's user network. Everything started here is stopped by its pid.
set -euo pipefail
COUNT="${1:-2000}"
TARGETS="${2:-hosted virtio}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${SARAB_HTTP_BENCH_BUILD:-$ROOT/build/http-bench}"
source "$ROOT/tests/lib/ports.sh"
WORK="$(mktemp -d)"
PID=""
stop() {
    [ -z "$PID" ] || { kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
    if [ -f "$WORK/qemu.pid" ]; then
        local q
        q="$(cat "$WORK/qemu.pid")"
        grep -qaF -- "$WORK/qemu.pid" "/proc/$q/cmdline" 2>/dev/null && kill -TERM "$q" 2>/dev/null || true
        rm -f "$WORK/qemu.pid"
    fi
    PID=""
}
trap 'stop; rm -rf "$WORK"' EXIT

wait_up() {
    local i
    for i in $(seq 1 600); do
        curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/keys/" && return 0
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1 # until it answers, 60 s at most
    done
    echo "kv did not answer; its output:" >&2
    cat "$WORK/out" >&2
    exit 1
}

measure() {
    taskset -c 0 python3 - "$1" "$COUNT" "$2" <<'PY'
import http.client, sys, time
port, count, target = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
def run(name, method, key, body):
    t0 = time.monotonic()
    for i in range(count):
        c.request(method, "/keys/" + key(i), body=body)
        r = c.getresponse()
        r.read()
        assert r.status in (200, 201, 204), "%s %d: status %d" % (name, i, r.status)
    rate = count / (time.monotonic() - t0)
    print("%-7s %-28s %8.0f /s  (%d operations)" % (target, name, rate, count), flush=True)
run("put, 100 B, distinct keys", "PUT", lambda i: "k%06d" % i, b"v" * 100)
run("get, 100 B", "GET", lambda i: "k%06d" % i, None)
run("overwrite, 4 KiB, one key", "PUT", lambda i: "rotating", b"w" * 4096)
PY
}

for target in $TARGETS; do
    rm -f "$WORK/disk.img" && truncate -s 64M "$WORK/disk.img"
    case "$target" in
        hosted)
            if [ ! -f "$BUILD/build.ninja" ]; then
                cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSARAB_TESTS=OFF -DSARAB_LOG_MIN_LEVEL=info >&2
            fi
            ninja -C "$BUILD" -j1 kv >&2
            port="$(free_port)"
            taskset -c 1 "$BUILD/apps/kv/kv" --port="$port" --dev="data=file:$WORK/disk.img" >"$WORK/out" 2>&1 &
            PID=$!
            ;;
        virtio)
            "$ROOT/sarab" build -t virtio "$ROOT/examples/kv" >/dev/null
            port="$(free_port)"
            SARAB_QEMU_PIDFILE="$WORK/qemu.pid" taskset -c 1 "$ROOT/sarab" run -t virtio "$ROOT/examples/kv" \
                --block "data=$WORK/disk.img" --forward "$port:80" >"$WORK/out" 2>&1 </dev/null &
            PID=$!
            ;;
        *) echo "unknown target $target (hosted, virtio)" >&2; exit 2 ;;
    esac
    wait_up "$port"
    measure "$port" "$target"
    stop
done
