#include <sarab/base/error.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

using namespace sarab;

enum class DigitError : unsigned char { empty, bad_digit };

static ErrorOr<int, DigitError> parse_digit(std::string_view s)
{
    if (s.empty())
        return failure(DigitError::empty);
    if (s[0] < '0' || s[0] > '9')
        return failure(DigitError::bad_digit);
    return s[0] - '0';
}

static ErrorOr<int, DigitError> sum_of_two(std::string_view a, std::string_view b)
{
    int x = TRY(parse_digit(a));
    int y = TRY(parse_digit(b));
    return x + y;
}

TEST(ErrorOr, ValueAndError)
{
    auto ok = parse_digit("7");
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, 7);
    auto bad = parse_digit("x");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), DigitError::bad_digit);
}

TEST(ErrorOr, TryPropagatesTheFirstError)
{
    EXPECT_EQ(sum_of_two("3", "4").value(), 7);
    EXPECT_EQ(sum_of_two("", "4").error(), DigitError::empty);
    EXPECT_EQ(sum_of_two("3", "?").error(), DigitError::bad_digit);
}

TEST(ErrorOr, HoldsMoveOnlyValuesAndDestroysThem)
{
    auto counter = std::make_shared<int>(0);
    {
        ErrorOr<std::shared_ptr<int>> holder(counter);
        EXPECT_EQ(counter.use_count(), 2);
        ErrorOr<std::shared_ptr<int>> moved(std::move(holder));
        EXPECT_EQ(counter.use_count(), 2);
        auto released = moved.release_value();
        EXPECT_EQ(counter.use_count(), 2); // moved out, not copied
    }
    EXPECT_EQ(counter.use_count(), 1);
    ErrorOr<std::unique_ptr<int>> unique(std::make_unique<int>(5));
    EXPECT_EQ(*unique.release_value(), 5);
}

TEST(ErrorOr, Void)
{
    ErrorOr<void, DigitError> fine;
    EXPECT_TRUE(fine);
    ErrorOr<void, DigitError> failed = failure(DigitError::empty);
    EXPECT_FALSE(failed);
    EXPECT_EQ(failed.error(), DigitError::empty);
    EXPECT_STREQ(error_name(Errc::timed_out), "timed out");
}

TEST(ErrorOrDeathTest, ValueOfAnErrorPanics)
{
    auto bad = parse_digit("");
    EXPECT_DEATH((void)bad.value(), "value\\(\\) of an ErrorOr that holds an error");
}
