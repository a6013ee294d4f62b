# Shared by the sandbox tests (*.test.sh here): where the sandbox build is, built if need be.
#
# The executables come from the sandbox build that `sarab test` made (SARAB_SANDBOX_BUILD_DIR,
# a build root's sandbox/ folder); without it, the applications are built with
# `sarab build -t sandbox` in the default build root. Builds take a lock on the build tree, so
# that two tests never run ninja in it at once.
set -euo pipefail

source_dir="${SARAB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
if [ -n "${SARAB_SANDBOX_BUILD_DIR:-}" ]; then
    [ "$(basename "$SARAB_SANDBOX_BUILD_DIR")" = sandbox ] || {
        echo "FAIL: SARAB_SANDBOX_BUILD_DIR must be a build root's sandbox/ folder: $SARAB_SANDBOX_BUILD_DIR"
        exit 1
    }
    export SARAB_BUILD_ROOT="$(dirname "$SARAB_SANDBOX_BUILD_DIR")"
fi
build_root="${SARAB_BUILD_ROOT:-$source_dir/build}"
sandbox_dir="$build_root/sandbox"
mkdir -p "$build_root"

# sarab_locked ARGS...: runs ./sarab with the build tree's lock held.
sarab_locked() {
    (
        flock 9
        "$source_dir/sarab" "$@"
    ) 9>"$build_root/.sandbox-lock"
}

# need_apps APP_DIR...: builds those that the sandbox tree lacks.
need_apps() {
    local app name
    for app in "$@"; do
        name="$(basename "$app")"
        [ -x "$sandbox_dir/apps/$name/$name" ] || sarab_locked build -t sandbox "$source_dir/$app" >/dev/null
    done
}
