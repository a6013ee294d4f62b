#!/usr/bin/env bash
# The C++ library on the image: containers, strings, number formatting (integers, shortest
# and fixed doubles, durations), <cmath> and heap reuse give the same output as on hosted; the clocks
# run (a plausible wall-clock year from the CMOS RTC, a 50 ms sleep that takes 50 ms).
source "$(dirname "$0")/lib.sh"

# What the hosted build of tests/platform/virtio/apps/probe prints for --library.
cat >"$work/expected" <<'OUT'
vector 1000 0 999
string sarab01234 10
unordered_map a=3 b=2 c=1
map one,two,three
doubles 0.1 0.3333333333333333 1e+22 2.5e-08 123456.789 -0
fixed 3.142 2 0.12 10000000000.0
integers -42 ff 00000101 18446744073709551615
duration 1.5us 250ms 2.5s
math 1.414213562 1.414213562 0.909297427 7.389056099 3.000000000 0.785398163 -3.000000000
heap round 0 1950400
heap round 1 1950400
heap round 2 1950400
OUT
if boot library tests/platform/virtio/apps/probe -- --library; then
    expect_status library 0
    if ! cmp -s "$work/expected" "$work/library.out"; then
        fail "the library's results differ from hosted:"
        diff "$work/expected" "$work/library.out" || true
    fi
fi
if boot clock tests/platform/virtio/apps/probe -- --clock; then
    expect_status clock 0
    expect_line clock "wall clock year plausible"
    expect_line clock "sleep 50ms ok"
fi
finish
