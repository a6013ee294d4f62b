#include "runtime_fixture.hpp"

#include <sarab/runtime/sync.hpp>

#include <string>
#include <vector>

using namespace sarab;
using namespace std::chrono_literals;

using TimerTest = RuntimeTest;

TEST_F(TimerTest, SleepsTakeVirtualTimeOnly)
{
    Scheduler s;
    s.run([]() -> Task<void> {
        co_await sleep_for(90s);
    }());
    EXPECT_EQ(elapsed(), 90s);
}

TEST_F(TimerTest, FireInDeadlineOrderAndFifoOnTies)
{
    std::vector<std::string> fired;
    auto sleeper = [&](std::string name, Duration d) -> Task<void> {
        co_await sleep_for(d);
        fired.push_back(name + "@" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed()).count()));
    };
    Scheduler s;
    s.run([&]() -> Task<void> {
        std::vector<TaskHandle> handles;
        handles.push_back(spawn(sleeper("c", 30ms)));
        handles.push_back(spawn(sleeper("a", 10ms)));
        handles.push_back(spawn(sleeper("b1", 20ms)));
        handles.push_back(spawn(sleeper("b2", 20ms)));
        for (auto& h : handles)
            (void)co_await h.join();
    }());
    EXPECT_EQ(fired, (std::vector<std::string> { "a@10", "b1@20", "b2@20", "c@30" }));
}

TEST_F(TimerTest, SleepUntilAPastDeadlineYields)
{
    std::vector<int> order;
    // Coroutine lambdas that are spawned must outlive their tasks: name them out here.
    auto second = [&]() -> Task<void> {
        order.push_back(2);
        co_return;
    };
    Scheduler s;
    s.run([&]() -> Task<void> {
        auto other = spawn(second());
        order.push_back(1);
        co_await sleep_until(MonotonicClock::now() - 1s);
        order.push_back(3);
        (void)co_await other.join();
    }());
    EXPECT_EQ(order, (std::vector<int> { 1, 2, 3 }));
    EXPECT_EQ(elapsed(), 0s);
}

TEST_F(TimerTest, ManyTimersAllFire)
{
    int fired = 0;
    auto sleeper = [&](int ms) -> Task<void> {
        co_await sleep_for(std::chrono::milliseconds(ms));
        ++fired;
    };
    Scheduler s;
    s.run([&]() -> Task<void> {
        std::vector<TaskHandle> handles;
        for (int i = 0; i < 2000; ++i)
            handles.push_back(spawn(sleeper((i * 7919) % 1000)));
        for (auto& h : handles)
            (void)co_await h.join();
    }());
    EXPECT_EQ(fired, 2000);
    EXPECT_EQ(elapsed(), 999ms);
    EXPECT_EQ(s.stats().pending_timers, 0u);
}

TEST_F(TimerTest, TheLoopYieldsOncePerDeadlineNotPerTask)
{
    // No busy waiting: with nothing ready, each turn of the loop sleeps in the platform until
    // the next deadline.
    Scheduler s;
    s.run([]() -> Task<void> {
        for (int i = 0; i < 10; ++i)
            co_await sleep_for(1s);
    }());
    EXPECT_EQ(elapsed(), 10s);
    EXPECT_LE(s.stats().yields, 11u);
}
