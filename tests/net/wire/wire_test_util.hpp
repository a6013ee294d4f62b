// Helpers for the wire-format tests: literal packets as byte spans, and comparisons that
// print the bytes in hex when they differ.
#pragma once

#include <sarab/base/types.hpp>
#include <sarab/net/wire/error.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <ostream>
#include <span>
#include <string>
#include <vector>

namespace sarab::net::wire {

// GoogleTest prints errors by name.
inline void PrintTo(WireError e, std::ostream* out) { *out << error_name(e); }

} // namespace sarab::net::wire

namespace sarab::net::wire::test {

template<usize N>
std::span<const std::byte> bytes_of(const u8 (&literal)[N])
{
    return std::as_bytes(std::span<const u8, N>(literal));
}

// A copy to corrupt.
inline std::vector<std::byte> copy_of(std::span<const std::byte> bytes) { return { bytes.begin(), bytes.end() }; }

inline std::string hex(std::span<const std::byte> bytes)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (usize i = 0; i < bytes.size(); ++i) {
        if (i > 0 && i % 16 == 0)
            out += '\n';
        else if (i > 0)
            out += ' ';
        out += digits[u8(bytes[i]) >> 4];
        out += digits[u8(bytes[i]) & 15];
    }
    return out;
}

#define EXPECT_BYTES_EQ(actual, expected) EXPECT_EQ(::sarab::net::wire::test::hex(actual), ::sarab::net::wire::test::hex(expected))

} // namespace sarab::net::wire::test
