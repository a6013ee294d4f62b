#include "runtime_fixture.hpp"

#include <sarab/runtime/sync.hpp>
#include <sarab/runtime/when.hpp>

#include <vector>

using namespace sarab;
using namespace std::chrono_literals;

using CancelTest = RuntimeTest;

namespace {
struct Guard {
    int* count;
    ~Guard() { ++*count; }
};
} // namespace

TEST_F(CancelTest, ASleepingTaskIsCancelledAndItsTimerRemoved)
{
    int cleaned = 0;
    bool finished = false;
    // Coroutine lambdas that are spawned must outlive their tasks: name them out here.
    auto sleeper = [&]() -> Task<void> {
        Guard g { &cleaned };
        co_await sleep_for(1h);
        finished = true;
    };
    Scheduler s;
    s.run([&]() -> Task<void> {
        TaskHandle h = spawn(sleeper());
        co_await sleep_for(1s);
        EXPECT_EQ(Scheduler::current().stats().pending_timers, 1u);
        h.cancel();
        EXPECT_TRUE(h.is_done());
        EXPECT_TRUE(h.was_cancelled());
        EXPECT_EQ(Scheduler::current().stats().pending_timers, 0u);
        auto joined = co_await h.join();
        EXPECT_FALSE(joined);
        EXPECT_EQ(joined.error(), Errc::cancelled);
    }());
    EXPECT_EQ(cleaned, 1);
    EXPECT_FALSE(finished);
    EXPECT_EQ(elapsed(), 1s); // the hour-long timer did not hold the loop
}

TEST_F(CancelTest, ATaskWaitingOnAnEventOrChannelIsCancelled)
{
    int cleaned = 0;
    Event event;
    Channel<int> channel(4);
    auto on_event = [&]() -> Task<void> {
        Guard g { &cleaned };
        co_await event.wait();
    };
    auto on_channel = [&]() -> Task<void> {
        Guard g { &cleaned };
        (void)co_await channel.receive();
    };
    Scheduler s;
    s.run([&]() -> Task<void> {
        TaskHandle a = spawn(on_event());
        TaskHandle b = spawn(on_channel());
        co_await yield_now();
        a.cancel();
        b.cancel();
        // Nobody is left waiting: these wake no one and crash nothing.
        event.set();
        EXPECT_TRUE(channel.try_send(1));
        co_return;
    }());
    EXPECT_EQ(cleaned, 2);
}

TEST_F(CancelTest, CancellingBeforeTheFirstRun)
{
    bool ran = false;
    auto body = [&]() -> Task<void> {
        ran = true;
        co_return;
    };
    Scheduler s;
    s.run([&]() -> Task<void> {
        TaskHandle h = spawn(body());
        h.cancel();
        co_await yield_now();
    }());
    EXPECT_FALSE(ran);
}

TEST_F(CancelTest, CancelAfterCompletionDoesNothing)
{
    auto nothing = []() -> Task<void> { co_return; };
    Scheduler s;
    s.run([&]() -> Task<void> {
        TaskHandle h = spawn(nothing());
        EXPECT_TRUE(co_await h.join());
        h.cancel();
        EXPECT_FALSE(h.was_cancelled());
    }());
}

TEST_F(CancelTest, CancellationReachesNestedAwaits)
{
    int cleaned = 0;
    auto inner = [&]() -> Task<int> {
        Guard g { &cleaned };
        co_await sleep_for(1h);
        co_return 1;
    };
    auto middle = [&]() -> Task<int> {
        Guard g { &cleaned };
        co_return co_await inner() + 1;
    };
    auto outer = [&]() -> Task<void> {
        Guard g { &cleaned };
        (void)co_await middle();
    };
    Scheduler s;
    s.run([&]() -> Task<void> {
        TaskHandle h = spawn(outer());
        co_await sleep_for(1ms);
        h.cancel();
    }());
    EXPECT_EQ(cleaned, 3);
}

TEST_F(CancelTest, JoinersOfACancelledTaskWake)
{
    int woke = 0;
    auto joiner = [&](TaskHandle target) -> Task<void> {
        auto r = co_await target.join();
        if (!r && r.error() == Errc::cancelled)
            ++woke;
    };
    Scheduler s;
    s.run([&]() -> Task<void> {
        TaskHandle target = spawn(detail::sleep_task(1h));
        std::vector<TaskHandle> joiners;
        for (int i = 0; i < 3; ++i)
            joiners.push_back(spawn(joiner(target)));
        co_await sleep_for(1s);
        TaskHandle copy = target;
        copy.cancel();
        for (auto& j : joiners)
            (void)co_await j.join();
    }());
    EXPECT_EQ(woke, 3);
}

TEST_F(CancelTest, ATaskCannotCancelItself)
{
    EXPECT_DEATH(
        {
            TaskHandle self;
            auto suicidal = [&]() -> Task<void> {
                co_await yield_now();
                self.cancel();
            };
            Scheduler s;
            s.run([&]() -> Task<void> {
                self = spawn(suicidal());
                co_await sleep_for(1s);
            }());
        },
        "a task cannot cancel itself");
}
