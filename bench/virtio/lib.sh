# Shared by the virtio benchmarks (bench/virtio/*_figures.sh): a network namespace with a tap
# device (Linux is 198.18.0.1, the image 198.18.0.2), an image booted under QEMU on that tap
# and pinned to CPU 1, and QEMU's CPU time. Everything started here goes when the script ends.
#
#   source "$(dirname "$0")/lib.sh"
#   start_image MACHINE APP_DIR [SARAB_RUN_OPTIONS...] -- [BOOT_ARGS...]   waits for ping
#   in_ns COMMAND...       runs COMMAND in the namespace (pinned by the caller)
#   qemu_cpu               QEMU's utime + stime, in seconds
#   stop_image
set -euo pipefail

[ "$(id -u)" -eq 0 ] || { echo "needs root (a namespace and a tap device)" >&2; exit 1; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ns="sarab-vbench-$$"
tap="vbt$$"
work="$(mktemp -d)"
runner=""

stop_image() {
    if [ -f "$work/qemu.pid" ]; then
        local pid
        pid="$(cat "$work/qemu.pid")"
        grep -qaF -- "$work/qemu.pid" "/proc/$pid/cmdline" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true
        rm -f "$work/qemu.pid"
    fi
    [ -z "$runner" ] || wait "$runner" 2>/dev/null || true
    runner=""
}
trap 'stop_image; ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"' EXIT

source "$root/bench/lib/tap_namespace.sh"
make_tap_namespace "$ns" "$tap"

in_ns() { ip netns exec "$ns" "$@"; }

start_image() {
    local machine="$1" app="$2"
    shift 2
    local options=() i
    while [ $# -gt 0 ] && [ "$1" != -- ]; do options+=("$1"); shift; done
    [ $# -eq 0 ] || shift
    "$root/sarab" build -t virtio "${options[@]}" "$app" >/dev/null
    ip netns exec "$ns" env SARAB_QEMU_PIDFILE="$work/qemu.pid" taskset -c 1 timeout 900 \
        "$root/sarab" run -t virtio --machine "$machine" --net "tap:$tap" "${options[@]}" "$app" \
        -- --ipv4=198.18.0.2/24 "$@" >"$work/console" 2>&1 </dev/null &
    runner=$!
    for i in $(seq 1 60); do
        in_ns ping -c 1 -W 1 198.18.0.2 >/dev/null 2>&1 && return 0
        kill -0 "$runner" 2>/dev/null || break
    done
    echo "the image did not answer ping; console:" >&2
    cat "$work/console" >&2
    return 1
}

qemu_cpu() {
    awk -v tick="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / tick }' "/proc/$(cat "$work/qemu.pid")/stat"
}
