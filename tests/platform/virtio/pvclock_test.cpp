// kvmclock's arithmetic (src/platform/virtio/pvclock.hpp), on the host: there is no KVM on
// the machines that run the tests, so the image's kvmclock path cannot boot there. The scale
// and shift of a pvclock structure turn TSC deltas into nanoseconds, and stand for a TSC rate;
// here both directions are checked against literal cases and against scales made the way the
// ABI describes (the largest multiplier below 2^32 for the smallest shift).
#include "../../../src/platform/virtio/pvclock.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

using namespace sarab;
using namespace sarab::platform::virtio;

// A scale for a TSC of `hz`: nanoseconds per tick = mul * 2^shift / 2^32, mul < 2^32, with
// the shift as small as possible.
struct Scale {
    u32 mul;
    i8 shift;
};

Scale scale_for(u64 hz)
{
    // ns per tick times 2^32, at shift 0: 10^9 * 2^32 / hz. Halve (shift up) until it fits
    // in 32 bits; double (shift down) while it stays below 2^31, for precision.
    unsigned __int128 per_tick = ((unsigned __int128)1'000'000'000 << 32) / hz;
    int shift = 0;
    while (per_tick >= (unsigned __int128)1 << 32) {
        per_tick >>= 1;
        ++shift;
    }
    while (per_tick < (unsigned __int128)1 << 31 && shift > -31) {
        per_tick = ((unsigned __int128)1'000'000'000 << (32 - (shift - 1))) / hz;
        --shift;
    }
    return { u32(per_tick), i8(shift) };
}

TEST(Pvclock, ScaleLiterals)
{
    // mul 2^31 is half a nanosecond per (shifted) tick.
    EXPECT_EQ(pvclock_scale(1000, 0x80000000u, 0), 500u);
    EXPECT_EQ(pvclock_scale(1000, 0x80000000u, 1), 1000u);
    EXPECT_EQ(pvclock_scale(1000, 0x80000000u, -1), 250u);
    EXPECT_EQ(pvclock_scale(1001, 0x80000000u, -1), 250u); // the shift truncates first
    EXPECT_EQ(pvclock_scale(0, 0xffffffffu, 5), 0u);
    // A 64-bit delta times a 32-bit multiplier needs 96 bits: no overflow.
    EXPECT_EQ(pvclock_scale(u64(1) << 40, 0xffffffffu, 0), (u64(1) << 40) - (u64(1) << 8));
    EXPECT_EQ(pvclock_scale(~u64(0), 0x80000000u, 0), ~u64(0) >> 1);
}

TEST(Pvclock, RateLiterals)
{
    EXPECT_EQ(pvclock_tsc_hz(0x80000000u, 0), 2'000'000'000u); // 0.5 ns per tick
    EXPECT_EQ(pvclock_tsc_hz(0x80000000u, 1), 1'000'000'000u);
    EXPECT_EQ(pvclock_tsc_hz(0x80000000u, -1), 4'000'000'000u);
    EXPECT_EQ(pvclock_tsc_hz(0, 0), 0u); // not filled in
}

TEST(Pvclock, RoundTripsCommonRates)
{
    for (u64 hz : { 1'000'000'000ull, 1'999'999'999ull, 2'096'000'000ull, 2'400'000'000ull, 3'000'000'000ull, 3'792'864'000ull,
             5'000'000'000ull, 100'000'000ull, 25'000'000ull }) {
        Scale s = scale_for(hz);
        u64 back = pvclock_tsc_hz(s.mul, s.shift);
        // The multiplier has 31-32 significant bits: the rate comes back within 1 ppm.
        EXPECT_NEAR(double(back), double(hz), double(hz) / 1e6) << hz;
        // One second of ticks is one second, to within 1 us.
        EXPECT_NEAR(double(pvclock_scale(hz, s.mul, s.shift)), 1e9, 1000.0) << hz;
        // An hour of ticks, to within 10 ms (the multiplier's rounding, 3.6e12 ns * 2^-31).
        EXPECT_NEAR(double(pvclock_scale(hz * 3600, s.mul, s.shift)), 3.6e12, 1e7) << hz;
    }
}

TEST(Pvclock, SystemTimeAndWallClock)
{
    Scale s = scale_for(2'500'000'000);
    PvclockTimeInfo t {};
    t.tsc_timestamp = 1'000'000;
    t.system_time = 7'000'000'000; // 7 s after the VM started
    t.tsc_to_system_mul = s.mul;
    t.tsc_shift = s.shift;
    EXPECT_EQ(pvclock_system_ns(t, t.tsc_timestamp), 7'000'000'000u);
    // 2.5e9 ticks later: one more second.
    EXPECT_NEAR(double(pvclock_system_ns(t, t.tsc_timestamp + 2'500'000'000)), 8e9, 1.0);
    PvclockWallClock w { 0, 1'795'000'000, 250'000'000 }; // 2026-11-18T...: when system time was 0
    EXPECT_EQ(pvclock_wall_ns(w, 0), 1'795'000'000'250'000'000u);
    EXPECT_EQ(pvclock_wall_ns(w, pvclock_system_ns(t, t.tsc_timestamp)), 1'795'000'007'250'000'000u);
}

TEST(Pvclock, CopyNeedsAnEvenVersion)
{
    PvclockTimeInfo shared {};
    shared.version = 4;
    shared.system_time = 42;
    PvclockTimeInfo copy {};
    EXPECT_TRUE(pvclock_copy(static_cast<const volatile PvclockTimeInfo&>(shared), copy));
    EXPECT_EQ(copy.system_time, 42u);
    shared.version = 5; // the hypervisor is writing, and never finishes
    EXPECT_FALSE(pvclock_copy(static_cast<const volatile PvclockTimeInfo&>(shared), copy));
}

} // namespace
