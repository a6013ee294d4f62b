#include <sarab/base/format.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace sarab;
using namespace std::chrono_literals;

template<class... Args>
static std::string fmt(std::string_view f, const Args&... args)
{
    InlineFormatBuffer<256> out;
    format_to(out, f, args...);
    return std::string(out.view());
}

TEST(Format, Integers)
{
    EXPECT_EQ(fmt("{} {} {}", 0, -42, u64(18446744073709551615ull)), "0 -42 18446744073709551615");
    EXPECT_EQ(fmt("{}", i64(-9223372036854775807ll - 1)), "-9223372036854775808");
    EXPECT_EQ(fmt("{:x} {:X} {:b}", 255, 255, 5), "ff FF 101");
    EXPECT_EQ(fmt("{:08x}", 0xbeef), "0000beef");
    EXPECT_EQ(fmt("{:5}|{:05}", 42, -42), "   42|-0042");
    EXPECT_EQ(fmt("{}", u8(200)), "200");
}

TEST(Format, TextBoolsCharsAndBraces)
{
    EXPECT_EQ(fmt("{} {} {}", "abc", std::string_view("de"), true), "abc de true");
    EXPECT_EQ(fmt("{}{}", 'x', 'y'), "xy");
    EXPECT_EQ(fmt("{{}} {}", 1), "{} 1");
    EXPECT_EQ(fmt("missing {} {}", 1), "missing 1 {?}");
    EXPECT_EQ(fmt("{:>6}", "ab"), "    ab");
}

TEST(Format, WithoutArguments)
{
    EXPECT_EQ(fmt("plain text"), "plain text");
    EXPECT_EQ(fmt(""), "");
    EXPECT_EQ(fmt("a {{b}} c"), "a {b} c"); // braces are still escapes
    EXPECT_EQ(fmt("no value {}"), "no value {?}");
    EXPECT_EQ(fmt("}"), "}");
    InlineFormatBuffer<4> small;
    format_to(small, "truncated");
    EXPECT_EQ(small.view(), "trun");
    EXPECT_TRUE(small.truncated());
}

TEST(Format, FloatsAndDurations)
{
    EXPECT_EQ(fmt("{}", 2.5), "2.5");
    EXPECT_EQ(fmt("{:.3}", 3.14159), "3.142");
    EXPECT_EQ(fmt("{} {} {} {}", 2500ms, 100ms, 17us, 5ns), "2.5s 100ms 17us 5ns");
    EXPECT_EQ(fmt("{:.1}", 1234567ns), "1.2ms");
}

TEST(Format, TruncatesWithoutOverflow)
{
    InlineFormatBuffer<8> out;
    format_to(out, "{} and more", 123456);
    EXPECT_EQ(out.view(), "123456 a");
    EXPECT_TRUE(out.truncated());
}
