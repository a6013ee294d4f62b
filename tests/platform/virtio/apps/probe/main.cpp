// probe: a unikernel that does one thing the virtio boot tests check, chosen by boot argument.
//
//     --status=N           return N from app_main
//     --fault=KIND         write-text, jump-heap, write-idt, write-page-table, recurse, null,
//                          abort, bad-free: a fault the platform must
//                          report clearly (tests/platform/virtio/faults.test.sh)
//     --library            use the C++ library (containers, strings, formatting of numbers)
//                          and print what it computed, the same on every target
//     --clock              print the wall clock's year and whether sleeping 50 ms took 50 ms
#include <sarab/app.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

using namespace std::chrono_literals;

namespace {

sarab::BootArg<sarab::u64> status { "status", 0, "exit status to return" };
sarab::BootArg<std::string_view> fault { "fault", "", "write-text, jump-heap, write-idt, write-page-table, recurse, null, abort or bad-free" };
sarab::BootArg<bool> library { "library", false, "exercise the C++ library and print the results" };
sarab::BootArg<bool> check_clock { "clock", false, "print the wall clock's year and check a sleep" };
sarab::BootArg<sarab::u64> depth_limit { "depth-limit", ~sarab::u64(0), "how deep --fault=recurse may go" };

// Not inlined, so that a backtrace shows it; each level keeps a live buffer on the stack.
[[gnu::noinline]] sarab::u64 recurse(sarab::u64 depth)
{
    volatile char buffer[512];
    buffer[0] = char(depth);
    if (depth >= depth_limit.value())
        return sarab::u64(buffer[0]);
    return recurse(depth + 1) + sarab::u64(buffer[0]);
}

[[gnu::noinline]] void do_fault(std::string_view kind)
{
    if (kind == "write-text") {
        // Patch the first byte of a function, as an exploit would.
        auto* code = reinterpret_cast<volatile unsigned char*>(reinterpret_cast<void*>(&recurse));
        *code = 0xc3;
    } else if (kind == "jump-heap") {
        // Code written into the heap, then called: W^X must refuse to run it.
        auto* code = new unsigned char[64];
        std::fill(code, code + 64, 0xc3); // ret
        asm volatile("" : : "r"(code) : "memory");
        reinterpret_cast<void (*)()>(code)();
    } else if (kind == "write-idt") {
        // Point the page-fault gate somewhere else, as a rootkit would: the IDT is sealed.
        struct [[gnu::packed]] {
            sarab::u16 limit;
            sarab::u64 base;
        } idtr;
        asm volatile("sidt %0" : "=m"(idtr));
        reinterpret_cast<volatile sarab::u64*>(idtr.base)[14 * 2] = 0;
    } else if (kind == "write-page-table") {
        // Make a page writable and executable by editing the top-level table: sealed too.
        sarab::u64 cr3;
        asm volatile("mov %%cr3, %0" : "=r"(cr3));
        reinterpret_cast<volatile sarab::u64*>(cr3 & ~sarab::u64(0xfff))[511] = 0x3;
    } else if (kind == "bad-free") {
        // Free a pointer into the middle of a large block: the heap must refuse it, although
        // the descriptor of that page was never written (they are cleared as the heap grows).
        auto* block = new unsigned char[3 * 4096];
        asm volatile("" : : "r"(block) : "memory");
        operator delete[](block + 4096);
    } else if (kind == "recurse") {
        sarab::println("depth {}", recurse(0));
    } else if (kind == "null") {
        volatile int* nothing = nullptr;
        asm volatile("" : "+r"(nothing));
        sarab::println("{}", int(*nothing));
    } else if (kind == "abort") {
        VERIFY(kind != "abort", "the probe was asked to abort");
    }
    sarab::println("probe: unknown --fault={}", kind);
}

void exercise_library()
{
    std::vector<int> numbers;
    for (int i = 0; i < 1000; ++i)
        numbers.push_back((i * 7919) % 1000);
    std::sort(numbers.begin(), numbers.end());
    std::string text = "sarab";
    for (int i = 0; i < 5; ++i)
        text += std::to_string(i);
    std::unordered_map<std::string, int> counts;
    for (std::string_view word : { "a", "b", "a", "c", "a", "b" })
        counts[std::string(word)]++;
    std::map<int, std::string> ordered { { 3, "three" }, { 1, "one" }, { 2, "two" } };
    std::string joined;
    for (auto& [k, v] : ordered)
        joined += v + (k < 3 ? "," : "");
    sarab::println("vector {} {} {}", numbers.size(), numbers.front(), numbers.back());
    sarab::println("string {} {}", std::string_view(text), text.size());
    sarab::println("unordered_map a={} b={} c={}", counts["a"], counts["b"], counts["c"]);
    sarab::println("map {}", std::string_view(joined));
    sarab::println("doubles {} {} {} {} {} {}", 0.1, 1.0 / 3, 1e22, 2.5e-8, 123456.789, -0.0);
    sarab::println("fixed {:.3} {:.0} {:.2} {:.1}", 3.14159, 2.5, 0.125, 1e10);
    sarab::println("integers {} {:x} {:08b} {}", -42, 255, 5, ~sarab::u64(0));
    sarab::println("duration {} {} {}", std::chrono::nanoseconds(1500), 250ms, 2500ms);
    volatile double two = 2.0; // computed at run time, not folded by the compiler
    sarab::println("math {:.9} {:.9} {:.9} {:.9} {:.9} {:.9} {:.9}", std::sqrt(two), std::pow(two, 0.5), std::sin(two), std::exp(two),
        std::log10(two * 500), std::atan2(two, two), std::floor(-two - 0.5));
    // Large and many allocations, freed, then again: the heap must reuse what was freed.
    for (int round = 0; round < 3; ++round) {
        std::vector<std::vector<char>> blocks;
        for (int i = 0; i < 200; ++i)
            blocks.emplace_back(sarab::usize(i) * 97 + 1, char(i));
        sarab::u64 sum = 0;
        for (auto& b : blocks)
            sum += b.size() + sarab::u8(b.back());
        sarab::println("heap round {} {}", round, sum);
    }
}

} // namespace

sarab::Task<int> sarab::app_main()
{
    if (!fault.value().empty())
        do_fault(fault.value());
    if (library.value())
        exercise_library();
    if (check_clock.value()) {
        u64 wall = platform::wall_ns();
        u64 year = 1970 + wall / 1'000'000'000 / 31'556'952; // mean Gregorian year
        auto before = MonotonicClock::now();
        co_await sleep_for(50ms);
        auto slept = MonotonicClock::now() - before;
        println("wall clock year {}", year >= 2024 ? "plausible" : "implausible");
        println("sleep 50ms {}", slept >= 50ms && slept < 80ms ? "ok" : "wrong");
    }
    co_return int(status.value());
}
