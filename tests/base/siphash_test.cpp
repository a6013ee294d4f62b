#include <sarab/base/siphash.hpp>

#include <gtest/gtest.h>

#include <array>

using namespace sarab;

// The reference vector of the SipHash paper (appendix A): key 00..0f, message 00..0e.
TEST(SipHash, MatchesThePapersVector)
{
    SipKey key { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
    std::array<std::byte, 15> message;
    for (usize i = 0; i < message.size(); ++i)
        message[i] = std::byte(i);
    EXPECT_EQ(siphash(key, message), 0xa129ca6149be45e5ull);
}

TEST(SipHash, PiecewiseEqualsWholeAndKeyMatters)
{
    SipKey key { 1, 2 };
    std::array<std::byte, 23> message;
    for (usize i = 0; i < message.size(); ++i)
        message[i] = std::byte(i * 7);
    SipHash h(key);
    h.update(std::span(message).first(5));
    h.update(std::span(message).subspan(5));
    EXPECT_EQ(h.finish(), siphash(key, message));
    EXPECT_NE(siphash(SipKey { 1, 3 }, message), siphash(key, message));
    EXPECT_NE(siphash(key, std::span(message).first(22)), siphash(key, message));
}
