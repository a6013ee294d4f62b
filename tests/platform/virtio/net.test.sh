#!/usr/bin/env bash
# virtio-net on microvm (virtio-mmio, I/O APIC interrupts) and q35 (PCI, MSI-X), against Linux
# through tap devices in a network namespace made for this run (198.18.0.0/15 only):
#
# - examples/echo (Sarab's own stack) booted with --net tap:IF --ipv4=198.18.0.2/24: Linux at
#   198.18.0.1 resolves it by ARP (the MAC read from the device), pings it (also with 8000
#   bytes: fragments both ways) and exchanges UDP echo with it, up to 30000 bytes.
# - tests/platform/virtio/apps/nics with two NICs, `--net tap:A --net first=tap:B`: "first"
#   must be bound to the second NIC (tap B) and "second" to the first (tap A). 600 raw frames
#   per NIC, 60 to 1514 bytes, sent 48 at a time, come back intact, in order, from the right
#   address and device, through the three transmit paths (the received buffer reused; a new
#   frame without headroom, chained behind a separate header; one with headroom); then each
#   NIC is told to stop and the image exits 0 and reports kicks.
#
# QEMU is started inside the namespace by `sarab run` and ended by its pid (QEMU's pid file);
# the namespace and its taps go when the script ends, however it ends.
source "$(dirname "$0")/lib.sh"
lib="$(cd "$(dirname "$0")/../../lib" && pwd)"

if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null || ! command -v ping >/dev/null || ! command -v python3 >/dev/null; then
    echo "SKIP: needs root, ip, ping and python3"
    exit 0
fi

ns="sarab-vnet-$$-$RANDOM"
tap_a="vna$$"
tap_b="vnb$$"
net_cleanup() {
    stop_qemu
    ip netns del "$ns" 2>/dev/null || true
    cleanup
}
trap net_cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
for tap in "$tap_a" "$tap_b"; do
    ip -n "$ns" tuntap add dev "$tap" mode tap
    ip -n "$ns" link set "$tap" up
done
ip -n "$ns" addr add 198.18.0.1/24 dev "$tap_a"

# Runs are serialised with the other virtio tests (TCG guests keep a core busy).
lock_virtio_tests

# start NAME APP [sarab run options...] [-- BOOT_ARGS...]: boots APP in the namespace, in
# the background; its console in $work/NAME.out.
start() {
    local name="$1" app="$2"
    shift 2
    # Build first (in the foreground), so that the deadline below is the run's alone.
    "$source_dir/sarab" build -t virtio "$app" >/dev/null 2>"$work/$name.build" || true
    ip netns exec "$ns" env SARAB_QEMU_PIDFILE="$work/$name.pid" timeout -k 10 "$deadline" \
        "$source_dir/sarab" run -t virtio "$app" "$@" >"$work/$name.out" 2>"$work/$name.err" </dev/null &
    runner=$!
}

# wait_for_line NAME TEXT: until the console has the line (bounded by the run's deadline).
wait_for_line() {
    local tries=0
    until grep -qF -- "$2" "$work/$1.out" 2>/dev/null; do
        if ! kill -0 "$runner" 2>/dev/null || [ $tries -ge $((deadline * 10)) ]; then
            local ended=0
            kill -0 "$runner" 2>/dev/null || wait "$runner" || ended=$?
            fail "$1: no line '$2' after $((tries / 10)) s (the run $([ $ended = 0 ] && echo "is still going" || echo "ended with status $ended")). Console, messages, build:"
            cat "$work/$1.out" "$work/$1.err" "$work/$1.build"
            return 1
        fi
        tries=$((tries + 1))
        sleep 0.1 # waiting for the guest's console, checked every 100 ms
    done
}

