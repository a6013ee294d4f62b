#include "runtime_fixture.hpp"

#include <sarab/runtime/sync.hpp>
#include <sarab/runtime/when.hpp>

#include <memory>
#include <string>
#include <vector>

using namespace sarab;
using namespace std::chrono_literals;

using TaskTest = RuntimeTest;

static Task<int> add(int a, int b)
{
    co_return a + b;
}

static Task<int> nested(int depth)
{
    if (depth == 0)
        co_return 0;
    co_return 1 + co_await nested(depth - 1);
}

TEST_F(TaskTest, ReturnsValuesThroughAwait)
{
    Scheduler s;
    EXPECT_EQ(s.run(add(2, 3)), 5);
    EXPECT_EQ(s.run(nested(50)), 50);
}

TEST_F(TaskTest, IsLazy)
{
    bool started = false;
    auto body = [&]() -> Task<void> {
        started = true;
        co_return;
    };
    Scheduler s;
    Task<void> t = body();
    EXPECT_FALSE(started);
    s.run(std::move(t));
    EXPECT_TRUE(started);
}

TEST_F(TaskTest, DeepChainsDoNotGrowTheStack)
{
    // Symmetric transfer: a chain 100,000 deep would overflow the stack otherwise.
    Scheduler s;
    EXPECT_EQ(s.run(nested(100'000)), 100'000);
}

enum class E : u8 { odd };
static Task<ErrorOr<int, E>> half(int n)
{
    if (n % 2)
        co_return failure(E::odd);
    co_return n / 2;
}
static Task<ErrorOr<int, E>> quarter(int n)
{
    CO_TRY_ASSIGN(int h, co_await half(n));
    CO_TRY_ASSIGN(int q, co_await half(h));
    co_return q;
}

TEST_F(TaskTest, ErrorsAreValues)
{
    Scheduler s;
    EXPECT_EQ(s.run(quarter(12)).value(), 3);
    EXPECT_EQ(s.run(quarter(6)).error(), E::odd);
}

TEST_F(TaskTest, MoveOnlyResults)
{
    auto make = []() -> Task<std::unique_ptr<std::string>> { co_return std::make_unique<std::string>("frame"); };
    Scheduler s;
    EXPECT_EQ(*s.run(make()), "frame");
}

TEST_F(TaskTest, SpawnedTasksRunInOrder)
{
    std::vector<int> order;
    auto worker = [&](int id, int steps) -> Task<void> {
        for (int i = 0; i < steps; ++i) {
            order.push_back(id * 10 + i);
            co_await yield_now();
        }
    };
    auto main_task = [&]() -> Task<void> {
        TaskHandle a = spawn(worker(1, 3));
        TaskHandle b = spawn(worker(2, 2));
        (void)co_await a.join();
        (void)co_await b.join();
    };
    Scheduler s;
    s.run(main_task());
    EXPECT_EQ(order, (std::vector<int> { 10, 20, 11, 21, 12 }));
}

TEST_F(TaskTest, UnfinishedSpawnedTasksAreCancelledWithTheScheduler)
{
    int destroyed = 0;
    struct Guard {
        int* count;
        ~Guard() { ++*count; }
    };
    auto sleeper = [&]() -> Task<void> {
        Guard g { &destroyed };
        co_await sleep_for(1h);
    };
    {
        Scheduler s;
        s.run([&]() -> Task<void> {
            for (int i = 0; i < 3; ++i)
                spawn(sleeper());
            co_await sleep_for(1ms);
        }());
        EXPECT_EQ(s.stats().live_tasks, 3u);
    }
    EXPECT_EQ(destroyed, 3);
}
