#!/usr/bin/env bash
# Read-only stores through the sarab command: read from a directory at start on hosted
# (`sarab run --kv`), compiled into the image (`sarab build --kv`), rebuilt when a file
# changes, and a clear error when the directory is missing.
set -euo pipefail
src="${SARAB_SOURCE_DIR:?}"
build_root="$(mktemp -d /tmp/sarab-store.XXXXXX)"
data="$build_root/data"
trap 'rm -rf "$build_root"' EXIT
export SARAB_BUILD_ROOT="$build_root/build" SARAB_JOBS="${SARAB_JOBS:-2}"
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$data/css"
printf 'welcome\nsecond line\n' > "$data/index.html"
printf 'body{}' > "$data/css/site.css"
app="$src/tests/tool/apps/storecat"

out="$("$src/sarab" run "$app" --kv "files=$data" 2>"$build_root/log")" || fail "run --kv: $(tail -3 "$build_root/log")"
expected="$(printf 'css/site.css 6 body{}\nindex.html 20 welcome')"
[ "$out" = "$expected" ] || fail "run --kv listed [$out]"

artifact="$("$src/sarab" build --kv "files=$data" "$app" 2>"$build_root/log" | tail -n 1)" || fail "build --kv: $(tail -3 "$build_root/log")"
out="$("$artifact")" || fail "the image with a compiled-in store failed"
[ "$out" = "$expected" ] || fail "compiled-in store listed [$out]"

# The directory is gone: the compiled-in copy still serves.
mv "$data" "$data.moved"
out="$("$artifact")"
[ "$out" = "$expected" ] || fail "the compiled-in store depends on the directory"
mv "$data.moved" "$data"

# A change rebuilds the image.
printf 'changed\n' > "$data/index.html"
artifact="$("$src/sarab" build --kv "files=$data" "$app" 2>/dev/null | tail -n 1)"
"$artifact" | grep -qx "index.html 8 changed" || fail "a changed file was not rebuilt into the image"

set +e
"$src/sarab" run --kv "files=$build_root/nowhere" "$app" >/dev/null 2>&1
status=$?
set -e
[ "$status" -eq 2 ] || fail "a missing store directory gave status $status, not 2"
# A directory bound by an earlier `build --kv` and gone since does not stop the build of
# another application in the same tree; the build says so.
rm -rf "$data"
"$src/sarab" build "$src/examples/hello" >"$build_root/log" 2>&1 || fail "a build after the bound directory went failed: $(tail -5 "$build_root/log")"
grep -q "store files was bound to" "$build_root/log" || fail "no word of the gone store directory: $(tail -5 "$build_root/log")"
echo "store: all checks passed"
