#!/usr/bin/env bash
# examples/kv as a virtio unikernel under QEMU (TCG here): the read-write store on a
# virtio-blk disk (a file), behind HTTP over Sarab's own TCP, reached through QEMU's user
# network with a forwarded port. The disk is first written by the hosted build of the same
# application: the image must read it (one format on every target). Then a 150 KB value and
# a small one are put through the unikernel, QEMU is killed (SIGKILL: no shutdown of any kind),
# and a second boot on the same disk must give both back. The driver must have taken
# VIRTIO_BLK_F_FLUSH, so that the store's flushes reach QEMU. Only loopback traffic; QEMU and
# the hosted process are stopped by their pids.
set -euo pipefail
source "$(dirname "$0")/../platform/virtio/lib.sh"
source "$source_dir/tests/lib/ports.sh"
command -v curl >/dev/null || { echo "FAIL: curl is missing (Debian package curl)"; exit 1; }

hosted_pid=""
trap '[ -z "$hosted_pid" ] || kill -KILL "$hosted_pid" 2>/dev/null || true; stop_qemu KILL; cleanup' EXIT
die() { die_showing "$run" "$@"; }
code() { curl -s -o "$work/body" -w '%{http_code}' --max-time 30 "$@"; }

disk="$work/disk.img"
truncate -s 4M "$disk"

# ---- written by the hosted build -------------------------------------------------------------
hosted="${SARAB_BUILD_DIR:-}/apps/kv/kv"
if [ -x "$hosted" ]; then
    port="$(free_port)"
    "$hosted" --port="$port" --dev="data=file:$disk" >"$work/hosted.out" 2>&1 &
    hosted_pid=$!
    for _ in $(seq 1 200); do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/keys/" && break
        sleep 0.05 # until it answers, 10 s at most
    done
    [ "$(code -X PUT --data-binary 'from the hosted build' "http://127.0.0.1:$port/keys/hosted")" = 201 ] || { echo "FAIL: PUT to the hosted kv"; cat "$work/hosted.out"; exit 1; }
    kill -TERM "$hosted_pid"
    wait "$hosted_pid" 2>/dev/null || true
    hosted_pid=""
fi

lock_virtio_tests
"$source_dir/sarab" build -t virtio "$source_dir/examples/kv" >/dev/null 2>"$work/kv.build" || { echo "FAIL: build: $(tail -5 "$work/kv.build")"; exit 1; }

# boot_kv NAME: the unikernel on the disk, its port 80 forwarded to PORT; waits until it answers.
boot_kv() {
    run="$1"
    port="$(free_port)"
    base="http://127.0.0.1:$port/keys"
    start_running "$run" "$source_dir/examples/kv" --block "data=$disk" --forward "$port:80" -- --log=virtio:debug,kv:info
    for _ in $(seq 1 600); do
        curl -s -o /dev/null --max-time 2 "$base/" && return 0
        kill -0 "$runner" 2>/dev/null || break
        sleep 0.1 # the guest boots and leases its address; checked every 100 ms, 60 s at most
    done
    die "kv never answered on $base"
}

boot_kv first
grep -q "a write cache (flushed on block_flush)" "$work/first.out" || die "the virtio-blk driver did not take VIRTIO_BLK_F_FLUSH"
if [ -x "$hosted" ]; then
    [ "$(code "$base/hosted")" = 200 ] && [ "$(cat "$work/body")" = "from the hosted build" ] || die "the unikernel did not read what the hosted build wrote"
    echo "kv on virtio: reads the store the hosted build wrote"
fi
head -c 150000 /dev/urandom >"$work/blob"
[ "$(code -X PUT --data-binary "@$work/blob" "$base/blob")" = 201 ] || die "PUT of 150 KB to the unikernel"
[ "$(code "$base/blob")" = 200 ] && cmp -s "$work/body" "$work/blob" || die "the 150 KB value came back different"
[ "$(code -X PUT --data-binary 'the last word' "$base/last")" = 201 ] || die "PUT last"
stop_qemu KILL

boot_kv second
[ "$(code "$base/blob")" = 200 ] && cmp -s "$work/body" "$work/blob" || die "the 150 KB value was lost when QEMU was killed"
[ "$(code "$base/last")" = 200 ] && [ "$(cat "$work/body")" = "the last word" ] || die "the last answered PUT was lost when QEMU was killed"
[ "$(code "$base/")" = 200 ] || die "the list"
echo "kv on virtio: after QEMU was killed, a second boot gives back every answered PUT ($(tr '\n' ' ' <"$work/body"))"
stop_qemu
echo PASS
