#!/usr/bin/env bash
# bench/http/run.sh [RUNS] [SECONDS]
#
# HTTP throughput of examples/www (socket stack; hosted, and sandbox: the same code under its
# seccomp filter) against nginx with one worker (as is, and with open_file_cache), serving
# the same two files (1 KiB and 100 KiB) from the same directory, with keep-alive and with "Connection: close": `wrk -t1 -c50 -dSECONDS` (10 s by
# default), RUNS times each (3 by default). The server is pinned to CPU 1 and wrk to CPU 0
# (TESTING.md of the shared notes). For each run it records wrk's requests per second and the
# server's CPU time over the run (utime + stime from /proc/PID/stat, all threads; for nginx
# the master and its worker), and prints a Markdown table of medians with the min-max spread,
# then the machine.
#
# The servers listen on loopback ports of their own and are started and stopped by this
# script (by pid). www is built in Release trees of its own, build/http-bench and
# build/http-bench-sandbox.
set -euo pipefail

runs="${1:-3}"
seconds="${2:-10}"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${SARAB_BUILD_ROOT:-$src/build}/http-bench"

need() {
    local missing=() p
    for p in "$@"; do
        command -v "$p" >/dev/null || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        echo "bench/http: installing ${missing[*]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    else
        echo "bench/http: missing ${missing[*]}: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
}
need wrk nginx taskset
if [ ! -f /usr/include/seccomp.h ]; then # the sandbox build of www
    if [ "$(id -u)" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libseccomp-dev >&2
    else
        echo "bench/http: missing libseccomp: sudo apt-get install -y libseccomp-dev" >&2
        exit 1
    fi
fi
[ "$(nproc)" -ge 2 ] || { echo "bench/http: needs 2 CPUs (server on 1, wrk on 0)" >&2; exit 1; }

echo "bench/http: building www (Release) in $build" >&2
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSARAB_TESTS=OFF -DSARAB_LOG_MIN_LEVEL=info >/dev/null
ninja -C "$build" -j1 www >&2
www="$build/apps/www/www"
# The same server built for the sandbox target (docs/sandbox.md): the same code under its
# seccomp filter, for the cost of a filter check a system call.
cmake -S "$src" -B "$build-sandbox" -G Ninja -DSARAB_TARGET=sandbox -DCMAKE_BUILD_TYPE=Release -DSARAB_TESTS=OFF -DSARAB_LOG_MIN_LEVEL=info >/dev/null
ninja -C "$build-sandbox" -j1 www >&2
www_sandbox="$build-sandbox/apps/www/www"

tmp="$(mktemp -d /tmp/sarab-http-bench.XXXXXX)"
chmod 755 "$tmp"
# All servers run at once, each on a port of its own, and the runs take them in turn, so that a
# change in the machine's load (a VM's neighbours) falls on all of them alike; the idle ones
# wait in epoll and cost nothing.
declare -A pids ports
server_pid=""
stop_servers() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop_servers; rm -rf "$tmp"' EXIT

mkdir -p "$tmp/files"
python3 - "$tmp/files" <<'PY'
import random, string, sys
rng = random.Random(6)
for name, size in (("1k.txt", 1024), ("100k.txt", 102400)):
    text = "".join(rng.choice(string.ascii_letters + string.digits + " \n") for _ in range(size))
    open("%s/%s" % (sys.argv[1], name), "w").write(text)
PY
chmod 755 "$tmp/files"
chmod 644 "$tmp/files"/*

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for() {
    local port="$1" i
    for i in $(seq 1 200); do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/1k.txt" && return 0
        sleep 0.05
    done
    echo "bench/http: nothing answers on port $port" >&2
    exit 1
}

# CPU time in clock ticks (utime + stime) of the server's processes and threads, and the
# pinning of all its threads to CPU 1 once it answers (servers may move their own threads):
# bench/lib/server_tree.py.
cpu_of() { python3 "$src/bench/lib/server_tree.py" ticks "$1"; }
pin_server() { python3 "$src/bench/lib/server_tree.py" pin "$server_pid" 1 >/dev/null; }

start_www() {
    port="$(free_port)"
    taskset -c 1 "$1" --port="$port" "--dev=htdocs=dir:$tmp/files" --log=warn >"$tmp/$2.log" 2>&1 &
    server_pid=$!
    wait_for "$port"
    pin_server
}

# nginx as TESTING.md describes it (one worker, sendfile on, access log off), in the directory
# $tmp/NAME; with a second argument "cache", also with open_file_cache, which spares it the
# open/fstat/close that it otherwise makes for every request (www serves from memory).
start_nginx() {
    port="$(free_port)"
    local dir="$tmp/$1" cache=""
    [ "${2:-}" = cache ] && cache="open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s;"
    mkdir -p "$dir/logs"
    cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    $cache
    default_type application/octet-stream;
    types { text/plain txt; }
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen 127.0.0.1:$port;
        root $tmp/files;
    }
}
EOF
    taskset -c 1 nginx -p "$dir" -c "$dir/nginx.conf" >"$dir/logs/stdout.log" 2>&1 &
    server_pid=$!
    wait_for "$port"
    pin_server
}

# One wrk run against SERVER; prints "REQUESTS_PER_S REQUESTS CPU_TICKS".
measure() {
    local server_pid="${pids[$1]}" port="${ports[$1]}" path="$2" mode="$3" before after out
    local args=(-t1 -c50 "-d${seconds}s")
    [ "$mode" = close ] && args+=(-H "Connection: close")
    before="$(cpu_of "$server_pid")"
    out="$(taskset -c 0 wrk "${args[@]}" "http://127.0.0.1:$port$path")"
    after="$(cpu_of "$server_pid")"
    local rps total errors
    rps="$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out")"
    total="$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")"
    errors="$(grep -E "Non-2xx|Socket errors" <<<"$out" | tr '\n' ' ' || true)"
    [ -z "$errors" ] || echo "bench/http: $errors" >&2
    echo "$rps $total $((after - before))"
}

results="$tmp/results"
: >"$results"
clk="$(getconf CLK_TCK)"
servers=(www www-sandbox nginx nginx-cache)
for server in "${servers[@]}"; do
    case "$server" in
        www) start_www "$www" www ;;
        www-sandbox) start_www "$www_sandbox" www-sandbox ;;
        nginx) start_nginx nginx ;;
        nginx-cache) start_nginx nginx-cache cache ;;
    esac
    pids[$server]="$server_pid"
    ports[$server]="$port"
done
for file in /1k.txt /100k.txt; do
    for mode in keep-alive close; do
        for run in $(seq 1 "$runs"); do
            for server in "${servers[@]}"; do
                read -r rps total ticks < <(measure "$server" "$file" "$mode")
                echo "$server $file $mode $run $rps $total $ticks" | tee -a "$results" >&2
            done
        done
    done
done

python3 - "$results" "$clk" "$runs" "$seconds" <<'PY'
import statistics, sys
from collections import defaultdict

path, clk, runs, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = defaultdict(list)
for line in open(path):
    server, file, mode, run, rps, total, ticks = line.split()
    cpu = int(ticks) / clk
    rows[(file, mode, server)].append((float(rps), int(total) / cpu if cpu > 0 else float("nan"), cpu))

def cell(values, fmt):
    return "%s [%s-%s]" % (fmt % statistics.median(values), fmt % min(values), fmt % max(values))

print("| file | connections | server | requests/s | requests per server CPU-s | server CPU-s per run | www / nginx (req/s) |")
print("|---|---|---|---|---|---|---|")
for file in ("/1k.txt", "/100k.txt"):
    for mode in ("keep-alive", "close"):
        nginx_rps = statistics.median(r[0] for r in rows[(file, mode, "nginx")])
        for server in ("www", "www-sandbox", "nginx", "nginx-cache"):
            r = rows[(file, mode, server)]
            ratio = "%.2f" % (statistics.median(x[0] for x in r) / nginx_rps) if server.startswith("www") else ""
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                file[1:], mode, server, cell([x[0] for x in r], "%.0f"), cell([x[1] for x in r], "%.0f"),
                cell([x[2] for x in r], "%.2f"), ratio))
print()
print("Medians of %s runs of %s s each, [min-max]." % (runs, seconds))
PY
echo
echo "Machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), Linux $(uname -r); $(date -u +%F)."
echo "wrk: $(wrk --version 2>&1 | sed -n '1s/ Copyright.*//p'); nginx: $(nginx -v 2>&1 | sed 's/.*: //')"
