// Entropy on the virtio target: RDSEED, else RDRAND, else the TSC's jitter.
//
// CPUID.7.0:EBX bit 18 says RDSEED is there, CPUID.1:ECX bit 30 RDRAND. Both may fail
// transiently (carry clear); each is retried a bounded number of times before falling back
// to the next source. Without either, the low bits of TSC differences around port reads of
// the CMOS clock, mixed with the wall clock, give bytes that are hard to guess from outside
// but not cryptographically strong; docs/architecture.md says so.
#include "virtio.hpp"

#include <sarab/platform/platform.hpp>

#include <cstring>

namespace sarab::platform {

namespace {

bool rdseed(u64& out)
{
    u8 ok = 0;
    asm volatile("rdseed %0; setc %1" : "=r"(out), "=qm"(ok));
    return ok;
}

bool rdrand(u64& out)
{
    u8 ok = 0;
    asm volatile("rdrand %0; setc %1" : "=r"(out), "=qm"(ok));
    return ok;
}

u64 mix(u64 x)
{
    // splitmix64's finaliser: every input bit affects every output bit.
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

u64 jitter_word()
{
    static u64 state = 0;
    for (int i = 0; i < 64; ++i) {
        u64 before = virtio::rdtsc();
        (void)virtio::inb(0x71);
        state = mix(state ^ (virtio::rdtsc() - before) ^ (u64(i) << 56));
    }
    state = mix(state ^ wall_ns());
    return state;
}

u64 random_word()
{
    static const bool has_rdseed = virtio::cpuid(0).eax >= 7 && (virtio::cpuid(7).ebx & (1u << 18));
    static const bool has_rdrand = virtio::cpuid(1).ecx & (1u << 30);
    u64 value = 0;
    for (int tries = 0; has_rdseed && tries < 16; ++tries)
        if (rdseed(value))
            return value;
    for (int tries = 0; has_rdrand && tries < 16; ++tries)
        if (rdrand(value))
            return value;
    return jitter_word();
}

} // namespace

void random_fill(std::span<std::byte> out)
{
    while (!out.empty()) {
        u64 word = random_word();
        usize n = out.size() < sizeof word ? out.size() : sizeof word;
        std::memcpy(out.data(), &word, n);
        out = out.subspan(n);
    }
}

} // namespace sarab::platform
