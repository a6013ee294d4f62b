// Clocks and sleeping: the TSC, the CMOS clock, the local APIC timer, and yield().
//
// The monotonic clock is the TSC scaled to nanoseconds. Its rate comes from CPUID leaf 0x15
// when the CPU states it (crystal clock times the TSC/crystal ratio), else from counting the
// TSC across 1 ms of the 8254 PIT's channel 0 (a 1.193182 MHz counter every PC-compatible VMM
// emulates), else from CPUID leaf 0x16's nominal frequency. The wall clock is the CMOS RTC,
// read once at start-up (to the second) and advanced by the monotonic clock.
//
// yield() arms the local APIC timer for the deadline (in TSC-deadline mode when CPUID says the
// CPU has it, else one-shot with a rate measured during the same 1 ms) and halts. Interrupts
// are enabled only inside the `sti; hlt` pair, so they never interrupt library code, and the
// timer's handler (entry.S) only acknowledges it: no busy polling, no work in interrupt context.
// A device interrupt (a NIC's frame, net.cpp) wakes the halt the same way; yield then looks at
// the rings.
#include "virtio.hpp"

#include <sarab/base/log.hpp>
#include <sarab/base/verify.hpp>
#include <sarab/platform/platform.hpp>

extern "C" {
// Set by the timer's interrupt stub (entry.S).
volatile sarab::u8 sarab_timer_fired = 0;
// Counted by the device interrupt stub (entry.S), for --log=virtio:debug.
volatile sarab::u32 sarab_device_interrupts = 0;
}

