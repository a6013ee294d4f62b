#include <sarab/base/crc32c.hpp>

#include <gtest/gtest.h>

#include <array>
#include <string_view>

using namespace sarab;

namespace {

std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s)); }

TEST(Crc32c, MatchesTheCheckValueOfTheStandard)
{
    // The check value of CRC-32C (RFC 3720, iSCSI): the CRC of the nine digits.
    EXPECT_EQ(crc32c(bytes("123456789")), 0xe3069283u);
    EXPECT_EQ(crc32c(bytes("")), 0u);
    // RFC 3720, B.4: 32 bytes of zeroes.
    std::array<std::byte, 32> zeroes {};
    EXPECT_EQ(crc32c(zeroes), 0x8a9136aau);
    static_assert(crc32c(std::span<const std::byte>()) == 0); // usable at compile time
}

TEST(Crc32c, ContinuesFromAnEarlierSum)
{
    EXPECT_EQ(crc32c(bytes("56789"), crc32c(bytes("1234"))), 0xe3069283u);
    EXPECT_NE(crc32c(bytes("123456798")), 0xe3069283u);
}

} // namespace
