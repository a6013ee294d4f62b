// Every runtime test runs on the simulated platform from a clean state, and checks that it
// leaves no coroutine frame behind.
#pragma once

#include <sarab/platform/simulated.hpp>
#include <sarab/runtime/scheduler.hpp>
#include <sarab/runtime/task.hpp>

#include <gtest/gtest.h>

class RuntimeTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        sarab::platform::sim::reset();
        m_frames_before = sarab::detail::frame_stats().live();
    }
    void TearDown() override
    {
        EXPECT_EQ(sarab::detail::frame_stats().live(), m_frames_before) << "coroutine frames leaked";
    }

    // Virtual time since the test began.
    static sarab::Duration elapsed() { return sarab::platform::sim::now().time_since_epoch(); }

private:
    sarab::u64 m_frames_before = 0;
};
