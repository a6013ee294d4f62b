# Shared by the sandbox tests (*.test.sh here): where the sandbox build is, built if need be.
#
# The executables come from the sandbox build that `sarab test` made (SARAB_SANDBOX_BUILD_DIR,
# a build root's sandbox/ folder); without it, the applications are built with
# `sarab build -t sandbox` in the default build root. Builds take a lock on the build tree, so
# that two tests never run ninja in it at once.
set -euo pipefail

source_dir="${SARAB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
source "$source_dir/tests/lib/build_tree.sh"
use_build_tree sandbox "${SARAB_SANDBOX_BUILD_DIR:-}"
sandbox_dir="$build_root/sandbox"

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
