// kvmclock's shared structures (the pvclock ABI that KVM and Xen share) and their arithmetic.
//
// The guest gives the hypervisor the address of a PvclockTimeInfo (MSR 0x4b564d01, bit 0 =
// enable) and of a PvclockWallClock (MSR 0x4b564d00). The hypervisor fills them in: system
// time (nanoseconds since the VM started) was `system_time` when the TSC read
// `tsc_timestamp`, and a TSC delta becomes nanoseconds by shifting it by `tsc_shift` (left
// when positive, right when negative) and multiplying by `tsc_to_system_mul / 2^32`. The wall
// clock is the time of day at system time 0. An odd `version` means the hypervisor is
// writing: read again.
//
// Pure functions over copies of the structures: tests/platform/virtio/pvclock_test.cpp checks
// them on the host (no KVM here); time.cpp reads the structures and uses them for the TSC's
// rate and the wall clock.
#pragma once

#include <sarab/base/types.hpp>

namespace sarab::platform::virtio {

struct PvclockTimeInfo {
    u32 version;
    u32 pad0;
    u64 tsc_timestamp;
    u64 system_time;
    u32 tsc_to_system_mul;
    i8 tsc_shift;
    u8 flags;
    u8 pad[2];
};
static_assert(sizeof(PvclockTimeInfo) == 32);

struct PvclockWallClock {
    u32 version;
    u32 sec;
    u32 nsec;
};
static_assert(sizeof(PvclockWallClock) == 12);

inline constexpr u32 msr_kvm_wall_clock_new = 0x4b564d00;
inline constexpr u32 msr_kvm_system_time_new = 0x4b564d01;
inline constexpr u32 kvm_cpuid_signature = 0x40000000; // EBX, ECX, EDX: "KVMKVMKVM\0\0\0"
inline constexpr u32 kvm_cpuid_features = 0x40000001;  // EAX: feature bits
inline constexpr u32 kvm_feature_clocksource2 = 1u << 3;

// Nanoseconds of a TSC delta, by the structure's scale (64-bit delta, 128-bit product).
constexpr u64 pvclock_scale(u64 delta, u32 mul, i8 shift)
{
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    return u64((unsigned __int128)delta * mul >> 32);
}

// System time, in nanoseconds, at TSC reading `tsc` (not before the structure's timestamp).
constexpr u64 pvclock_system_ns(const PvclockTimeInfo& t, u64 tsc)
{
    return t.system_time + pvclock_scale(tsc - t.tsc_timestamp, t.tsc_to_system_mul, t.tsc_shift);
}

// The TSC's rate in Hz that the scale stands for: 10^9 * 2^32 / (mul * 2^shift). 0 when the
// scale is 0 (not filled in).
constexpr u64 pvclock_tsc_hz(u32 mul, i8 shift)
{
    if (mul == 0)
        return 0;
    unsigned __int128 hz = ((unsigned __int128)1'000'000'000 << 32) / mul;
    if (shift < 0)
        hz <<= -shift;
    else
        hz >>= shift;
    return hz > ~u64(0) ? ~u64(0) : u64(hz);
}

// The time of day, in nanoseconds since 1970, at system time `system_ns`.
constexpr u64 pvclock_wall_ns(const PvclockWallClock& w, u64 system_ns) { return u64(w.sec) * 1'000'000'000 + w.nsec + system_ns; }

// A consistent copy of a structure that the hypervisor may be writing: false when no two
// reads agreed on an even version (then the copy is not to be used). Every read is volatile
// (the hypervisor writes behind the compiler's back); x86 keeps loads in order.
template<class T>
bool pvclock_copy(const volatile T& shared, T& out)
{
    auto* from = reinterpret_cast<const volatile u8*>(&shared);
    auto* to = reinterpret_cast<u8*>(&out);
    for (int tries = 0; tries < 1000; ++tries) {
        u32 before = shared.version;
        for (usize i = 0; i < sizeof(T); ++i)
            to[i] = from[i];
        if (!(before & 1) && before == shared.version)
            return true;
    }
    return false;
}

} // namespace sarab::platform::virtio
