#!/usr/bin/env bash
# The hello example boots as a virtio image under QEMU (TCG) on microvm and on q35, prints the
# same lines as the hosted build of the same source, and exits 0 through `sarab run`.
source "$(dirname "$0")/lib.sh"

args=(--count=3 --interval=0.1)
expected="$work/expected"
hosted="${SARAB_BUILD_DIR:-}/apps/hello/hello"
if [ -n "${SARAB_BUILD_DIR:-}" ] && [ -x "$hosted" ]; then
    timeout 30 "$hosted" "${args[@]}" >"$expected"
else
    printf 'hello\nhello\nhello\n' >"$expected"
fi

for machine in microvm q35; do
    boot "hello-$machine" --machine "$machine" examples/hello -- "${args[@]}" || continue
    expect_status "hello-$machine" 0
    if ! cmp -s "$expected" "$work/hello-$machine.out"; then
        fail "hello on $machine printed something else than hosted:"
        diff "$expected" "$work/hello-$machine.out" || true
    fi
done
finish