for machine in microvm q35; do
    case "$machine" in
        microvm) transport="virtio-mmio slot" completions="completions by I/O APIC interrupt" ;;
        q35) transport="PCI 00:" completions="completions by MSI-X interrupt" ;;
    esac

    # ---- Sarab's stack: ARP, ICMP with fragments, UDP, TCP ----
    name="echo-$machine"
    ip -n "$ns" neigh flush dev "$tap_a"
    start "$name" examples/echo --machine "$machine" --net "tap:$tap_a" -- --ipv4=198.18.0.2/24 --log=virtio:debug
    if wait_for_line "$name" "echoing on"; then
        expect_line "$name" "virtio-net at $transport"
        expect_line "$name" "EVENT_IDX, $completions"
        # QEMU's tap backend has the virtio-net header, so the device offers VIRTIO_NET_F_CSUM
        # and VIRTIO_NET_F_GUEST_CSUM: what follows checks the checksums that Linux's tap
        # completes for the image, and the image takes Linux's packets as the device marks them.
        # And VIRTIO_NET_F_GUEST_TSO4 with mergeable receive buffers: Linux sends the image TCP
        # segments of up to 64 KiB, which the driver joins from several buffers.
        expect_line "$name" "transmit checksums by the device, received checksums checked by the device, TCP segments cut by the device, received TCP segments joined by the device"
        answered=0
        for _ in $(seq 1 40); do
            if ip netns exec "$ns" ping -c 1 -W 1 198.18.0.2 >/dev/null 2>&1; then
                answered=1
                break
            fi
        done
        if [ $answered = 0 ]; then
            fail "$machine: no answer to ping"
        else
            ip netns exec "$ns" ping -c 5 -i 0.2 -W 2 198.18.0.2 >"$work/$name.ping" || fail "$machine: pings lost: $(cat "$work/$name.ping")"
            grep -E '^rtt' "$work/$name.ping" | sed "s/^/$machine: ping: /"
            ip netns exec "$ns" ip neigh show 198.18.0.2 | grep -q "lladdr 52:54:00:12:34:56" \
                || fail "$machine: Linux did not learn the NIC's MAC (52:54:00:12:34:56) by ARP: $(ip netns exec "$ns" ip neigh show)"
            ip netns exec "$ns" ping -c 3 -i 0.2 -W 2 -s 8000 198.18.0.2 >/dev/null || fail "$machine: no answer to an 8000-byte ping (fragments)"
            ip netns exec "$ns" python3 "$lib/echo_check.py" udp 198.18.0.2 || fail "$machine: UDP echo"
            # TCP echo over Sarab's TCP on virtio-net: 1 MB each way at once, and a refused port.
            # The device offers VIRTIO_NET_F_HOST_TSO4 and GUEST_TSO4 too: the echo comes back
            # in segments of up to 64 KiB that Linux's tap cuts up, and Linux's own segments of
            # up to 64 KiB reach the image joined, so both sides of the tap carry frames longer
            # than the MTU on average.
            rx_before=($(ip netns exec "$ns" cat "/sys/class/net/$tap_a/statistics/rx_bytes" "/sys/class/net/$tap_a/statistics/rx_packets"))
            tx_before=($(ip netns exec "$ns" cat "/sys/class/net/$tap_a/statistics/tx_bytes" "/sys/class/net/$tap_a/statistics/tx_packets"))
            ip netns exec "$ns" python3 "$lib/echo_check.py" tcp 198.18.0.2 1000000 --closed-port 9 \
                || fail "$machine: TCP echo"
            rx_after=($(ip netns exec "$ns" cat "/sys/class/net/$tap_a/statistics/rx_bytes" "/sys/class/net/$tap_a/statistics/rx_packets"))
            tx_after=($(ip netns exec "$ns" cat "/sys/class/net/$tap_a/statistics/tx_bytes" "/sys/class/net/$tap_a/statistics/tx_packets"))
            average=$(( (rx_after[0] - rx_before[0]) / (rx_after[1] - rx_before[1]) ))
            echo "$machine: TCP echo: $((rx_after[1] - rx_before[1])) frames from the image, $average bytes each on average"
            [ "$average" -gt 1514 ] || fail "$machine: the echo came back in frames of $average bytes on average: no TCP segmentation offload"
            average=$(( (tx_after[0] - tx_before[0]) / (tx_after[1] - tx_before[1]) ))
            echo "$machine: TCP echo: $((tx_after[1] - tx_before[1])) frames to the image, $average bytes each on average"
            [ "$average" -gt 1514 ] || fail "$machine: Linux sent the image frames of $average bytes on average: no receive segmentation offload"
        fi
        kill -0 "$runner" 2>/dev/null || fail "$machine: echo ended early. Console: $(cat "$work/$name.out")"
    fi
    stop_qemu

    # ---- two NICs, bound by order and by name; raw frames through every transmit path ----
    name="nics-$machine"
    start "$name" tests/platform/virtio/apps/nics --machine "$machine" --net "tap:$tap_a" --net "first=tap:$tap_b" -- --log=virtio:debug
    if wait_for_line "$name" "second mac"; then
        expect_line "$name" "first mac 52:54:00:12:34:57 mtu 1500"
        expect_line "$name" "second mac 52:54:00:12:34:56 mtu 1500"
        ip netns exec "$ns" python3 - "$tap_a" "$tap_b" <<'PY' || fail "$machine: raw frames through two NICs"
