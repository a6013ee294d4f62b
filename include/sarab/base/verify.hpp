// Contracts. A broken invariant is a bug, not an error to return: it panics with the
// condition, file and line (and, on hosted, a backtrace) and the image stops.
#pragma once

#include <string_view>

namespace sarab {

[[noreturn]] void panic(std::string_view message, const char* file, int line);

} // namespace sarab

#define SARAB_STRINGIFY_(x) #x
#define SARAB_STRINGIFY(x) SARAB_STRINGIFY_(x)

// VERIFY(cond) or VERIFY(cond, "why this must hold")
#define VERIFY(cond, ...)                                                                        \
    do {                                                                                         \
        if (!(cond)) [[unlikely]]                                                                \
            ::sarab::panic("VERIFY(" #cond ") failed" __VA_OPT__(": " __VA_ARGS__), __FILE__,   \
                           __LINE__);                                                            \
    } while (0)

#define VERIFY_NOT_REACHED() ::sarab::panic("reached unreachable code", __FILE__, __LINE__)
