// The platform functions the fuzzed code can reach: a panic (VERIFY) ends in abort, which
// libFuzzer reports as a crash with its input; what logging needs (a clock, a console), which
// stays silent, so that the fuzzer's output is its own; and random bytes (the store's salts).
#include <sarab/base/types.hpp>

#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

namespace sarab::platform {

[[noreturn]] void abort(std::string_view message)
{
    std::fprintf(stderr, "%.*s\n", int(message.size()), message.data());
    std::abort();
}

void console_write(std::string_view) { }
// Deterministic, so that a crash found is a crash repeated.
void random_fill(std::span<std::byte> out)
{
    static u64 state = 0x5eed;
    for (std::byte& b : out) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        b = std::byte(state >> 56);
    }
}
u64 monotonic_ns() { return 0; }

} // namespace sarab::platform
