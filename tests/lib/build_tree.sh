# Sourced by the tests of a target other than hosted (tests/platform/virtio/lib.sh,
# tests/platform/sandbox/lib.sh). `sarab test` builds that target's tree first and passes it as
# SARAB_<TARGET>_BUILD_DIR, a build root's <target>/ folder; without it, the test's `sarab`
# commands build in SARAB_BUILD_ROOT or the default build root.
#
# use_build_tree TARGET DIR: sets build_root (and SARAB_BUILD_ROOT when DIR is given).
use_build_tree() {
    local target="$1" dir="$2"
    if [ -n "$dir" ]; then
        [ "$(basename "$dir")" = "$target" ] || {
            echo "FAIL: SARAB_${target^^}_BUILD_DIR must be a build root's $target/ folder: $dir"
            exit 1
        }
        export SARAB_BUILD_ROOT="$(dirname "$dir")"
    fi
    build_root="${SARAB_BUILD_ROOT:-$source_dir/build}"
    mkdir -p "$build_root"
}
