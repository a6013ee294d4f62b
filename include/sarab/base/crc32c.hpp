// CRC-32C (Castagnoli, the polynomial of iSCSI, ext4 and btrfs): the checksum of what the
// storage layer writes to a disk, to find a torn or damaged record. Not a defence against a
// deliberate forgery; a byte at a time from a table, the same on every target.
//
//     u32 sum = crc32c(bytes);                 // "123456789" gives 0xe3069283
//     u32 more = crc32c(next, sum);            // the sum of bytes followed by next
#pragma once

#include <sarab/base/types.hpp>

#include <array>
#include <span>

namespace sarab {

namespace detail {
constexpr std::array<u32, 256> crc32c_table = [] {
    std::array<u32, 256> table {};
    for (u32 i = 0; i < 256; ++i) {
        u32 c = i;
        for (int bit = 0; bit < 8; ++bit)
            c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1; // the reflected polynomial
        table[i] = c;
    }
    return table;
}();
} // namespace detail

// The CRC-32C of `bytes`, continuing from `previous` (the CRC-32C of what came before them).
constexpr u32 crc32c(std::span<const std::byte> bytes, u32 previous = 0)
{
    u32 c = ~previous;
    for (std::byte b : bytes)
        c = detail::crc32c_table[(c ^ u32(b)) & 0xff] ^ (c >> 8);
    return ~c;
}

} // namespace sarab
