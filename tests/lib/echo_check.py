#!/usr/bin/env python3
"""The client side of the echo tests: checks an echo server (examples/echo or a test app on
port 7) from Linux, as a user's client would see it.

  echo_check.py udp HOST [--timeout S]
      datagrams of 1 to 30000 bytes come back unchanged from HOST:7, and a datagram to the
      closed port 9 is refused (ICMP port unreachable).
  echo_check.py tcp HOST SIZE [CONNECTIONS] [--closed-port P] [--timeout S]
      CONNECTIONS connections at once (default 1) each send SIZE bytes to HOST:7 while reading
      them back; the SHA-256 of what came back must equal what was sent. With --closed-port,
      a connection to that port must be refused.
Exits non-zero with a message saying what went wrong.
"""
import argparse
import hashlib
import socket
import sys
import threading


def check_udp(host, timeout):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(timeout)
    for i, size in enumerate([1, 100, 1472, 1473, 8000, 30000]):
        data = bytes((i * 31 + j) & 0xff for j in range(size))
        u.sendto(data, (host, 7))
        got, source = u.recvfrom(65536)
        if got != data:
            sys.exit("udp: a datagram of %d bytes came back different" % size)
        if source != (host, 7):
            sys.exit("udp: the answer came from %s:%d" % source)
    # A closed port answers with ICMP port unreachable, which Linux reports as a refusal.
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(timeout)
    c.connect((host, 9))
    c.send(b"anyone?")
    try:
        c.recv(100)
        sys.exit("udp: a closed port answered")
    except ConnectionRefusedError:
        pass
    print("udp: echo of 1 to 30000 bytes, and port unreachable, work")


def exchange(host, data, timeout):
    """Sends `data` to HOST:7 over one TCP connection while reading what comes back, until the
    server closes; returns what came back. Also used by bench/virtio/net_figures.sh."""
    s = socket.create_connection((host, 7), timeout=timeout)

    def send():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send)
    sender.start()
    got = bytearray()
    while True:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        got += chunk
    sender.join()
    s.close()
    return got


def check_tcp(host, size, connections, closed_port, timeout):
    errors = []

    def one(k):
        try:
            data = bytes(((i * 13 + k) ^ (i >> 9)) & 0xff for i in range(size))
            got = exchange(host, data, timeout)
            if hashlib.sha256(got).digest() != hashlib.sha256(data).digest():
                errors.append("connection %d: %d bytes back of %d, or different" % (k, len(got), size))
        except Exception as e:  # any failure is the test's finding
            errors.append("connection %d: %r" % (k, e))

    threads = [threading.Thread(target=one, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("tcp: " + "; ".join(errors))
    if closed_port:
        try:
            socket.create_connection((host, closed_port), timeout=10)
            sys.exit("tcp: the closed port %d accepted" % closed_port)
        except ConnectionRefusedError:
            pass
    print("tcp: %d connection(s) x %d bytes each way, SHA-256 equal" % (connections, size))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="protocol", required=True)
    udp = sub.add_parser("udp")
    udp.add_argument("host")
    udp.add_argument("--timeout", type=float, default=3)
    tcp = sub.add_parser("tcp")
    tcp.add_argument("host")
    tcp.add_argument("size", type=int)
    tcp.add_argument("connections", type=int, nargs="?", default=1)
    tcp.add_argument("--closed-port", type=int, default=0)
    tcp.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    if args.protocol == "udp":
        check_udp(args.host, args.timeout)
    else:
        check_tcp(args.host, args.size, args.connections, args.closed_port, args.timeout)


if __name__ == "__main__":
    main()