import socket, sys

ETHERTYPE = 0x88b5
FRAMES, WINDOW = 600, 48
PACKET_OUTGOING = 4

def exchange(ifname, expect_name, expect_mac):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETHERTYPE))
    s.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)  # SO_RCVBUFFORCE: a window of replies fits
    s.bind((ifname, ETHERTYPE))
    s.settimeout(5)
    mine = s.getsockname()[4]
    mac = bytes(int(x, 16) for x in expect_mac.split(":"))
    sent = {}
    def frame(i):
        size = 60 + (i * 173) % (1514 - 60 + 1)  # 60 to 1514 bytes
        mode = i % 3
        body = bytes(8) + bytes([mode]) + i.to_bytes(4, "big")
        body += bytes((i + j) & 0xff for j in range(size - 14 - len(body)))
        return mac + mine + ETHERTYPE.to_bytes(2, "big") + body
    def receive():
        while True:
            data, address = s.recvfrom(4096)
            if address[2] != PACKET_OUTGOING:
                return data
    next_to_send = next_to_check = 0
    while next_to_check < FRAMES:
        while next_to_send < FRAMES and next_to_send - next_to_check < WINDOW:
            sent[next_to_send] = frame(next_to_send)
            s.send(sent[next_to_send])
            next_to_send += 1
        got = receive()
        want = sent.pop(next_to_check)
        name = expect_name.encode().ljust(8, b"\0")
        assert got[:6] == mine and got[6:12] == mac, "%s: frame %d: addresses %s" % (ifname, next_to_check, got[:12].hex())
        assert got[14:22] == name, "%s: frame %d answered by %r, not %s" % (ifname, next_to_check, got[14:22], expect_name)
        assert got[22:] == want[22:], "%s: frame %d (%d bytes) came back different or out of order" % (ifname, next_to_check, len(want))
        next_to_check += 1
    stop = mac + mine + ETHERTYPE.to_bytes(2, "big") + bytes(8) + b"\xff" + bytes(60 - 23)
    s.send(stop)

exchange(sys.argv[1], "second", "52:54:00:12:34:56")
exchange(sys.argv[2], "first", "52:54:00:12:34:57")
PY
        # After the stops the image ends by itself, with status 0.
        STATUS=0
        wait "$runner" || STATUS=$?
        runner=""
        expect_status "$name" 0
        expect_line "$name" "second reflected 600"
        expect_line "$name" "first reflected 600"
        expect_line "$name" "net device 'first': virtio-net at $transport"
        grep -E "net device '(first|second)': [0-9]+ frames received" "$work/$name.out" | sed "s/^.*debug virtio: /$machine: /"
        if ! grep -qE "net device 'first': [0-9]+ frames received \\(0 joined from several buffers, 0 dropped unjoined\\), [0-9]+ transmitted \\([1-9][0-9]* without headroom, 0 cut into TCP segments by the device\\), 0 runts, 0 refused" "$work/$name.out"; then
            fail "$machine: the counters of 'first' are not as expected"
            cat "$work/$name.out"
        fi
    fi
    stop_qemu
done

# An image with two declared NICs and one --net: the second name is bound to nothing (status 2).
name="unbound"
start "$name" tests/platform/virtio/apps/nics --net "tap:$tap_a"
STATUS=0
wait "$runner" || STATUS=$?
runner=""
expect_status "$name" 2
expect_line "$name" "net device 'second' is bound to nothing"
finish
