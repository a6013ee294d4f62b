// Spawning tasks: Scheduler::spawn of an empty Task<void>, run to completion.
#include <sarab/runtime/scheduler.hpp>

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

Task<void> empty_task() { co_return; }

constexpr u32 spawn_batch = 256;

Task<void> spawn_batched_driver(benchmark::State& state)
{
    u32 pending = 0;
    for (auto _ : state) {
        spawn(empty_task());
        if (++pending == spawn_batch) {
            pending = 0;
            co_await yield_now(); // the batch runs (and ends) before we are resumed
        }
    }
    co_await yield_now();
    if (Scheduler::current().stats().live_tasks != 1)
        state.SkipWithError("spawned tasks still alive");
}

// One iteration: one task spawned (frame from the frame allocator, TaskRoot from the heap,
// into the ready queue), later resumed, finished and freed. A turn of the loop per 256 tasks.
void BM_Spawn_Batched(benchmark::State& state)
{
    Scheduler scheduler;
    scheduler.run(spawn_batched_driver(state));
}
BENCHMARK(BM_Spawn_Batched)->Apply(spread);

Task<void> spawn_join_driver(benchmark::State& state)
{
    for (auto _ : state) {
        TaskHandle h = spawn(empty_task());
        auto joined = co_await h.join();
        if (!joined)
            state.SkipWithError("join failed");
    }
}

// One iteration: spawn one task and wait for it with TaskHandle::join: the latency of a
// spawn, including the scheduler turns it takes (two: the child runs, then the joiner).
void BM_Spawn_Join(benchmark::State& state)
{
    Scheduler scheduler;
    scheduler.run(spawn_join_driver(state));
}
BENCHMARK(BM_Spawn_Join)->Apply(spread);

} // namespace
