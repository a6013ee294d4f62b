// when_all of two trivial tasks.
#include <sarab/runtime/when.hpp>

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

[[gnu::noinline]] Task<int> trivial(int x) { co_return x; }

Task<void> when_all_driver(benchmark::State& state)
{
    int sum = 0;
    for (auto _ : state) {
        auto [a, b] = co_await when_all(trivial(1), trivial(2));
        sum += a + b;
    }
    benchmark::DoNotOptimize(sum);
}

// One iteration: co_await when_all(trivial(1), trivial(2)): two task frames and two branch
// frames, both branches started through the ready queue, the parent woken when both are
// done: two turns of the scheduler loop.
void BM_WhenAll2(benchmark::State& state)
{
    Scheduler scheduler;
    scheduler.run(when_all_driver(state));
}
BENCHMARK(BM_WhenAll2)->Apply(spread);

} // namespace
