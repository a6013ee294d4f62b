#!/usr/bin/env python3
"""A lossy, slow, reordering wire between Linux and an image, for kernels without tc netem.

    impair.py LINUX_TAP IMAGE_TAP --loss 0.02 --delay 0.005 --reorder 0.25 --seconds 120

LINUX_TAP is a tap device whose interface Linux uses (it has Linux's address); this process
holds its file descriptor, so whatever Linux sends on it comes here, and what this process
writes to it Linux receives. IMAGE_TAP is the tap the image holds; this process talks to its
interface through an AF_PACKET socket, with the virtio-net header that the image's tap uses
(PACKET_VNET_HDR): a frame whose transport checksum the image left to the host (NEEDS_CSUM,
as a NIC with checksum offload would compute it) has it completed here, and a TCP segment
longer than the MTU that the image left to the host to cut up (gso_type TCPV4, TSO) is cut
into segments of gso_size here, as the kernel would on its way to a real wire; each segment
then meets the faults on its own. Between the two, each frame, each way, is dropped with
probability --loss, else delivered after --delay seconds; with probability --reorder it goes
at once instead, overtaking the delayed ones (netem's `reorder`). The generator is seeded, so
runs repeat. Ends after --seconds, or on SIGTERM.
"""
import argparse, fcntl, heapq, os, random, select, signal, socket, struct, sys, time

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
SOL_PACKET, PACKET_VNET_HDR = 263, 15
VNET_HDR = struct.Struct("<BBHHHH")  # flags, gso_type, hdr_len, gso_size, csum_start, csum_offset
NEEDS_CSUM = 1

GSO_TCPV4 = 1

def ones_complement_sum(data, total=0):
    data = bytes(data) + (b"\0" if len(data) % 2 else b"")
    total += sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total

def complete_checksum(packet):
    """Strips the virtio-net header; completes the checksum the header asks for (RFC 1071: the
    field holds the pseudo-header's sum, and the sum runs from csum_start to the end)."""
    flags, _, _, _, start, offset = VNET_HDR.unpack_from(packet)
    frame = bytearray(packet[VNET_HDR.size:])
    if flags & NEEDS_CSUM:
        struct.pack_into("!H", frame, start + offset, (~ones_complement_sum(frame[start:]) & 0xFFFF) or 0xFFFF)
    return bytes(frame)

def segments(packet):
    """The frames a packet from the image's tap puts on the wire: a TSO frame (IPv4, TCP, no
    VLAN tag) cut into segments of gso_size payload bytes, each with its own IPv4 length,
    identification and checksum, sequence number, and TCP checksum; FIN and PSH only on the
    last (the virtio specification, 5.1.6.2, as Linux's GSO does it). Any other frame as it is,
    its checksum completed."""
    flags, gso_type, header_len, gso_size, start, _ = VNET_HDR.unpack_from(packet)
    if gso_type != GSO_TCPV4:
        return [complete_checksum(packet)]
    frame = packet[VNET_HDR.size:]
    ip_start = 14
    tcp_start = start
    tcp_len = (frame[tcp_start + 12] >> 4) * 4
    headers = bytes(frame[:tcp_start + tcp_len])
    payload = frame[tcp_start + tcp_len:]
    ip_id = struct.unpack_from("!H", headers, ip_start + 4)[0]
    sequence = struct.unpack_from("!I", headers, tcp_start + 4)[0]
    out = []
    for i, at in enumerate(range(0, len(payload), gso_size)):
        piece = payload[at:at + gso_size]
        last = at + gso_size >= len(payload)
        f = bytearray(headers + piece)
        struct.pack_into("!HH", f, ip_start + 2, tcp_start - ip_start + tcp_len + len(piece), (ip_id + i) & 0xFFFF)
        struct.pack_into("!H", f, ip_start + 10, 0)
        struct.pack_into("!H", f, ip_start + 10, ~ones_complement_sum(f[ip_start:tcp_start]) & 0xFFFF)
        struct.pack_into("!I", f, tcp_start + 4, (sequence + at) & 0xFFFFFFFF)
        if not last:
            f[tcp_start + 13] &= ~0x09  # FIN, PSH
        struct.pack_into("!H", f, tcp_start + 16, 0)
        pseudo = f[ip_start + 12:ip_start + 20] + struct.pack("!BBH", 0, 6, len(f) - tcp_start)
        struct.pack_into("!H", f, tcp_start + 16, (~ones_complement_sum(f[tcp_start:], ones_complement_sum(pseudo)) & 0xFFFF) or 0xFFFF)
        out.append(bytes(f))
    return out

def main():
    p = argparse.ArgumentParser()
    p.add_argument("linux_tap")
    p.add_argument("image_tap")
    p.add_argument("--loss", type=float, default=0.0)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--reorder", type=float, default=0.0)
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)

    tap = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(tap, TUNSETIFF, struct.pack("16sH", a.linux_tap.encode(), IFF_TAP | IFF_NO_PI))
    image = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    image.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    image.bind((a.image_tap, 0))
    image.setblocking(False)

    def to_linux(frame): os.write(tap, frame)
    def to_image(frame): image.send(bytes(VNET_HDR.size) + frame)

    queue = []  # (due, sequence, sender, frame)
    sequence = 0
    counts = {"frames": 0, "dropped": 0, "reordered": 0, "cut": 0}
    end = time.monotonic() + a.seconds
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)

    def take(frame, sender):
        nonlocal sequence
        counts["frames"] += 1
        if rng.random() < a.loss:
            counts["dropped"] += 1
            return
        now = time.monotonic()
        if rng.random() < a.reorder:
            counts["reordered"] += 1
            sender(frame)
            return
        heapq.heappush(queue, (now + a.delay, sequence, sender, frame))
        sequence += 1

    try:
        while time.monotonic() < end:
            timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else 0.1
            ready, _, _ = select.select([tap, image], [], [], timeout)
            if tap in ready:
                while True:
                    try:
                        take(os.read(tap, 65536), to_image)
                    except BlockingIOError:
                        break
            if image in ready:
                while True:
                    try:
                        frame, address = image.recvfrom(65536 + 64)
                    except BlockingIOError:
                        break
                    if address[2] == socket.PACKET_OUTGOING:
                        continue  # our own transmissions towards the image
                    cut = segments(frame)
                    counts["cut"] += len(cut) > 1
                    for segment in cut:
                        take(segment, to_linux)
            now = time.monotonic()
            while queue and queue[0][0] <= now:
                _, _, sender, frame = heapq.heappop(queue)
                try:
                    sender(frame)
                except OSError:
                    pass
    finally:
        print("frames %(frames)d dropped %(dropped)d reordered %(reordered)d, TSO frames cut up %(cut)d" % counts, flush=True)

if __name__ == "__main__":
    main()
