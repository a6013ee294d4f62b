#!/usr/bin/env bash
# Figures for docs/performance.md (issues 5 and 6, "virtio under TCG, reported apart"), not a
# test: examples/dns and examples/www as virtio images on microvm, QEMU pinned to CPU 1 on a
# tap in a namespace of their own, the client pinned to CPU 0 in the namespace. Reported as
# TESTING.md asks for emulated runs: queries or requests per second, and QEMU's CPU seconds
# per 1000 (utime + stime of its process, all threads), at saturation and at a fixed rate.
#
#   dns   the zone and questions of bench/dns/run.sh (bench/dns/make_zone.py), compiled into
#         the image (--kv zones=DIR); dnsperf -c 1 -q 100 for SECONDS, then -Q RATE
#   www   a 1 KiB and a 100 KiB file compiled into the image (--kv htdocs=DIR); wrk -t1 -c50
#         for SECONDS, keep-alive and Connection: close
#
#     bench/virtio/service_figures.sh [SECONDS (default 10)] [DNS_RATE (default 2000)]
# Each run is bounded by its SECONDS; QEMU and the namespace go when the script ends.
source "$(dirname "$0")/lib.sh"
seconds="${1:-10}"
rate="${2:-2000}"
for tool in dnsperf wrk python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y dnsperf wrk python3" >&2; exit 1; }
done

echo "# virtio services under TCG: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r), $(qemu-system-x86_64 --version | head -1)"

# per_1000 COUNT CPU_BEFORE CPU_AFTER
per_1000() { python3 -c "print('%.3f' % (($3 - $2) / max($1, 1) * 1000))"; }

# ---- DNS ----
mkdir -p "$work/zones"
python3 "$root/bench/dns/make_zone.py" "$work/zones/example.org.zone" "$work/queries.txt" >/dev/null
start_image microvm examples/dns --kv zones="$work/zones"
for args in "-q 100" "-Q $rate"; do
    before=$(qemu_cpu)
    # shellcheck disable=SC2086 # two words on purpose
    out=$(in_ns taskset -c 0 dnsperf -s 198.18.0.2 -p 53 -d "$work/queries.txt" -l "$seconds" -c 1 $args 2>&1)
    after=$(qemu_cpu)
    completed=$(awk '/Queries completed:/ { print $3 }' <<<"$out")
    echo "dns ($args): $(awk '/Queries per second:/ { printf "%.0f", $4 }' <<<"$out") queries/s," \
        "avg latency $(awk '/Average Latency/ { printf "%.3f ms", $4 * 1000 }' <<<"$out")," \
        "lost $(awk '/Queries lost:/ { print $3 }' <<<"$out"), QEMU CPU-s per 1000: $(per_1000 "$completed" "$before" "$after")"
done
stop_image

# ---- HTTP ----
mkdir -p "$work/site"
head -c 1024 /dev/zero | tr '\0' 'x' >"$work/site/1k.txt"
head -c 102400 /dev/zero | tr '\0' 'y' >"$work/site/100k.txt"
start_image microvm examples/www --kv htdocs="$work/site"
for file in 1k.txt 100k.txt; do
    for mode in keep-alive close; do
        header=()
        [ "$mode" = close ] && header=(-H "Connection: close")
        before=$(qemu_cpu)
        out=$(in_ns taskset -c 0 wrk -t1 -c50 -d"${seconds}s" "${header[@]}" "http://198.18.0.2/$file")
        after=$(qemu_cpu)
        requests=$(awk '/requests in/ { print $1 }' <<<"$out")
        errors=$(grep -E 'Non-2xx|Socket errors' <<<"$out" || true)
        echo "www $file ($mode): $(awk '/Requests\/sec/ { printf "%.0f", $2 }' <<<"$out") requests/s," \
            "latency $(awk '/Latency/ { print $2 }' <<<"$out"), QEMU CPU-s per 1000: $(per_1000 "$requests" "$before" "$after")${errors:+, $errors}"
    done
done
stop_image
