// Time. Durations are std::chrono::nanoseconds; instants are points on the platform's
// monotonic clock, which starts near zero when the image starts and never goes back.
#pragma once

#include <sarab/base/types.hpp>

#include <chrono>
#include <limits>

namespace sarab {

namespace platform {
u64 monotonic_ns();
u64 wall_ns();
} // namespace platform

using Duration = std::chrono::nanoseconds;

struct MonotonicClock {
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<MonotonicClock, duration>;
    static constexpr bool is_steady = true;
    static time_point now() { return time_point(duration(rep(platform::monotonic_ns()))); }
};

using Instant = MonotonicClock::time_point;

// A deadline that never comes.
inline constexpr Instant never = Instant(Duration(std::numeric_limits<Duration::rep>::max()));

// Nanoseconds since the Unix epoch, UTC.
struct WallClock {
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<WallClock, duration>;
    static constexpr bool is_steady = false;
    static time_point now() { return time_point(duration(rep(platform::wall_ns()))); }
};

} // namespace sarab
