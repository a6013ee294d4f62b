#include "runtime_fixture.hpp"

#include <sarab/runtime/sync.hpp>
#include <sarab/runtime/when.hpp>

#include <string>
#include <vector>

using namespace sarab;
using namespace std::chrono_literals;

using WhenTest = RuntimeTest;

static Task<int> after(Duration d, int value)
{
    co_await sleep_for(d);
    co_return value;
}

static Task<void> pause(Duration d)
{
    co_await sleep_for(d);
}

TEST_F(WhenTest, AllRunsConcurrentlyAndKeepsOrder)
{
    Scheduler s;
    auto [a, b, c] = s.run([]() -> Task<std::tuple<int, int, Void>> {
        co_return co_await when_all(after(30ms, 1), after(10ms, 2), pause(20ms));
    }());
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 2);
    EXPECT_EQ(c, Void {});
    EXPECT_EQ(elapsed(), 30ms); // side by side, not one after the other
}

TEST_F(WhenTest, AllOfAVector)
{
    Scheduler s;
    auto values = s.run([]() -> Task<std::vector<int>> {
        std::vector<Task<int>> tasks;
        for (int i = 0; i < 5; ++i)
            tasks.push_back(after(std::chrono::milliseconds(50 - i * 10), i));
        co_return co_await when_all(std::move(tasks));
    }());
    EXPECT_EQ(values, (std::vector<int> { 0, 1, 2, 3, 4 }));
    EXPECT_EQ(elapsed(), 50ms);
}

TEST_F(WhenTest, AnyTakesTheFirstAndCancelsTheRest)
{
    int slow_finished = 0;
    auto slow = [&]() -> Task<int> {
        co_await sleep_for(1h);
        ++slow_finished;
        co_return 0;
    };
    Scheduler s;
    auto winner = s.run([&]() -> Task<std::variant<int, int>> {
        co_return co_await when_any(slow(), after(5ms, 7));
    }());
    EXPECT_EQ(winner.index(), 1u);
    EXPECT_EQ(std::get<1>(winner), 7);
    EXPECT_EQ(elapsed(), 5ms);
    EXPECT_EQ(slow_finished, 0);
    EXPECT_EQ(s.stats().pending_timers, 0u);
}

TEST_F(WhenTest, AnyOfAVector)
{
    Scheduler s;
    auto [index, value] = s.run([]() -> Task<std::pair<usize, int>> {
        std::vector<Task<int>> tasks;
        tasks.push_back(after(30ms, 30));
        tasks.push_back(after(10ms, 10));
        tasks.push_back(after(20ms, 20));
        co_return co_await when_any(std::move(tasks));
    }());
    EXPECT_EQ(index, 1u);
    EXPECT_EQ(value, 10);
}

TEST_F(WhenTest, TimeoutExpires)
{
    Scheduler s;
    auto r = s.run(with_timeout(100ms, after(1h, 1)));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), Errc::timed_out);
    EXPECT_EQ(elapsed(), 100ms);
}

TEST_F(WhenTest, TimeoutNotReached)
{
    Scheduler s;
    auto r = s.run(with_timeout(1s, after(10ms, 42)));
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value(), 42);
    auto v = s.run(with_timeout(1s, pause(5ms)));
    EXPECT_TRUE(v);
}

TEST_F(WhenTest, CancellingTheWaiterCancelsItsBranches)
{
    int cleaned = 0;
    struct Guard {
        int* count;
        ~Guard() { ++*count; }
    };
    auto guarded = [&]() -> Task<void> {
        Guard g { &cleaned };
        co_await sleep_for(1h);
    };
    auto both = [&]() -> Task<void> {
        (void)co_await when_all(guarded(), guarded());
    };
    Scheduler s;
    s.run([&]() -> Task<void> {
        TaskHandle h = spawn(both());
        co_await sleep_for(1s);
        h.cancel();
    }());
    EXPECT_EQ(cleaned, 2);
    EXPECT_EQ(s.stats().pending_timers, 0u);
}
