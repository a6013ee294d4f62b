// sarab_runtime_bench: Google Benchmark's main, on the hosted platform.
#include <sarab/platform/hosted.hpp>

#include <benchmark/benchmark.h>

int main(int argc, char** argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    // What Google Benchmark left of argv are the image's own arguments (none are used here).
    sarab::platform::hosted::init(argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
