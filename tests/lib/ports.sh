# free_port: prints a port on 127.0.0.1 that is free for both TCP and UDP right now, chosen
# at random from 10000-32767, below Linux's ephemeral range (32768-60999), so that clients'
# own ports cannot take it. Tests that run side by side then rarely pick the same one, and a
# port that is taken is never picked. Source this file, then: port=$(free_port)
free_port() {
    python3 - <<'PY'
import random, socket, sys
for _ in range(200):
    port = random.randint(10000, 32767)
    try:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            s.bind(("127.0.0.1", port))
            s.close()
    except OSError:
        continue
    print(port)
    sys.exit(0)
sys.exit("no free port found")
PY
}
