// hello: the first unikernel of the MirageOS slides. It prints "hello" every 2.5 seconds;
// how many times and how often are boot arguments:
//
//     ./sarab run examples/hello -- --count=3 --interval=0.1
#include <sarab/app.hpp>

using namespace std::chrono_literals;

namespace {

sarab::BootArg<sarab::u64> count { "count", 4, "how many lines to print; 0 prints for ever" };
sarab::BootArg<sarab::Duration> interval { "interval", 2500ms, "pause between two lines, in seconds (or 100ms, 2s, ...)" };

} // namespace

sarab::Task<int> sarab::app_main()
{
    for (u64 i = 0; count.value() == 0 || i < count.value(); ++i) {
        if (i > 0)
            co_await sleep_for(interval.value());
        println("hello");
    }
    co_return 0;
}
