// sarab_sleepers_bench [N [MARGIN_MS]]: the memory a sleeping task costs, and the time to fire
// the timers of N sleeping tasks at once.
//
// A driver task spawns N tasks (1,000,000 unless told) that each co_await sleep_until(D), lets
// them all run into the timer heap, and reads VmRSS/VmHWM from /proc/self/status before and
// after. D is MARGIN_MS after the start (default: 1 s + 2 us per task), far enough ahead that
// all N are asleep well before it; then everyone, the driver last, wakes at D and the program
// reports how long firing and running them took. It ends by itself.
#include <sarab/platform/hosted.hpp>
#include <sarab/runtime/scheduler.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace sarab;
using namespace std::chrono_literals;

namespace {

struct Memory {
    u64 rss_kib = 0;
    u64 hwm_kib = 0;
};

Memory read_memory()
{
    Memory m;
    FILE* f = std::fopen("/proc/self/status", "r");
    if (!f)
        return m;
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
        if (std::strncmp(line, "VmRSS:", 6) == 0)
            m.rss_kib = std::strtoull(line + 6, nullptr, 10);
        else if (std::strncmp(line, "VmHWM:", 6) == 0)
            m.hwm_kib = std::strtoull(line + 6, nullptr, 10);
    }
    std::fclose(f);
    return m;
}

double ms(Duration d) { return double(d.count()) / 1e6; }
double mib(u64 kib) { return double(kib) / 1024.0; }

struct Run {
    usize n = 0;
    Instant deadline {};
    usize woken = 0;
    Instant first_woken {};
};
Run g_run;

Task<void> sleeper()
{
    co_await sleep_until(g_run.deadline);
    if (g_run.woken++ == 0)
        g_run.first_woken = MonotonicClock::now();
}

Task<int> driver(usize n, Duration margin)
{
    Scheduler& scheduler = Scheduler::current();
    Memory before = read_memory();
    auto frames_before = detail::frame_stats().live();
    Instant start = MonotonicClock::now();
    g_run.n = n;
    g_run.deadline = start + margin;

    for (usize i = 0; i < n; ++i)
        spawn(sleeper());
    Instant spawned = MonotonicClock::now();
    co_await yield_now(); // the N tasks run before we do, each into the timer heap
    Instant asleep = MonotonicClock::now();
    Memory after = read_memory();
    auto stats = scheduler.stats();
    auto live_frames = detail::frame_stats().live() - frames_before;

    std::printf("sleepers: %zu tasks (sizeof TaskRoot %zu, Waiter %zu, SleepAwaiter %zu)\n", n,
        sizeof(detail::TaskRoot), sizeof(detail::Waiter), sizeof(detail::SleepAwaiter));
    std::printf("  spawned in %.1f ms, all asleep after %.1f ms; %zu pending timers, %llu live frames\n",
        ms(spawned - start), ms(asleep - start), stats.pending_timers, (unsigned long long)live_frames);
    std::printf("  VmRSS  %.1f MiB -> %.1f MiB: +%.1f MiB, %.1f bytes per sleeping task\n", mib(before.rss_kib),
        mib(after.rss_kib), mib(after.rss_kib - before.rss_kib), double(after.rss_kib - before.rss_kib) * 1024.0 / double(n));
    std::printf("  VmHWM  %.1f MiB -> %.1f MiB: +%.1f MiB, %.1f bytes per sleeping task\n", mib(before.hwm_kib),
        mib(after.hwm_kib), mib(after.hwm_kib - before.hwm_kib), double(after.hwm_kib - before.hwm_kib) * 1024.0 / double(n));
    std::fflush(stdout);

    int status = 0;
    if (stats.pending_timers != n) {
        std::printf("  ERROR: expected %zu pending timers\n", n);
        status = 1;
    }
    if (MonotonicClock::now() >= g_run.deadline) {
        std::printf("  ERROR: the deadline passed before all tasks were asleep; pass a larger MARGIN_MS\n");
        status = 1;
    }

    // Same deadline, set last: the driver wakes after every sleeper has run and ended.
    co_await sleep_until(g_run.deadline);
    Instant done = MonotonicClock::now();
    Memory end = read_memory();
    std::printf("  woke at deadline + %.3f ms (first sleeper running: every timer fired), all %zu ended at deadline + %.1f ms\n",
        ms(g_run.first_woken - g_run.deadline), g_run.woken, ms(done - g_run.deadline));
    std::printf("  fire all timers: %.1f ns per timer; fire + resume + end the tasks: %.1f ns per task\n",
        double((g_run.first_woken - g_run.deadline).count()) / double(n),
        double((done - g_run.deadline).count()) / double(n));
    std::printf("  VmRSS after all ended %.1f MiB; live tasks %zu\n", mib(end.rss_kib), scheduler.stats().live_tasks - 1);
    if (g_run.woken != n) {
        std::printf("  ERROR: %zu of %zu sleepers woke\n", g_run.woken, n);
        status = 1;
    }
    co_return status;
}

} // namespace

int main(int argc, char** argv)
{
    platform::hosted::init(argc, argv);
    usize n = argc > 1 ? usize(std::strtoull(argv[1], nullptr, 10)) : 1'000'000;
    if (n == 0) {
        std::fprintf(stderr, "usage: %s [N [MARGIN_MS]]\n", argv[0]);
        return 2;
    }
    Duration margin = argc > 2 ? Duration(std::chrono::milliseconds(std::strtoull(argv[2], nullptr, 10)))
                               : Duration(1s) + Duration(2us) * i64(n);
    int status;
    {
        Scheduler scheduler;
        status = scheduler.run(driver(n, margin));
    }
    return status;
}
