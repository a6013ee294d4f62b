// The platform functions the fuzzed code can reach: a panic (VERIFY) ends in abort, which
// libFuzzer reports as a crash with its input; and what logging needs (a clock, a console),
// which stays silent, so that the fuzzer's output is its own.
#include <sarab/base/types.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace sarab::platform {

[[noreturn]] void abort(std::string_view message)
{
    std::fprintf(stderr, "%.*s\n", int(message.size()), message.data());
    std::abort();
}

void console_write(std::string_view) { }
u64 monotonic_ns() { return 0; }

} // namespace sarab::platform
