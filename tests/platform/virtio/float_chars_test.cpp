// The virtio image's std::to_chars / std::from_chars for double (src/platform/virtio/
// float_chars.cpp), built for the host under another namespace and checked against
// libstdc++'s: the same text for every double tried, the same value for every text.
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>

namespace sarab_test_chars {
std::to_chars_result to_chars(char* first, char* last, double value) noexcept;
std::to_chars_result to_chars(char* first, char* last, double value, std::chars_format fmt, int precision) noexcept;
std::from_chars_result from_chars(const char* first, const char* last, double& value, std::chars_format fmt) noexcept;
} // namespace sarab_test_chars

namespace {

double from_bits(std::uint64_t bits)
{
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
}

std::uint64_t to_bits(double d)
{
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    return bits;
}

std::string ours(double v)
{
    char buffer[64];
    auto r = sarab_test_chars::to_chars(buffer, buffer + sizeof buffer, v);
    EXPECT_EQ(r.ec, std::errc {});
    return std::string(buffer, r.ptr);
}

std::string theirs(double v)
{
    char buffer[64];
    auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
    return std::string(buffer, r.ptr);
}

std::string ours_fixed(double v, int precision)
{
    static char buffer[2000];
    auto r = sarab_test_chars::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::fixed, precision);
    EXPECT_EQ(r.ec, std::errc {});
    return std::string(buffer, r.ptr);
}

std::string theirs_fixed(double v, int precision)
{
    static char buffer[2000];
    auto r = std::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::fixed, precision);
    return std::string(buffer, r.ptr);
}

double random_finite(std::mt19937_64& rng)
{
    for (;;) {
        double d = from_bits(rng());
        if (std::isfinite(d))
            return d;
    }
}

} // namespace

TEST(VirtioFloatChars, ShortestMatchesLibstdcxx)
{
    for (double v : { 0.0, -0.0, 1.0, 0.1, 1.0 / 3, 1e22, 1e21, 1e23, 123456.789, 2.5e-8, 5e-324, 1.7976931348623157e308,
             2.2250738585072014e-308, 9007199254740993.0, 100.0, 1e-5, 0.0001, 12345678901234567890.0 })
        EXPECT_EQ(ours(v), theirs(v)) << theirs(v);
    std::mt19937_64 rng(12345);
    for (int i = 0; i < 200000; ++i) {
        double v = random_finite(rng);
        ASSERT_EQ(ours(v), theirs(v)) << "bits " << to_bits(v);
    }
    // Numbers of everyday size, where fixed and scientific compete.
    std::uniform_real_distribution<double> exponent(-12, 25);
    for (int i = 0; i < 100000; ++i) {
        double v = std::pow(10.0, exponent(rng)) * (rng() & 1 ? 1 : -1);
        ASSERT_EQ(ours(v), theirs(v)) << "bits " << to_bits(v);
    }
}

TEST(VirtioFloatChars, FixedMatchesLibstdcxx)
{
    for (auto [v, p] : { std::pair { 0.125, 2 }, { 2.5, 0 }, { 3.5, 0 }, { 1e10, 1 }, { 0.0, 3 }, { -0.0, 2 }, { 1e300, 2 },
             { 5e-324, 1074 }, { 5e-324, 1100 }, { 0.1, 30 }, { 1.5, 0 }, { 0.05, 1 } })
        EXPECT_EQ(ours_fixed(v, p), theirs_fixed(v, p)) << v << " " << p;
    std::mt19937_64 rng(777);
    std::uniform_real_distribution<double> exponent(-15, 20);
    for (int i = 0; i < 50000; ++i) {
        double v = std::pow(10.0, exponent(rng)) * (rng() & 1 ? 1 : -1);
        int precision = int(rng() % 25);
        ASSERT_EQ(ours_fixed(v, precision), theirs_fixed(v, precision)) << "bits " << to_bits(v) << " precision " << precision;
    }
    for (int i = 0; i < 2000; ++i) {
        double v = random_finite(rng);
        int precision = int(rng() % 40);
        ASSERT_EQ(ours_fixed(v, precision), theirs_fixed(v, precision)) << "bits " << to_bits(v) << " precision " << precision;
    }
}

TEST(VirtioFloatChars, FromCharsMatchesLibstdcxx)
{
    auto check = [](std::string_view text, std::chars_format fmt = std::chars_format::general) {
        double a = -1.25, b = -1.25;
        auto ra = sarab_test_chars::from_chars(text.data(), text.data() + text.size(), a, fmt);
        auto rb = std::from_chars(text.data(), text.data() + text.size(), b, fmt);
        EXPECT_EQ(ra.ptr - text.data(), rb.ptr - text.data()) << text;
        EXPECT_EQ(int(ra.ec), int(rb.ec)) << text;
        if (std::isnan(b))
            EXPECT_TRUE(std::isnan(a)) << text;
        else
            EXPECT_EQ(to_bits(a), to_bits(b)) << text << " " << a << " " << b;
    };
    for (std::string_view text : { "0", "-0", "1", "0.1", "2.5", "1e22", "1e-5", "9007199254740993", "9007199254740995",
             "2.4703282292062327e-324", "2.4703282292062328e-324", "4.9e-324", "1e-400", "1e400", "1.7976931348623157e308",
             "1.7976931348623159e308", "inf", "-Infinity", "nan", "nan(123)", "x", "-", ".", "1.", ".5", "1e", "1e+", "1.5e3x",
             "00012.3400", "0.000000000000000000000000000001", "123456789012345678901234567890", "1E5", "-0.0e-5" })
        check(text);
    check("1e5", std::chars_format::fixed);
    check("1.5", std::chars_format::scientific);
    check("1.5e2", std::chars_format::scientific);
    // 800 digits that are exactly halfway between two doubles but for a last digit far away.
    std::string long_text = "9007199254740993" + std::string(790, '0') + "1";
    check(long_text);
    std::mt19937_64 rng(4242);
    char buffer[64];
    for (int i = 0; i < 100000; ++i) {
        double v = random_finite(rng);
        auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
        check(std::string_view(buffer, std::size_t(r.ptr - buffer)));
        // The same digits with the last one changed: a value between doubles.
        std::string text(buffer, r.ptr);
        std::size_t e = text.find('e');
        std::size_t last = (e == std::string::npos ? text.size() : e) - 1;
        if (text[last] >= '0' && text[last] <= '8') {
            text[last] = char(text[last] + 1);
            check(text);
        }
    }
}
