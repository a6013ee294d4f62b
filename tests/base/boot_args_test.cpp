#include <sarab/base/boot_args.hpp>
#include <sarab/platform/simulated.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace sarab;
using namespace std::chrono_literals;

namespace {

BootArg<u16> port { "test-port", 53, "a port" };
BootArg<Duration> interval { "test-interval", 2500ms, "an interval" };
BootArg<bool> verbose { "test-verbose", false, "a flag" };
BootArg<std::string_view> name { "test-name", "anon", "a name" };
BootArg<i32> offset { "test-offset", -1, "a signed number" };
BootArg<double> ratio { "test-ratio", 0.5, "a ratio" };
BootArgList items { "test-item", "X", "repeated" };

struct Parsed {
    ParseOutcome outcome;
    std::string error;
};

Parsed parse(std::vector<std::string_view> words)
{
    for (auto* a = BootArgBase::first(); a; a = a->next())
        a->reset();
    InlineFormatBuffer<512> error;
    ParseOutcome outcome = parse_boot_arguments(words, error);
    return { outcome, std::string(error.view()) };
}

} // namespace

TEST(BootArgs, DefaultsWhenNotGiven)
{
    ASSERT_EQ(parse({}).outcome, ParseOutcome::ok);
    EXPECT_EQ(port.value(), 53);
    EXPECT_EQ(interval.value(), 2500ms);
    EXPECT_FALSE(verbose.value());
    EXPECT_FALSE(port.was_given());
}

TEST(BootArgs, EqualsAndSpaceForms)
{
    ASSERT_EQ(parse({ "--test-port=8053", "--test-name", "www", "--test-offset=-7", "--test-ratio=0.25" }).outcome, ParseOutcome::ok);
    EXPECT_EQ(port.value(), 8053);
    EXPECT_TRUE(port.was_given());
    EXPECT_EQ(name.value(), "www");
    EXPECT_EQ(offset.value(), -7);
    EXPECT_DOUBLE_EQ(ratio.value(), 0.25);
}

TEST(BootArgs, Durations)
{
    ASSERT_EQ(parse({ "--test-interval=0.1" }).outcome, ParseOutcome::ok);
    EXPECT_EQ(interval.value(), 100ms);
    ASSERT_EQ(parse({ "--test-interval=250ms" }).outcome, ParseOutcome::ok);
    EXPECT_EQ(interval.value(), 250ms);
    ASSERT_EQ(parse({ "--test-interval=2m" }).outcome, ParseOutcome::ok);
    EXPECT_EQ(interval.value(), 120s);
    auto bad = parse({ "--test-interval=3 parsecs" });
    EXPECT_EQ(bad.outcome, ParseOutcome::error);
    EXPECT_NE(bad.error.find("--test-interval"), std::string::npos);
}

TEST(BootArgs, Flags)
{
    ASSERT_EQ(parse({ "--test-verbose" }).outcome, ParseOutcome::ok);
    EXPECT_TRUE(verbose.value());
    ASSERT_EQ(parse({ "--test-verbose=false" }).outcome, ParseOutcome::ok);
    EXPECT_FALSE(verbose.value());
    ASSERT_EQ(parse({ "--test-verbose", "--no-test-verbose" }).outcome, ParseOutcome::ok);
    EXPECT_FALSE(verbose.value());
}

TEST(BootArgs, RepeatedKeysAreKept)
{
    ASSERT_EQ(parse({ "--test-item=a", "--test-item", "b" }).outcome, ParseOutcome::ok);
    ASSERT_EQ(items.values().size(), 2u);
    EXPECT_EQ(items.values()[0], "a");
    EXPECT_EQ(items.values()[1], "b");
}

