#include <sarab/base/log.hpp>
#include <sarab/platform/simulated.hpp>

#include <gtest/gtest.h>

using namespace sarab;

namespace {
log::Source net_log { "test-net" };
log::Source tcp_log { "test-tcp" };
} // namespace

class Log : public ::testing::Test {
protected:
    void SetUp() override
    {
        platform::sim::reset();
        InlineFormatBuffer<128> error;
        ASSERT_TRUE(log::configure("info", error));
    }
};

TEST_F(Log, LinesCarryTimeLevelAndSource)
{
    log::info(net_log, "link up, mtu {}", 1500);
    EXPECT_EQ(platform::sim::console_output(), "[    0.000000] info  test-net: link up, mtu 1500\n");
}

TEST_F(Log, LevelsFilter)
{
    log::debug(net_log, "hidden");
    log::warn(net_log, "shown");
    EXPECT_EQ(platform::sim::console_output().find("hidden"), std::string::npos);
    EXPECT_NE(platform::sim::console_output().find("shown"), std::string::npos);
}

TEST_F(Log, PerSourceLevels)
{
    InlineFormatBuffer<128> error;
    ASSERT_TRUE(log::configure("warn,test-tcp:debug", error)) << error.view();
    log::info(net_log, "net-info");
    log::debug(tcp_log, "tcp-debug");
    EXPECT_EQ(platform::sim::console_output().find("net-info"), std::string::npos);
    EXPECT_NE(platform::sim::console_output().find("tcp-debug"), std::string::npos);
}

TEST_F(Log, BadSpecificationsAreRejectedWhole)
{
    InlineFormatBuffer<512> error;
    EXPECT_FALSE(log::configure("debug,test-tcp:loud", error));
    EXPECT_NE(error.view().find("unknown log level 'loud'"), std::string_view::npos);
    error.clear();
    EXPECT_FALSE(log::configure("nosuch:debug", error));
    EXPECT_NE(error.view().find("unknown log source 'nosuch'"), std::string_view::npos);
    // Nothing changed.
    EXPECT_EQ(net_log.level(), log::Level::info);
}
