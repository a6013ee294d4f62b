#include <sarab/base/format.hpp>
#include <sarab/base/print.hpp>
#include <sarab/platform/simulated.hpp>

#include <gtest/gtest.h>

#include <array>
#include <string>

using namespace sarab;
using namespace std::chrono_literals;

template<class... Args>
static std::string fmt(FormatString<Args...> f, const Args&... args)
{
    InlineFormatBuffer<256> out;
    format_to<Args...>(out, f, args...);
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
    EXPECT_EQ(fmt(runtime_format("missing {} {}"), 1), "missing 1 {?}");
    EXPECT_EQ(fmt("{:>6}", "ab"), "    ab");
}

TEST(Format, WithoutArguments)
{
    EXPECT_EQ(fmt("plain text"), "plain text");
    EXPECT_EQ(fmt(""), "");
    EXPECT_EQ(fmt("a {{b}} c"), "a {b} c"); // braces are still escapes
    EXPECT_EQ(fmt(runtime_format("no value {}")), "no value {?}");
    EXPECT_EQ(fmt(runtime_format("}")), "}");
    InlineFormatBuffer<4> small;
    format_to(small, "truncated");
    EXPECT_EQ(small.view(), "trun");
    EXPECT_TRUE(small.truncated());
}

// The check that makes a bad literal format a compile error (BasicFormatString's constructor
// runs it at compile time); here it runs at run time too, to show what it refuses.
static std::string why(std::string_view f, usize arguments)
{
    bool plain = false;
    const char* reason = detail::check_format(f, arguments, plain);
    return reason ? reason : "";
}

TEST(Format, ChecksFormatsAtCompileTime)
{
    static_assert([] {
        bool plain = false;
        return detail::check_format("{} {:>08.3x} {{}} }}", 2, plain) == nullptr;
    }());
    EXPECT_EQ(why("{} and {:08x}", 2), "");
    EXPECT_EQ(why("{{literal}}", 0), "");
    EXPECT_EQ(why("{} {}", 1), "more placeholders than arguments");
    EXPECT_EQ(why("{}", 2), "more arguments than placeholders");
    EXPECT_EQ(why("}", 0), "a '}' that closes nothing: write '}}' for a brace");
    EXPECT_EQ(why("{", 1), "a '{' that is never closed: write '{{' for a brace");
    EXPECT_EQ(why("{:08", 1), "a '{' that is never closed: write '{{' for a brace");
    EXPECT_EQ(why("{name}", 1), "a placeholder is {} or {:SPEC}, SPEC being [<>][0][WIDTH][.PRECISION][TYPE]");
    EXPECT_EQ(why("{:q}", 1), "an unknown type in a placeholder (x, X, b, o, c)");
    EXPECT_EQ(why("{:.}", 1), "a precision '.' without digits");
    // Text without braces is known to be plain, so format_to copies it without a scan.
    bool plain = false;
    EXPECT_EQ(detail::check_format("hello", 0, plain), nullptr);
    EXPECT_TRUE(plain);
    EXPECT_EQ(detail::check_format("{{}}", 0, plain), nullptr);
    EXPECT_FALSE(plain);
    static_assert(FormatString<>("hello").plain());
    static_assert(!FormatString<int>("{}").plain());
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

TEST(Print, LinesEndWithANewlineAndLongOnesAreCut)
{
    platform::sim::reset();
    println("plain");
    println("{} and {}", 1, "two");
    println("braces {{}} stay escapes");
    EXPECT_EQ(platform::sim::console_output(), "plain\n1 and two\nbraces {} stay escapes\n");

    // A plain line too long for the copy goes through the formatter, which cuts it at 1 KiB.
    static constexpr auto long_text = [] {
        std::array<char, 1101> text {};
        for (usize i = 0; i < 1100; ++i)
            text[i] = char('a' + i % 26);
        return text;
    }();
    platform::sim::reset();
    println(std::string_view(long_text.data(), 1100));
    const std::string& out = platform::sim::console_output();
    EXPECT_EQ(out.size(), 1024u);
    EXPECT_EQ(out.substr(0, 1023), std::string_view(long_text.data(), 1023));
    EXPECT_EQ(out.back(), '\n');
}