TEST(BootArgs, WholeNumbersInDecimalAndHex)
{
    ASSERT_EQ(parse({ "--test-port=0x1f90" }).outcome, ParseOutcome::ok);
    EXPECT_EQ(port.value(), 8080);
    ASSERT_EQ(parse({ "--test-port=0XFFFF" }).outcome, ParseOutcome::ok);
    EXPECT_EQ(port.value(), 65535);
    ASSERT_EQ(parse({ "--test-port=0" }).outcome, ParseOutcome::ok);
    EXPECT_EQ(port.value(), 0);
    ASSERT_EQ(parse({ "--test-port=00053" }).outcome, ParseOutcome::ok);
    EXPECT_EQ(port.value(), 53);

    EXPECT_EQ(parse({ "--test-port=0x" }).error, "bad value for --test-port: '0x' is not a whole number");
    EXPECT_EQ(parse({ "--test-port=" }).error, "bad value for --test-port: '' is not a whole number");
    EXPECT_EQ(parse({ "--test-port=12a" }).error, "bad value for --test-port: '12a' is not a whole number");
    EXPECT_EQ(parse({ "--test-port=0x1g" }).error, "bad value for --test-port: '0x1g' is not a whole number");
    EXPECT_EQ(parse({ "--test-port=-1" }).error, "bad value for --test-port: '-1' is not a whole number");
    EXPECT_EQ(parse({ "--test-port=/" }).error, "bad value for --test-port: '/' is not a whole number");
    // Past 64 bits is out of range, not wrapped around.
    EXPECT_EQ(parse({ "--test-port=18446744073709551617" }).error, "bad value for --test-port: 18446744073709551617 is out of range (at most 65535)");
    EXPECT_EQ(parse({ "--test-port=0x10000000000000000" }).error, "bad value for --test-port: 0x10000000000000000 is out of range (at most 65535)");
}

TEST(BootArgs, NegatedFlagsAndPrefixes)
{
    ASSERT_EQ(parse({ "--test-verbose", "--no-test-verbose" }).outcome, ParseOutcome::ok);
    EXPECT_FALSE(verbose.value());
    EXPECT_EQ(parse({ "--no-test-port" }).error, "unknown boot argument '--no-test-port' (--help lists them)");
    EXPECT_EQ(parse({ "--no-" }).error, "unknown boot argument '--no-' (--help lists them)");
    EXPECT_EQ(parse({ "--test-por=1" }).error, "unknown boot argument '--test-por' (--help lists them)");
    EXPECT_EQ(parse({ "--test-portx=1" }).error, "unknown boot argument '--test-portx' (--help lists them)");
}

TEST(BootArgs, ErrorsNameTheKeyAndTheProblem)
{
    auto unknown = parse({ "--no-such-key=1" });
    EXPECT_EQ(unknown.outcome, ParseOutcome::error);
    EXPECT_EQ(unknown.error, "unknown boot argument '--no-such-key' (--help lists them)");

    auto range = parse({ "--test-port=70000" });
    EXPECT_EQ(range.outcome, ParseOutcome::error);
    EXPECT_EQ(range.error, "bad value for --test-port: 70000 is out of range (at most 65535)");

    auto not_number = parse({ "--test-port=http" });
    EXPECT_EQ(not_number.error, "bad value for --test-port: 'http' is not a whole number");

    auto missing = parse({ "--test-port" });
    EXPECT_EQ(missing.error, "--test-port needs a value: --test-port=N");

    auto positional = parse({ "stray" });
    EXPECT_EQ(positional.outcome, ParseOutcome::error);
    EXPECT_NE(positional.error.find("'stray'"), std::string::npos);

    EXPECT_EQ(parse({ "--test-port=1", "--help" }).outcome, ParseOutcome::help);
}

TEST(BootArgs, UsageListsEveryKeyWithDefaults)
{
    platform::sim::reset();
    print_boot_usage("img");
    const std::string& out = platform::sim::console_output();
    EXPECT_NE(out.find("usage: img [BOOT_ARGUMENTS]"), std::string::npos);
    EXPECT_NE(out.find("--test-port=N"), std::string::npos);
    EXPECT_NE(out.find("a port (default: 53)"), std::string::npos);
    EXPECT_NE(out.find("an interval (default: 2.5s)"), std::string::npos);
    EXPECT_NE(out.find("  --test-verbose "), std::string::npos);
}
