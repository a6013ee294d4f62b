// Timers: inserting into the scheduler's timer heap and firing, or cancelling.
//
// "Raw" benchmarks put bare Waiter nodes into the heap (as an awaiter does) and resume one
// counting coroutine per timer: the cost of the heap, the ready queue and a resumption,
// without a task per timer. The others go through tasks and the public API.
#include <sarab/runtime/scheduler.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <vector>

using namespace sarab;
using namespace std::chrono_literals;

namespace {

// Min and max over --benchmark_repetitions, next to the mean, median and stddev.
[[maybe_unused]] void spread(benchmark::internal::Benchmark* b)
{
    b->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
    b->ComputeStatistics("max", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); });
}

// A coroutine that counts its resumptions and suspends again, for ever.
struct Counter {
    struct promise_type {
        Counter get_return_object() { return { std::coroutine_handle<promise_type>::from_promise(*this) }; }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        void return_void() { }
        void unhandled_exception() { }
    };
    std::coroutine_handle<promise_type> handle;
    Counter(std::coroutine_handle<promise_type> h)
        : handle(h)
    {
    }
    Counter(const Counter&) = delete;
    ~Counter() { handle.destroy(); }
};

// Resume it once before use, to reach the loop: each resumption from then on counts.
Counter count_resumptions(u64& count)
{
    for (;;) {
        co_await std::suspend_always {};
        ++count;
    }
}

// xorshift64: deadlines in no particular order, as timers of many connections are.
struct Rng {
    u64 state = 0x9e3779b97f4a7c15u;
    u64 operator()()
    {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
};

Task<void> raw_fire_driver(benchmark::State& state, usize k)
{
    Scheduler& scheduler = Scheduler::current();
    std::unique_ptr<detail::Waiter[]> waiters(new detail::Waiter[k]);
    u64 fired = 0;
    Counter counter = count_resumptions(fired);
    counter.handle.resume();
    Rng rng;
    u64 horizon = u64(MonotonicClock::now().time_since_epoch().count()); // every deadline has passed
    usize n = 0;
    Instant latest {};
    for (auto _ : state) {
        Instant deadline = Instant(Duration(1 + i64(rng() % horizon)));
        waiters[n].handle = counter.handle;
        waiters[n].timer.deadline_ns = deadline.time_since_epoch().count();
        scheduler.add_timer(waiters[n]);
        latest = std::max(latest, deadline);
        if (++n == k) {
            // Equal deadlines fire in the order set: this one fires after the batch.
            co_await sleep_until(latest);
            n = 0;
            latest = {};
        }
    }
    if (n > 0)
        co_await sleep_until(latest);
    if (fired != u64(state.iterations()))
        state.SkipWithError("timers lost");
}

// One iteration: one timer with a deadline already passed inserted into a heap that grows to
// K, then (K at a time) fired into the ready queue and its coroutine resumed.
void BM_TimerRaw_InsertFire(benchmark::State& state)
{
    Scheduler scheduler;
    scheduler.run(raw_fire_driver(state, usize(state.range(0))));
}
BENCHMARK(BM_TimerRaw_InsertFire)->Apply(spread)->Arg(1024)->Arg(65536);

Task<void> raw_cancel_driver(benchmark::State& state, usize k)
{
    Scheduler& scheduler = Scheduler::current();
    std::unique_ptr<detail::Waiter[]> waiters(new detail::Waiter[k]);
    u64 fired = 0;
    Counter counter = count_resumptions(fired);
    counter.handle.resume();
    Rng rng;
    Instant base = MonotonicClock::now() + 1h;
    usize n = 0;
    for (auto _ : state) {
        waiters[n].handle = counter.handle;
        waiters[n].timer.deadline_ns = (base + Duration(i64(rng() % 3'600'000'000'000u))).time_since_epoch().count();
        scheduler.add_timer(waiters[n]);
        if (++n == k) {
            for (usize i = 0; i < k; ++i)
                waiters[i].detach();
            n = 0;
        }
    }
    for (usize i = 0; i < n; ++i)
        waiters[i].detach();
    if (fired != 0 || scheduler.stats().pending_timers != 0)
        state.SkipWithError("timers left");
    co_return;
}

// One iteration: one timer an hour or two ahead inserted into a heap that grows to K, then
// (K at a time, in the order inserted) removed by its Waiter, as a destroyed awaiter does.
void BM_TimerRaw_InsertCancel(benchmark::State& state)
{
    Scheduler scheduler;
    scheduler.run(raw_cancel_driver(state, usize(state.range(0))));
}
BENCHMARK(BM_TimerRaw_InsertCancel)->Apply(spread)->Arg(1024)->Arg(65536);

Task<void> sleep_past_driver(benchmark::State& state)
{
    for (auto _ : state)
        co_await sleep_until(Instant(1ns));
}

// One iteration: one task's co_await sleep_until(a deadline already passed): into the timer
// heap, fired at the next turn of the loop, resumed. Compare with BM_Yield_OneTask.
void BM_Timer_SleepUntilPast(benchmark::State& state)
{
    Scheduler scheduler;
    scheduler.run(sleep_past_driver(state));
}
BENCHMARK(BM_Timer_SleepUntilPast)->Apply(spread);

Task<void> sleep_long() { co_await sleep_for(1h); }

Task<void> task_cancel_driver(benchmark::State& state, usize k)
{
    std::vector<TaskHandle> handles;
    handles.reserve(k);
    auto cancel_all = [&] {
        for (TaskHandle& h : handles)
            h.cancel();
        handles.clear();
    };
    for (auto _ : state) {
        handles.push_back(spawn(sleep_long()));
        if (handles.size() == k) {
            co_await yield_now(); // they all start and go to sleep
            cancel_all();
        }
    }
    co_await yield_now();
    cancel_all();
    if (Scheduler::current().stats().pending_timers != 0)
        state.SkipWithError("timers left");
}

// One iteration: spawn a task that does co_await sleep_for(1h), let it run into the timer
// heap (which grows to K), then cancel it with TaskHandle::cancel (frame destroyed, timer
// removed). Subtract BM_Spawn_Batched for the timer's share.
void BM_Timer_TaskSleepCancel(benchmark::State& state)
{
    Scheduler scheduler;
    scheduler.run(task_cancel_driver(state, usize(state.range(0))));
}
BENCHMARK(BM_Timer_TaskSleepCancel)->Apply(spread)->Arg(1024);

} // namespace
