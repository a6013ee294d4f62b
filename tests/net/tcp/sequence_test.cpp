#include <sarab/net/tcp/sequence.hpp>

#include <gtest/gtest.h>

using sarab::net::tcp::SeqNumber;

TEST(TcpSequence, ComparesAcrossTheWrap)
{
    SeqNumber before_wrap(0xfffffff0u);
    SeqNumber after_wrap = before_wrap + 0x20;
    EXPECT_EQ(after_wrap.value(), 0x10u);
    EXPECT_LT(before_wrap, after_wrap);
    EXPECT_GT(after_wrap, before_wrap);
    EXPECT_EQ(after_wrap - before_wrap, 0x20);
    EXPECT_EQ(before_wrap - after_wrap, -0x20);
    EXPECT_LE(before_wrap, before_wrap);
    EXPECT_EQ(max(before_wrap, after_wrap), after_wrap);
}

TEST(TcpSequence, HalfTheSpaceDecidesTheOrder)
{
    SeqNumber zero(0);
    EXPECT_LT(zero, zero + 0x7fffffffu);  // just under 2^31 ahead: ahead
    EXPECT_GT(zero, zero + 0x80000001u);  // just over: behind
}

TEST(TcpSequence, WindowsAcrossTheWrap)
{
    SeqNumber low(0xffffff00u);
    SeqNumber high = low + 0x200;
    EXPECT_TRUE(low.in_window(low, high));
    EXPECT_TRUE(SeqNumber(0x50).in_window(low, high));
    EXPECT_FALSE(high.in_window(low, high));
    EXPECT_FALSE((low - 1).in_window(low, high));
    EXPECT_FALSE(low.in_window(low, low)); // an empty window holds nothing
}
