#!/usr/bin/env bash
# The sarab command as a newcomer meets it: from a fresh clone of the committed tree, build
# and run hello, see --help and a bad boot argument, make a new application, run it, and get
# its exit status back. Builds from scratch in a temporary folder, removed at the end.
set -euo pipefail

src="${SARAB_SOURCE_DIR:?}"
work="$(mktemp -d /tmp/sarab-cli.XXXXXX)"
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
check_eq() { [ "$1" = "$2" ] || fail "$3: expected [$2], got [$1]"; }

if git -C "$src" rev-parse --verify HEAD >/dev/null 2>&1; then
    git clone -q "$src" "$work/sarab"
else
    echo "note: $src is not a git checkout with commits; copying the tree instead"
    mkdir "$work/sarab"
    (cd "$src" && tar --exclude=./build -cf - .) | (cd "$work/sarab" && tar -xf -)
fi
cd "$work/sarab"
export SARAB_JOBS="${SARAB_JOBS:-2}"

# The README's first look at hello: exactly three lines on stdout (the build talks on stderr), status 0.
out="$(./sarab run examples/hello -- --count=3 --interval=0.1 2>"$work/build.log")" || fail "hello failed: $(tail -5 "$work/build.log")"
check_eq "$out" "$(printf 'hello\nhello\nhello')" "hello's output"
grep -q "building hello for hosted" "$work/build.log" || fail "no progress shown while building"

# build prints the artifact last.
artifact="$(./sarab build examples/hello 2>/dev/null | tail -n 1)"
[ -x "$artifact" ] || fail "sarab build's last line is not an executable: [$artifact]"

# --help lists the boot arguments and exits 0.
help="$(./sarab run examples/hello -- --help 2>/dev/null)" || fail "--help exited non-zero"
grep -q -- "--count=N" <<<"$help" || fail "--help does not list --count"
grep -q -- "--interval=SECONDS" <<<"$help" || fail "--help does not list --interval"

# A bad boot argument: a clear error and status 2.
set +e
bad="$(./sarab run examples/hello -- --count=lots 2>/dev/null)"
status=$?
set -e
check_eq "$status" 2 "status for a bad boot argument"
grep -q "bad value for --count: 'lots' is not a whole number" <<<"$bad" || fail "unclear error: [$bad]"

set +e
./sarab run examples/hello -- --colour=blue >/dev/null 2>&1
status=$?
./sarab frobnicate >/dev/null 2>&1
tool_status=$?
./sarab run -t virtualbox examples/hello >/dev/null 2>&1
target_status=$?
set -e
check_eq "$status" 2 "status for an unknown boot argument"
check_eq "$tool_status" 2 "status for an unknown sarab command"
check_eq "$target_status" 2 "status for an unknown target"

# A new application builds and runs, outside the repository too.
mkdir "$work/apps"
(cd "$work/apps" && "$work/sarab/sarab" new greeter 2>/dev/null) || fail "sarab new failed"
out="$(./sarab run "$work/apps/greeter" -- --greeting=hi 2>/dev/null)" || fail "the new application failed"
grep -qx "hi" <<<"$out" || fail "the new application printed [$out]"
# It refuses to overwrite.
if (cd "$work/apps" && "$work/sarab/sarab" new greeter >/dev/null 2>&1); then fail "sarab new overwrote an application"; fi

# The application's exit status is sarab run's.
./sarab new "$work/apps/three" 2>/dev/null
sed -i 's/co_return 0;/co_return 3;/' "$work/apps/three/main.cpp"
set +e
./sarab run "$work/apps/three" >/dev/null 2>&1
status=$?
set -e
check_eq "$status" 3 "sarab run's status for an application returning 3"

# Two external applications stay configured side by side.
./sarab run "$work/apps/greeter" >/dev/null 2>&1 || fail "greeter no longer builds after adding another application"

echo "cli: all checks passed"
