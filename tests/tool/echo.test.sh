#!/usr/bin/env bash
# examples/echo on the socket stack, with the host's TCP and UDP as clients: echoes what it
# is sent over both, serves several connections at once, and says clearly when its port is
# taken.
set -euo pipefail

build="${SARAB_BUILD_DIR:?}"
echo_bin="$build/apps/echo/echo"
[ -x "$echo_bin" ] || { echo "FAIL: $echo_bin was not built"; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/../lib/ports.sh"
port=$(free_port)
log="$(mktemp /tmp/sarab-echo.XXXXXX)"

"$echo_bin" --port="$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT

python3 - "$port" <<'PY'
import socket, sys, time

port = int(sys.argv[1])
deadline = time.monotonic() + 20
while True:  # wait until it listens (bounded)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("FAIL: echo never listened on port %d" % port)
        time.sleep(0.02)

def tcp_echo(payload):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return got
            got += chunk

assert tcp_echo(b"hello\r\n") == b"hello\r\n", "short TCP echo"
big = bytes((i * 7) & 0xff for i in range(3_000_000))
assert tcp_echo(big) == big, "3 MB TCP echo"

# Several connections open at once, answered independently.
conns = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(20)]
for i, c in enumerate(conns):
    c.sendall(b"conn %d" % i)
for i, c in enumerate(conns):
    assert c.recv(100) == b"conn %d" % i, "concurrent connection %d" % i
    c.close()

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
for i in range(10):
    u.sendto(b"datagram %d" % i, ("127.0.0.1", port))
    data, source = u.recvfrom(2048)
    assert data == b"datagram %d" % i and source[1] == port, "UDP echo %d" % i
print("echo: TCP and UDP echo work")
PY

# A second echo on the same port: a clear error, non-zero status.
set +e
"$echo_bin" --port="$port" >"$log.2" 2>&1
status=$?
set -e
grep -q "cannot listen on TCP port $port: address in use" "$log.2" || { echo "FAIL: no clear error for a taken port:"; cat "$log.2"; rm -f "$log.2"; exit 1; }
rm -f "$log.2"
[ "$status" -ne 0 ] || { echo "FAIL: a second echo on a taken port exited 0"; exit 1; }
kill -0 "$pid" || { echo "FAIL: the first echo died"; exit 1; }
echo "echo: all checks passed"