namespace sarab::platform {

namespace virtio {

namespace {

constexpr u64 pit_hz = 1'193'182;
constexpr u32 lapic_svr = 0xf0, lapic_lvt_timer = 0x320, lapic_lvt_lint0 = 0x350, lapic_lvt_lint1 = 0x360,
              lapic_lvt_error = 0x370, lapic_initial_count = 0x380, lapic_current_count = 0x390,
              lapic_divide = 0x3e0, lapic_tpr = 0x80;
constexpr u32 msr_tsc_deadline = 0x6e0;
constexpr u32 lvt_masked = 1u << 16;
constexpr u32 lvt_tsc_deadline = 2u << 17;

u64 g_tsc_hz = 0;
u64 g_tsc_origin = 0;
u64 g_ns_per_tick_32 = 0;  // nanoseconds per TSC tick, times 2^32
u64 g_ticks_per_ns_32 = 0; // TSC ticks per nanosecond, times 2^32
u64 g_lapic_hz = 0;
bool g_tsc_deadline = false;
u64 g_wall_at_origin = 0;
const char* g_tsc_source = "";

u32 lapic_read(u32 reg) { return mmio_read32(SARAB_LAPIC_BASE + reg); }
void lapic_write(u32 reg, u32 value) { mmio_write32(SARAB_LAPIC_BASE + reg, value); }

u16 pit_read()
{
    outb(0x43, 0x00); // latch channel 0
    u8 lo = inb(0x40);
    u8 hi = inb(0x40);
    return u16(lo | (hi << 8));
}

struct Calibration {
    u64 tsc_ticks = 0;   // TSC ticks across the window
    u64 pit_ticks = 0;   // PIT ticks across the same window
    u64 lapic_ticks = 0; // LAPIC timer ticks across lapic_tsc_ticks TSC ticks
    u64 lapic_tsc_ticks = 0;
};

// One reading of a counter, with the TSC at the middle of the read (I/O is slow in a VM).
template<class Read>
auto sample(Read read, u64& tsc)
{
    u64 before = rdtsc();
    auto value = read();
    tsc = before + (rdtsc() - before) / 2;
    return value;
}

// Counts TSC and LAPIC timer ticks across ~1 ms of PIT channel 0. False without a PIT.
bool calibrate_with_pit(Calibration& c)
{
    outb(0x43, 0x34); // channel 0, low then high byte, mode 2, binary
    outb(0x40, 0);
    outb(0x40, 0); // 65536: wraps every 55 ms
    if (pit_read() == 0xffff && pit_read() == 0xffff && pit_read() == 0xffff)
        return false; // nothing there
    lapic_write(lapic_initial_count, 0xffffffff);
    constexpr u16 window = u16(pit_hz / 1000);
    u64 t0, t1, l0, l1;
    // A first pass runs the code once, so that the measured pass is not slowed by a JIT (TCG).
    for (int pass = 0; pass < 2; ++pass) {
        u32 lapic0 = sample([] { return lapic_read(lapic_current_count); }, l0);
        u16 start = sample(pit_read, t0);
        u16 now = start;
        for (u64 spins = 0;; ++spins) {
            now = sample(pit_read, t1);
            if (u16(start - now) >= (pass ? window : 16))
                break;
            if (spins > 1'000'000)
                return false; // a counter that does not count
        }
        u32 lapic1 = sample([] { return lapic_read(lapic_current_count); }, l1);
        c.tsc_ticks = t1 - t0;
        c.pit_ticks = u16(start - now);
        c.lapic_ticks = lapic0 - lapic1;
        c.lapic_tsc_ticks = l1 - l0;
    }
    lapic_write(lapic_initial_count, 0);
    return c.tsc_ticks * pit_hz / c.pit_ticks > 1'000'000;
}

// The CMOS clock, as nanoseconds since 1970, or 0 when there is none.
u8 cmos(u8 reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

u64 read_rtc()
{
    if (cmos(0x0a) == 0xff && cmos(0x0b) == 0xff)
        return 0;
    u8 t[7], again[7];
    auto read_all = [](u8* out) {
        for (u32 spins = 0; spins < 100'000 && (cmos(0x0a) & 0x80); ++spins)
            asm volatile("pause"); // an update is in progress
        out[0] = cmos(0x00);
        out[1] = cmos(0x02);
        out[2] = cmos(0x04);
        out[3] = cmos(0x07);
        out[4] = cmos(0x08);
        out[5] = cmos(0x09);
        out[6] = cmos(0x32); // century, where the RTC has one
    };
    read_all(t);
    for (int tries = 0; tries < 5; ++tries) {
        read_all(again);
        bool same = true;
        for (int i = 0; i < 7; ++i)
            same = same && t[i] == again[i];
        if (same)
            break;
        for (int i = 0; i < 7; ++i)
            t[i] = again[i];
    }
    u8 status_b = cmos(0x0b);
    bool binary = status_b & 0x04;
    bool pm = !(status_b & 0x02) && (t[2] & 0x80);
    t[2] &= 0x7f;
    auto value = [&](u8 v) -> u64 { return binary ? v : u64((v >> 4) * 10 + (v & 0xf)); };
    u64 second = value(t[0]), minute = value(t[1]), hour = value(t[2]);
    u64 day = value(t[3]), month = value(t[4]), year = value(t[5]);
    u64 century = (t[6] != 0 && t[6] != 0xff) ? value(t[6]) : 20;
    if (!(status_b & 0x02)) // 12-hour clock
        hour = (hour % 12) + (pm ? 12 : 0);
    year += century * 100;
    if (month < 1 || month > 12 || day < 1 || day > 31 || year < 1970)
        return 0;
    // Days since 1970-01-01 of a civil date (the algorithm of "days from civil").
    i64 y = i64(year) - (month <= 2);
    i64 era = y / 400;
    i64 yoe = y - era * 400;
    i64 doy = (153 * (i64(month) + (month > 2 ? -3 : 9)) + 2) / 5 + i64(day) - 1;
    i64 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    i64 days = era * 146097 + doe - 719468;
    return (u64(days) * 86400 + hour * 3600 + minute * 60 + second) * 1'000'000'000u;
}

u64 ns_since_origin(u64 tsc) { return u64((unsigned __int128)(tsc - g_tsc_origin) * g_ns_per_tick_32 >> 32); }
u64 tsc_at(u64 ns) { return g_tsc_origin + u64((unsigned __int128)ns * g_ticks_per_ns_32 >> 32); }

void mask_legacy_pics()
{
    // Move the 8259s off the exception vectors (to 0x20-0x2f), then mask every line.
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

} // namespace

void time_init()
{
    mask_legacy_pics();
    // The local APIC on, with its spurious vector; LINT0/1 and errors masked; timer masked until
    // the first yield.
    wrmsr(0x1b, rdmsr(0x1b) | (1u << 11));
    lapic_write(lapic_tpr, 0);
    lapic_write(lapic_svr, 0x100 | SARAB_VECTOR_APIC_SPURIOUS);
    lapic_write(lapic_lvt_lint0, lvt_masked);
    lapic_write(lapic_lvt_lint1, lvt_masked);
    lapic_write(lapic_lvt_error, lvt_masked);
    lapic_write(lapic_divide, 0xb); // divide by 1
    lapic_write(lapic_lvt_timer, lvt_masked | SARAB_VECTOR_TIMER);

    u32 max_leaf = cpuid(0).eax;
    g_tsc_deadline = cpuid(1).ecx & (1u << 24);
    Calibration c;
    bool have_pit = calibrate_with_pit(c);
    if (max_leaf >= 0x15) {
        auto r = cpuid(0x15);
        if (r.eax && r.ebx && r.ecx) {
            g_tsc_hz = u64(r.ecx) * r.ebx / r.eax;
            g_tsc_source = "CPUID 0x15";
        }
    }
    if (!g_tsc_hz && have_pit) {
        g_tsc_hz = c.tsc_ticks * pit_hz / c.pit_ticks;
        g_tsc_source = "PIT";
    }
    if (!g_tsc_hz && max_leaf >= 0x16 && (cpuid(0x16).eax & 0xffff)) {
        g_tsc_hz = u64(cpuid(0x16).eax & 0xffff) * 1'000'000;
        g_tsc_source = "CPUID 0x16";
    }
    if (!g_tsc_hz) {
        g_tsc_hz = 1'000'000'000;
        g_tsc_source = "a guess (no PIT, no CPUID frequency)";
    }
    // The LAPIC timer's rate, measured against the TSC; without a measurement, assume it
    // ticks with the TSC (only one-shot mode needs it).
    g_lapic_hz = have_pit && c.lapic_tsc_ticks ? u64((unsigned __int128)c.lapic_ticks * g_tsc_hz / c.lapic_tsc_ticks) : g_tsc_hz;
    g_ns_per_tick_32 = u64(((unsigned __int128)1'000'000'000 << 32) / g_tsc_hz);
    g_ticks_per_ns_32 = u64(((unsigned __int128)g_tsc_hz << 32) / 1'000'000'000);
    g_tsc_origin = sarab_entry_tsc ? sarab_entry_tsc : rdtsc();
    u64 rtc = read_rtc();
    u64 now = ns_since_origin(rdtsc());
    g_wall_at_origin = rtc > now ? rtc - now : 0;
    if (g_tsc_deadline)
        lapic_write(lapic_lvt_timer, lvt_tsc_deadline | SARAB_VECTOR_TIMER);
    else
        lapic_write(lapic_lvt_timer, SARAB_VECTOR_TIMER); // one-shot
}

void log_time_facts()
{
    log::debug(platform_log, "TSC {} kHz (from {}); timer: {}, {} kHz", g_tsc_hz / 1000, g_tsc_source,
        g_tsc_deadline ? "TSC deadline" : "LAPIC one-shot", g_lapic_hz / 1000);
}

u64 ns_of_tsc(u64 tsc) { return ns_since_origin(tsc); }

const NetHooks* g_net_hooks = nullptr;

void arm_timer(u64 deadline_ns, u64 now)
{
    if (g_tsc_deadline) {
        wrmsr(msr_tsc_deadline, tsc_at(deadline_ns));
    } else {
        u64 ticks = u64((unsigned __int128)(deadline_ns - now) * g_lapic_hz / 1'000'000'000);
        // Longer sleeps wake early and arm again.
        lapic_write(lapic_initial_count, u32(ticks == 0 ? 1 : ticks > 0xffffffff ? 0xffffffff : ticks));
    }
}

void halt_until(u64 deadline_ns)
{
    u64 now = ns_since_origin(rdtsc());
    if (now >= deadline_ns)
        return;
    arm_timer(deadline_ns, now);
    // Interrupts are taken only here: sti lets the next instruction start first, so an
    // interrupt that is already pending still wakes the hlt.
    asm volatile("sti; hlt; cli" ::: "memory");
}

} // namespace virtio

using namespace virtio;

// Nanoseconds since the image was entered (entry.S reads the TSC first thing).
u64 monotonic_ns() { return ns_since_origin(rdtsc()); }
u64 wall_ns() { return g_wall_at_origin + monotonic_ns(); }

HandleSet yield(u64 deadline_ns, HandleSet interest)
{
    const NetHooks* net = g_net_hooks;
    // Block I/O completes inside its call: a block device is never "ready". A net device is
    // ready while it has received frames (level-triggered); net_poll also ends the batch of
    // transmits (one kick) and refills the receive rings.
    bool pollable = false;
    interest.for_each([&](Handle h) {
        bool is_net = net && net->is_net_handle(h);
        VERIFY(is_net || (h >= block_handle_base && h - block_handle_base < block_count()), "yield on a handle that is not open");
        pollable = pollable || is_net;
    });
    VERIFY(pollable || deadline_ns != ~u64(0), "yield would block for ever: no pollable device of interest and no deadline");
    for (;;) {
        HandleSet ready = net ? net->poll(interest) : HandleSet {};
        if (!ready.empty())
            return ready;
        u64 now = monotonic_ns();
        if (now >= deadline_ns)
            return {};
        bool polled = false;
        if (net && !net->prepare_to_halt(interest, polled))
            continue; // a frame arrived while the interrupt was being asked for
        // Waiting for a NIC: a safety net against a lost interrupt (1 s), or a short sleep for
        // a NIC that has no interrupt (1 ms); an endless deadline never reaches the timer.
        u64 cap = !pollable ? deadline_ns : now + (polled ? 1'000'000u : 1'000'000'000u);
        sarab_timer_fired = 0;
        halt_until(deadline_ns < cap ? deadline_ns : cap);
        if (net)
            net->after_halt(interest);
    }
}

} // namespace sarab::platform
