#!/usr/bin/env bash
# Frames through a real tap device: runs the Tap* tests of sarab_hosted_tests (see
# tests/platform/hosted/tap_test.cpp) inside a network namespace made for this run, where the
# Linux end of a tap interface is 198.18.0.1/24 with MTU 1400. The namespace, and with it
# the tap device, is removed when this script ends, however it ends.
# sarab-test: sanitize
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP: hosted_tap needs root (network namespaces and tap devices)"
    exit 0
fi
if ! command -v ip >/dev/null; then
    echo "SKIP: hosted_tap needs ip (iproute2)"
    exit 0
fi

build=${SARAB_BUILD_DIR:?SARAB_BUILD_DIR is not set}
binary=$build/tests/sarab_hosted_tests
if [[ ! -x $binary ]]; then
    echo "FAIL: $binary is not built (ninja -C $build sarab_hosted_tests)"
    exit 1
fi

ns=sarab-tap-$$-$RANDOM
tap=stap$$ # at most 15 characters
mtu=1400
log=$(mktemp)
cleanup() {
    ip netns delete "$ns" 2>/dev/null || true
    rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns"
ip -n "$ns" tuntap add dev "$tap" mode tap
ip -n "$ns" link set dev "$tap" mtu "$mtu"
ip -n "$ns" address add 198.18.0.1/24 dev "$tap"
ip -n "$ns" link set dev "$tap" up

# First the echo test alone, in a process of its own as CTest would run it: Linux knows no
# neighbour yet and must ask for 198.18.0.2 by ARP before it can answer. Then all of them in
# one process, on a tap whose carrier has just gone down and up again.
for filter in 'TapDevice.LinuxAnswersIcmpEcho' 'Tap*'; do
    status=0
    timeout 120 ip netns exec "$ns" env SARAB_TEST_TAP="$tap" SARAB_TEST_TAP_MTU="$mtu" \
        "$binary" --gtest_filter="$filter" 2>&1 | tee "$log" || status=$?
    if [[ $status -ne 0 ]]; then
        echo "FAIL: sarab_hosted_tests --gtest_filter='$filter' failed (status $status)"
        exit 1
    fi
    # A skipped test passes in GoogleTest; here, with a tap, every test must have run.
    if grep -q '^\[  SKIPPED \]' "$log"; then
        echo "FAIL: tests were skipped although SARAB_TEST_TAP was set"
        exit 1
    fi
    if ! grep -q '^\[  PASSED  \] [1-9]' "$log"; then
        echo "FAIL: no test matched --gtest_filter='$filter'"
        exit 1
    fi
done
echo "PASS: hosted tap device in namespace $ns"
