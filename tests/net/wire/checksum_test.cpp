#include <sarab/net/wire/byte_order.hpp>
#include <sarab/net/wire/checksum.hpp>

#include "wire_test_util.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using namespace sarab;
using namespace sarab::net;
using namespace sarab::net::wire;
using namespace sarab::net::wire::test;

TEST(WireByteOrder, NetworkOrderedStoresBigEndian)
{
    NetworkOrdered<u16> a = 0x1234;
    NetworkOrdered<u32> b = 0xc0a80001;
    u8 raw[6];
    std::memcpy(raw, &a, 2);
    std::memcpy(raw + 2, &b, 4);
    const u8 expected[] = { 0x12, 0x34, 0xc0, 0xa8, 0x00, 0x01 };
    EXPECT_BYTES_EQ(bytes_of(raw), bytes_of(expected));
    EXPECT_EQ(a.get(), 0x1234);
    EXPECT_EQ(b.get(), 0xc0a80001u);
    a.set(0xfffe);
    EXPECT_EQ(a.get(), 0xfffe);
    static_assert(NetworkOrdered<u32>(0x01020304).get() == 0x01020304);
}

TEST(WireByteOrder, ReadsAndWritesAtOffsets)
{
    const u8 literal[] = { 0xaa, 0x01, 0x02, 0x03, 0x04, 0x05 };
    EXPECT_EQ(read_u8(bytes_of(literal), 0), 0xaa);
    EXPECT_EQ(read_be16(bytes_of(literal), 1), 0x0102);
    EXPECT_EQ(read_be32(bytes_of(literal), 2), 0x02030405u);

    std::byte out[7] {};
    write_u8(out, 0, 0x7f);
    write_be16(out, 1, 0xbeef);
    write_be32(out, 3, 0xdeadc0de);
    const u8 expected[] = { 0x7f, 0xbe, 0xef, 0xde, 0xad, 0xc0, 0xde };
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(expected));
}

TEST(WireByteOrderDeathTest, OutOfBoundsIsABug)
{
    const u8 literal[] = { 1, 2, 3 };
    EXPECT_DEATH((void)read_be32(bytes_of(literal), 0), "out of bounds");
    EXPECT_DEATH((void)read_be16(bytes_of(literal), 2), "out of bounds");
}

// The numerical example of RFC 1071 section 3.
TEST(WireChecksum, Rfc1071Example)
{
    const u8 data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    EXPECT_EQ(internet_checksum(bytes_of(data)), u16(~0xddf2));
}

TEST(WireChecksum, OddLengthPadsWithZero)
{
    const u8 odd[] = { 0x12, 0x34, 0x56 };
    const u8 even[] = { 0x12, 0x34, 0x56, 0x00 };
    EXPECT_EQ(internet_checksum(bytes_of(odd)), internet_checksum(bytes_of(even)));
    EXPECT_EQ(internet_checksum(bytes_of(odd)), u16(~(0x1234 + 0x5600)));
}

TEST(WireChecksum, PiecesOfAnyLengthSumAsTheWhole)
{
    std::vector<u8> data;
    for (int i = 0; i < 101; ++i)
        data.push_back(u8(i * 37 + 11));
    auto all = std::as_bytes(std::span(data));
    u16 whole = internet_checksum(all);
    for (usize first = 0; first <= all.size(); ++first) {
        for (usize second = first; second <= all.size(); second += 7) {
            Checksum sum;
            sum.add(all.first(first));
            sum.add(all.subspan(first, second - first));
            sum.add(all.subspan(second));
            ASSERT_EQ(sum.value(), whole) << "split at " << first << " and " << second;
        }
    }
}

TEST(WireChecksum, DataWithItsChecksumSumsToZero)
{
    u8 data[] = { 0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01 };
    u16 c = internet_checksum(bytes_of(data));
    Checksum sum;
    sum.add(bytes_of(data));
    sum.add_u16(c);
    EXPECT_EQ(sum.value(), 0);
}

TEST(WireChecksum, PseudoHeaderIsTwelveBytes)
{
    const u8 pseudo[] = { 10, 0, 2, 15, 10, 0, 2, 2, 0, 17, 0x01, 0x2c };
    Checksum sum;
    sum.add_pseudo_header(Ipv4Address(10, 0, 2, 15), Ipv4Address(10, 0, 2, 2), 17, 300);
    EXPECT_EQ(sum.value(), internet_checksum(bytes_of(pseudo)));
}

TEST(WireChecksum, Rfc1624AdjustMatchesRecomputing)
{
    u8 header[] = { 0x45, 0x00, 0x00, 0x54, 0x52, 0xb9, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00,
        0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01 };
    u16 before = internet_checksum(bytes_of(header));
    // A router decrements the TTL: the word (TTL, protocol) changes from 0x4001 to 0x3f01.
    header[8] = 0x3f;
    EXPECT_EQ(checksum_adjust(before, u16(0x4001), u16(0x3f01)), internet_checksum(bytes_of(header)));
    // A NAT rewrites the source address.
    u16 mid = internet_checksum(bytes_of(header));
    const u8 nat_source[] = { 10, 0, 2, 15 };
    std::memcpy(header + 12, nat_source, 4);
    EXPECT_EQ(checksum_adjust(mid, u32(0x7f000001), u32(0x0a00020f)), internet_checksum(bytes_of(header)));
}
