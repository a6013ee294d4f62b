// Resuming and suspending coroutines: the raw cost of a Task frame's resume+suspend, of
// awaiting a child task, and of a switch through the scheduler's ready queue.
#include <sarab/runtime/scheduler.hpp>
#include <sarab/runtime/sync.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <vector>

using namespace sarab;

namespace {

// Min and max over --benchmark_repetitions, next to the mean, median and stddev.
[[maybe_unused]] void spread(benchmark::internal::Benchmark* b)
{
    b->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
    b->ComputeStatistics("max", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); });
}

// Suspends, and nothing else: whoever holds the handle resumes it.
struct Park {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept { }
    void await_resume() const noexcept { }
};

Task<void> parked_loop(u64& count)
{
    for (;;) {
        co_await Park {};
        ++count;
    }
}

// One iteration: the benchmark loop resumes a Task frame, which runs to its next co_await and
// suspends back to the loop. No scheduler: the floor under every other figure here.
void BM_ResumeSuspend_Direct(benchmark::State& state)
{
    u64 count = 0;
    Task<void> task = parked_loop(count);
    auto handle = task.handle();
    handle.resume(); // to the first co_await
    for (auto _ : state)
        handle.resume();
    benchmark::DoNotOptimize(count);
    if (count != u64(state.iterations()))
        state.SkipWithError("lost resumptions");
}
BENCHMARK(BM_ResumeSuspend_Direct)->Apply(spread);

// Frames that are never inlined away, as in real code.
[[gnu::noinline]] Task<int> leaf(int x) { co_return x + 1; }

Task<void> await_child_driver(benchmark::State& state)
{
    int sum = 0;
    for (auto _ : state)
        sum += co_await leaf(sum);
    benchmark::DoNotOptimize(sum);
}

// One iteration: `co_await leaf()` of a child Task<int> that returns at once: frame from the
// frame allocator, symmetric transfer in and out, result, frame freed. No scheduler turn.
void BM_AwaitChildTask(benchmark::State& state)
{
    Scheduler scheduler;
    scheduler.run(await_child_driver(state));
}
BENCHMARK(BM_AwaitChildTask)->Apply(spread);

Task<void> yield_driver(benchmark::State& state)
{
    for (auto _ : state)
        co_await yield_now();
}

// One iteration: one task's co_await yield_now(): to the back of the ready queue, one turn of
// the scheduler loop (Scheduler::run_once, which reads the clock and scans the device
// waiters), resumed.
void BM_Yield_OneTask(benchmark::State& state)
{
    Scheduler scheduler;
    scheduler.run(yield_driver(state));
}
BENCHMARK(BM_Yield_OneTask)->Apply(spread);

Task<void> yield_partner(const bool& stop)
{
    while (!stop)
        co_await yield_now();
}

Task<void> yield_pingpong_driver(benchmark::State& state)
{
    bool stop = false;
    TaskHandle partner = spawn(yield_partner(stop));
    co_await yield_now(); // the partner starts
    for (auto _ : state)
        co_await yield_now();
    stop = true;
    (void)co_await partner.join();
}

// One iteration: two tasks each do one co_await yield_now() (two resume+suspend pairs through
// the ready queue) in one turn of the scheduler loop.
void BM_Yield_PingPong(benchmark::State& state)
{
    Scheduler scheduler;
    scheduler.run(yield_pingpong_driver(state));
}
BENCHMARK(BM_Yield_PingPong)->Apply(spread);

struct Court {
    Notifier to_a;
    Notifier to_b;
    bool b_turn = false;
    bool stop = false;
};

Task<void> notify_partner(Court& court)
{
    for (;;) {
        while (!court.b_turn && !court.stop)
            co_await court.to_b.wait();
        if (court.stop)
            co_return;
        court.b_turn = false;
        court.to_a.notify_one();
    }
}

Task<void> notify_pingpong_driver(benchmark::State& state)
{
    Court court;
    TaskHandle partner = spawn(notify_partner(court));
    co_await yield_now(); // the partner starts and waits
    for (auto _ : state) {
        court.b_turn = true;
        court.to_b.notify_one();
        while (court.b_turn)
            co_await court.to_a.wait();
    }
    court.stop = true;
    court.to_b.notify_one();
    (void)co_await partner.join();
}

// One iteration: a round trip A -> B -> A through two Notifiers: two wake-ups, two
// resume+suspend pairs, two turns of the scheduler loop.
void BM_Notify_PingPong(benchmark::State& state)
{
    Scheduler scheduler;
    scheduler.run(notify_pingpong_driver(state));
}
BENCHMARK(BM_Notify_PingPong)->Apply(spread);

// For reference: one read of the monotonic clock, which every turn of the loop does.
void BM_MonotonicClockNow(benchmark::State& state)
{
    for (auto _ : state)
        benchmark::DoNotOptimize(MonotonicClock::now());
}
BENCHMARK(BM_MonotonicClockNow)->Apply(spread);

} // namespace
