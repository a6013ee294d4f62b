#!/usr/bin/env bash
# examples/kv on the hosted target: the read-write store on a file-backed disk, behind HTTP,
# checked with curl: put, replace, get (a 200 KB binary value compared byte for byte), list by
# prefix, delete; what was answered is there after the process is killed (SIGKILL) and started
# again; overwrites that compact the log; a value larger than half the disk is 413, a full disk
# 507, and the service goes on; a disk holding something else is refused with a clear error
# and left untouched. Only loopback traffic; only processes this script started are killed.
# sarab-test: sanitize
set -euo pipefail

build="${SARAB_BUILD_DIR:?}"
src="${SARAB_SOURCE_DIR:?}"
kv="$build/apps/kv/kv"
[ -x "$kv" ] || { echo "FAIL: $kv was not built"; exit 1; }
command -v curl >/dev/null || { echo "FAIL: curl is missing (Debian package curl)"; exit 1; }
source "$src/tests/lib/ports.sh"

tmp="$(mktemp -d /tmp/sarab-kv.XXXXXX)"
pid=""
stop() {
    [ -z "$pid" ] || { kill "-${1:-TERM}" "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    pid=""
}
trap 'stop KILL; rm -rf "$tmp"' EXIT
fail() {
    echo "FAIL: $*"
    [ -f "$tmp/kv.log" ] && { echo "--- the service's log:"; tail -20 "$tmp/kv.log"; }
    exit 1
}

# start DISK [ARGS...]: the service on DISK and a free port (BASE), once it answers.
start() {
    local disk="$1" attempt i
    shift
    for attempt in 1 2 3 4 5; do
        local port
        port="$(free_port)"
        "$kv" --port="$port" --dev="data=file:$disk" "$@" >"$tmp/kv.log" 2>&1 &
        pid=$!
        BASE="http://127.0.0.1:$port/keys"
        for i in $(seq 1 200); do
            curl -s -o /dev/null --max-time 1 "$BASE/" && return 0
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05 # until it answers, 10 s at most
        done
        grep -q "address in use" "$tmp/kv.log" || fail "kv never answered"
        stop KILL
    done
    fail "no free port for kv"
}
code() { curl -s -o "$tmp/body" -w '%{http_code}' --max-time 20 "$@"; }

disk="$tmp/disk.img"
truncate -s 1M "$disk" # two areas of 512 KiB
start "$disk" --max-value=2000000
grep -q "a new store: 1024 sectors of 512 bytes" "$tmp/kv.log" || fail "the empty disk was not made a store"

# ---- put, replace, get, list, delete ----------------------------------------------------------
[ "$(code -X PUT --data-binary 'hello' "$BASE/greeting")" = 201 ] || fail "PUT of a new key is not 201"
[ "$(code -X PUT --data-binary 'hello again' "$BASE/greeting")" = 204 ] || fail "PUT of an existing key is not 204"
[ "$(code "$BASE/greeting")" = 200 ] && [ "$(cat "$tmp/body")" = "hello again" ] || fail "GET did not give the value put last"
head -c 200000 /dev/urandom >"$tmp/blob"
[ "$(code -X PUT --data-binary "@$tmp/blob" "$BASE/photos%2Fblob")" = 201 ] || fail "PUT of 200 KB"
[ "$(code "$BASE/photos%2Fblob")" = 200 ] && cmp -s "$tmp/body" "$tmp/blob" || fail "the 200 KB value came back different"
[ "$(code -X PUT --data-binary 'x' "$BASE/photos%2Fsmall")" = 201 ] || fail "PUT photos/small"
[ "$(code "$BASE/?prefix=photos%2F")" = 200 ] && [ "$(cat "$tmp/body")" = $'photos/blob\nphotos/small' ] || fail "the list by prefix: $(cat "$tmp/body")"
[ "$(code -X DELETE "$BASE/photos%2Fsmall")" = 204 ] || fail "DELETE of a key is not 204"
[ "$(code -X DELETE "$BASE/photos%2Fsmall")" = 404 ] || fail "DELETE of a missing key is not 404"
[ "$(code "$BASE/photos%2Fsmall")" = 404 ] || fail "GET of a deleted key is not 404"
echo "kv: put, replace, get, list and delete work"

# ---- what was answered survives a kill -------------------------------------------------------
[ "$(code -X PUT --data-binary 'written just before the kill' "$BASE/last")" = 201 ] || fail "PUT last"
stop KILL
start "$disk" --max-value=2000000
[ "$(code "$BASE/last")" = 200 ] && [ "$(cat "$tmp/body")" = "written just before the kill" ] || fail "the last answered PUT was lost in the kill"
[ "$(code "$BASE/photos%2Fblob")" = 200 ] && cmp -s "$tmp/body" "$tmp/blob" || fail "the 200 KB value did not survive the kill"
[ "$(code "$BASE/photos%2Fsmall")" = 404 ] || fail "a deleted key came back after the kill"
echo "kv: every answered change is there after SIGKILL and a restart"

# ---- overwrites that fill an area: the log is compacted into the other -------------------------
for i in $(seq 1 12); do
    head -c 100000 /dev/urandom >"$tmp/v"
    status="$(code -X PUT --data-binary "@$tmp/v" "$BASE/rotating")"
    [ "$status" = 201 ] || [ "$status" = 204 ] || fail "overwrite $i: status $status"
done
stop TERM
start "$disk" --max-value=2000000
grep -qE "generation [2-9]|generation [1-9][0-9]" "$tmp/kv.log" || fail "twelve 100 KB overwrites in 512 KiB areas did not compact the log: $(cat "$tmp/kv.log")"
[ "$(code "$BASE/rotating")" = 200 ] && cmp -s "$tmp/body" "$tmp/v" || fail "the last overwrite did not survive the compactions"
[ "$(code "$BASE/photos%2Fblob")" = 200 ] && cmp -s "$tmp/body" "$tmp/blob" || fail "the 200 KB value did not survive the compactions"
echo "kv: overwrites compact the log and keep the last values"

# ---- too large, full, and still serving ------------------------------------------------------
head -c 600000 /dev/urandom >"$tmp/huge"
[ "$(code -X PUT --data-binary "@$tmp/huge" "$BASE/huge")" = 413 ] || fail "a value larger than an area is not 413"
full=""
for i in $(seq 1 10); do
    status="$(code -X PUT --data-binary "@$tmp/v" "$BASE/fill$i")"
    [ "$status" = 201 ] && continue
    [ "$status" = 507 ] && { full=$i; break; }
    fail "PUT fill$i: status $status"
done
[ -n "$full" ] || fail "ten 100 KB values fitted in a 512 KiB area"
[ "$(code "$BASE/photos%2Fblob")" = 200 ] && cmp -s "$tmp/body" "$tmp/blob" || fail "a full disk lost a value"
[ "$(code -X DELETE "$BASE/photos%2Fblob")" = 204 ] || fail "a full store could not delete"
[ "$(code -X PUT --data-binary "@$tmp/v" "$BASE/fill$full")" = 201 ] || fail "no room after a delete on a full store"
echo "kv: 413 for a value over half the disk, 507 when full (after $((full - 1)) fills), delete then put works"
stop TERM

# ---- a disk that is not a store --------------------------------------------------------------
head -c 65536 /dev/urandom >"$tmp/other.img"
cp "$tmp/other.img" "$tmp/other.copy"
status=0
timeout 20 "$kv" --port="$(free_port)" --dev="data=file:$tmp/other.img" >"$tmp/other.log" 2>&1 || status=$?
[ "$status" = 1 ] || fail "kv on a disk of random bytes ended with status $status, not 1"
grep -q "holds no store" "$tmp/other.log" || fail "no clear error for a disk holding something else: $(cat "$tmp/other.log")"
cmp -s "$tmp/other.img" "$tmp/other.copy" || fail "the disk holding something else was changed"
echo "kv: a disk holding something else is refused and left as it was"
echo PASS
