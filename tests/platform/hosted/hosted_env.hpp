// The hosted platform's boot arguments and device bindings, shared by every test in
// sarab_hosted_tests.
//
// Boot arguments and the device table are process-global, and the hosted platform keeps
// string_views into argv. So the bindings of every test are made once per process, by a
// GoogleTest environment, before the first test: each test then acquires its own device
// names, and runs the same alone (CTest runs each test in a process of its own) or with all
// the others in one process.
//
// Block devices are files in a fresh temporary directory, removed at the end. A net device is
// bound (--net=tap:IF) only when SARAB_TEST_TAP names a tap interface, which
// tests/tool/hosted_tap.test.sh does inside a network namespace it creates.
#pragma once

#include <sarab/base/types.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace sarab::test::hosted {

inline constexpr u32 sector_size = 512;

// What the environment binds, by device name. Sector counts are of the file as created.
struct BlockFixture {
    const char* name;
    u64 sectors;
    u32 extra_bytes; // a partial sector at the end of the file
    u8 seed;         // of the initial content; see pattern()
};

// The byte at offset `offset` of a file created with `seed`: differs from sector to sector.
inline std::byte pattern(u8 seed, u64 offset)
{
    return std::byte(u8(offset * 131u + (offset >> 9) * 7u + seed * 29u + 1u));
}

// The file a block device name is bound to (also for names whose file does not exist).
std::string block_path(std::string_view name);

// The tap interface the net device "uplink" (and every net name) is bound to; empty if none.
std::string_view tap_interface();

} // namespace sarab::test::hosted
