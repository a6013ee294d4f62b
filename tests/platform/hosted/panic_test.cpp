// A broken invariant on hosted: the message, where it broke, and a backtrace with names.
#include <sarab/base/verify.hpp>

#include <gtest/gtest.h>

// Not static, and not inlined, so that it has a symbol of its own in the backtrace.
[[gnu::noinline]] void sarab_test_broken_invariant(int value)
{
    VERIFY(value == 42, "the answer must be 42");
}

TEST(HostedPanicDeathTest, PrintsMessageLocationAndBacktrace)
{
    EXPECT_DEATH(sarab_test_broken_invariant(41),
        "PANIC at .*panic_test.cpp:[0-9]+: VERIFY\\(value == 42\\) failed: the answer must be 42\n"
        "backtrace:\n(.*\n)*  sarab_test_broken_invariant\\(int\\) at .*panic_test.cpp:9");
}
