// escape: once start-up is over, tries one thing that a sealed sandbox must refuse
// (--try=WHAT), then prints what happened. Only a sandbox build stops it; on hosted every
// attempt succeeds. --try=nothing checks that the filter leaves an ordinary image alone:
// console, clock, timers, heap and the socket stack's calls.
#include <sarab/app.hpp>
#include <sarab/net/interface.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

using namespace sarab;
using namespace std::chrono_literals;

namespace {

net::Interface service { "service", "used by --try=nothing: the socket stack's calls stay allowed" };
BootArg<std::string_view> attempt { "try", "nothing", "open, exec, fork, exec-memory, packet-socket, panic or nothing" };

int try_it(std::string_view what)
{
    if (what == "open")
        return ::open("/etc/hostname", O_RDONLY);
    if (what == "exec") {
        char* const argv[] = { const_cast<char*>("true"), nullptr };
        return ::execv("/bin/true", argv);
    }
    if (what == "fork") {
        pid_t child = ::fork();
        if (child == 0)
            ::_exit(0);
        return child;
    }
    if (what == "exec-memory") {
        void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return page == MAP_FAILED ? -1 : 0;
    }
    if (what == "packet-socket")
        return ::socket(AF_PACKET, SOCK_RAW, 0);
    if (what == "panic") // reported and ended by SIGABRT, as on hosted
        VERIFY(false, "escape: a panic in a sealed image");
    return -2;
}

} // namespace

Task<int> sarab::app_main()
{
    if (attempt.value() != "nothing") {
        int result = try_it(attempt.value());
        if (result == -2) {
            println("escape: unknown --try={}", attempt.value());
            co_return 2;
        }
        println("escape: {} was allowed (result {})", attempt.value(), result);
        co_return 1;
    }
    // What an ordinary image does: the heap, a timer, the clock, and a UDP socket through the
    // socket stack (bound and closed).
    std::vector<int> grown;
    for (int i = 0; i < 100000; ++i)
        grown.push_back(i);
    auto before = MonotonicClock::now();
    co_await sleep_for(20ms);
    {
        auto socket = service.stack().udp_bind(0);
        if (!socket) {
            println("escape: udp_bind: {}", net::error_name(socket.error()));
            co_return 1;
        }
    }
    println("escape: nothing tried; heap {} ints, slept {} ms", grown.size(), (MonotonicClock::now() - before) / 1ms);
    co_return 0;
}
