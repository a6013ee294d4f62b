#!/usr/bin/env bash
# The example services as sandbox executables, through the hosted target's own tests of them:
# echo (TCP and UDP on the socket stack), dns (dig over UDP and TCP, AXFR, truncation), www
# (curl, Chromium) and dns on Sarab's own stack over a tap device. Each must pass sealed as it
# does unsealed: the filter allows what their devices need.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_apps examples/echo examples/dns examples/www
failures=0
for test in tests/tool/echo.test.sh tests/services/dns/dns.test.sh tests/services/http/www.test.sh tests/services/dns/own_stack.test.sh; do
    echo "== $test, sandboxed"
    if ! SARAB_BUILD_DIR="$sandbox_dir" SARAB_SOURCE_DIR="$source_dir" bash "$source_dir/$test"; then
        echo "FAIL: $test on the sandbox build"
        failures=$((failures + 1))
    fi
done
if [ "$failures" -ne 0 ]; then
    exit 1
fi
echo "sandbox services: all checks passed"
