#include "runtime_fixture.hpp"

#include <sarab/runtime/sync.hpp>
#include <sarab/runtime/when.hpp>

#include <vector>

using namespace sarab;
using namespace std::chrono_literals;

using SyncTest = RuntimeTest;

TEST_F(SyncTest, EventWakesEveryWaiterAndStaysSet)
{
    Event ready;
    int woke = 0;
    auto waiter = [&]() -> Task<void> {
        co_await ready.wait();
        ++woke;
    };
    Scheduler s;
    s.run([&]() -> Task<void> {
        std::vector<TaskHandle> waiters;
        for (int i = 0; i < 3; ++i)
            waiters.push_back(spawn(waiter()));
        co_await sleep_for(10ms);
        EXPECT_EQ(woke, 0);
        ready.set();
        for (auto& w : waiters)
            (void)co_await w.join();
        co_await ready.wait(); // already set: no wait
    }());
    EXPECT_EQ(woke, 3);
    EXPECT_EQ(elapsed(), 10ms);
}

TEST_F(SyncTest, NotifierWakesInFifoOrder)
{
    Notifier n;
    std::vector<int> order;
    auto waiter = [&](int i) -> Task<void> {
        co_await n.wait();
        order.push_back(i);
    };
    Scheduler s;
    s.run([&]() -> Task<void> {
        std::vector<TaskHandle> waiters;
        for (int i = 0; i < 3; ++i)
            waiters.push_back(spawn(waiter(i)));
        co_await yield_now();
        EXPECT_EQ(n.waiting(), 3u);
        n.notify_one();
        co_await yield_now();
        n.notify_all();
        for (auto& w : waiters)
            (void)co_await w.join();
    }());
    EXPECT_EQ(order, (std::vector<int> { 0, 1, 2 }));
}

TEST_F(SyncTest, ChannelCarriesValuesWithBackPressure)
{
    Channel<int> channel(2);
    std::vector<int> received;
    auto produce = [&]() -> Task<void> {
        for (int i = 0; i < 10; ++i) {
            auto sent = co_await channel.send(i);
            EXPECT_TRUE(sent);
            EXPECT_LE(channel.size(), 2u);
        }
        channel.close();
    };
    Scheduler s;
    s.run([&]() -> Task<void> {
        TaskHandle producer = spawn(produce());
        for (;;) {
            auto value = co_await channel.receive();
            if (!value)
                break;
            received.push_back(*value);
            co_await sleep_for(1ms); // a slow consumer: the producer must wait for room
        }
        (void)co_await producer.join();
    }());
    EXPECT_EQ(received, (std::vector<int> { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }));
    EXPECT_EQ(channel.try_send(1).error(), ChannelError::closed);
}

TEST_F(SyncTest, TrySendOnAFullChannel)
{
    Channel<int> channel(1);
    EXPECT_TRUE(channel.try_send(1));
    EXPECT_EQ(channel.try_send(2).error(), ChannelError::full);
    EXPECT_EQ(channel.try_receive(), 1);
    EXPECT_EQ(channel.try_receive(), std::nullopt);
}

TEST_F(SyncTest, ADeadlockIsReportedNotHung)
{
    EXPECT_DEATH(
        {
            Event never_set;
            Scheduler s;
            s.run([&]() -> Task<void> { co_await never_set.wait(); }());
        },
        "deadlock");
}
