// Clocks and sleeping: the TSC, kvmclock, the CMOS clock, the local APIC timer, and yield().
//
// The monotonic clock is the TSC scaled to nanoseconds, counted from the image's entry. Its
// rate is settled the first time a clock is read (need_tsc_rate), not at start-up: an image's
// first console line needs no clock, and a later reading makes the PIT's window longer. It
// comes from, in this order: kvmclock (when CPUID's hypervisor leaves say KVM with
// KVM_FEATURE_CLOCKSOURCE2: the rate the pvclock scale stands for, pvclock.hpp); CPUID leaf
// 0x15 when the CPU states it (crystal clock times the TSC/crystal ratio); the 8254 PIT's
// channel 2 (a 1.193182 MHz counter every PC-compatible VMM emulates), counted from the very
// start of the image (clock_start) to that first reading, so that the image's own work is the
// calibration window and at most the rest of pit_window is waited for; CPUID leaf 0x16's
// nominal frequency; a guess. The wall clock is kvmclock's when it is there (read with the
// rate), else the CMOS RTC, read once (to the second); either is then advanced by the
// monotonic clock. (The CMOS clock is read when the wall clock is first asked for: it costs
// some 40 exits to the VMM.)
//
// yield() arms the local APIC timer for the deadline (in TSC-deadline mode when CPUID says the
// CPU has it, else one-shot, at a rate measured against the TSC from time_init to the first
// time the timer is armed). Interrupts are enabled only inside the `sti; hlt` pair, so they
// never interrupt library code, and the timer's handler (entry.S) only acknowledges it: no
// busy polling, no work in interrupt context. A device interrupt (a NIC's frame, net.cpp)
// wakes the halt the same way; yield then looks at the rings.
#include "pvclock.hpp"
#include "virtio.hpp"

#include <algorithm>

#include <sarab/base/format.hpp>
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

// Settles the TSC's rate the first time a clock is read (the rest of this file).
void need_tsc_rate();

namespace {

constexpr u64 pit_hz = 1'193'182;
constexpr u32 lapic_svr = 0xf0, lapic_lvt_timer = 0x320, lapic_lvt_lint0 = 0x350, lapic_lvt_lint1 = 0x360,
              lapic_lvt_error = 0x370, lapic_initial_count = 0x380, lapic_current_count = 0x390,
              lapic_divide = 0x3e0, lapic_tpr = 0x80;
constexpr u32 msr_tsc_deadline = 0x6e0;
constexpr u32 lvt_masked = 1u << 16;
constexpr u32 lvt_tsc_deadline = 2u << 17;

// The PIT calibration's window: at least this many PIT ticks (about 500 us) from clock_start
// to the first clock reading. Sampling error is about 1-2 us at each end (an I/O exit and two
// TSC reads); the image's own work before that reading makes the window longer for free.
constexpr u16 pit_window = u16(pit_hz / 2000);
// The LAPIC timer's rate is measured over at least this long (TSC time), ending when the
// timer is first armed.
constexpr u64 lapic_window_ns = 1'000'000;

u64 g_tsc_hz = 0;
u64 g_tsc_origin = 0;
u64 g_ns_per_tick_32 = 0;  // nanoseconds per TSC tick, times 2^32
u64 g_ticks_per_ns_32 = 0; // TSC ticks per nanosecond, times 2^32
u64 g_lapic_hz = 0;        // 0 until measured (one-shot mode only)
bool g_tsc_deadline = false;
u64 g_wall_at_origin = 0;
bool g_wall_known = false;
const char* g_tsc_source = "";
const char* g_wall_source = "not asked for";
u64 g_pit_window_us = 0; // for --log=virtio:debug
u64 g_rate_known_us = 0;  // when the rate was settled, for --log=virtio:debug

u32 lapic_read(u32 reg) { return mmio_read32(SARAB_LAPIC_BASE + reg); }
void lapic_write(u32 reg, u32 value) { mmio_write32(SARAB_LAPIC_BASE + reg, value); }

u16 pit_read()
{
    outb(0x43, 0x80); // latch channel 2
    u8 lo = inb(0x42);
    u8 hi = inb(0x42);
    return u16(lo | (hi << 8));
}

// One reading of a counter, with the TSC at the middle of the read (I/O is slow in a VM): of
// three reads, the one that took least time, whose middle is the surest. The first read is
// not among them: under TCG it runs the code for the first time, which is translated first.
template<class Read>
auto sample(Read read, u64& tsc)
{
    decltype(read()) best {};
    u64 narrowest = ~u64(0);
    for (int pass = 0; pass < 4; ++pass) {
        u64 before = rdtsc();
        auto value = read();
        u64 width = rdtsc() - before;
        if (pass > 0 && width < narrowest) {
            narrowest = width;
            best = value;
            tsc = before + width / 2;
        }
    }
    return best;
}

// A counter started by one register write: when it started, and how sure that is (the
// write's width). The start is taken as the TSC just after the write: the VMM loads the
// counter while it handles the exit, and most of what the write costs the guest (leaving
// translated code, the exit itself) comes before that; under TCG here this gave 2096.0-2096.2
// MHz against the host's 2096.0, the middle of the write 2097.4-2097.6. The start lies within
// the width before it, so a window at least `sure_factor` times the width keeps the error of a
// rate measured from it under 1/sure_factor. Starting a counter this way costs one write on
// the way to the first console line, where a sample() costs four reads, each an exit to the
// VMM.
constexpr u64 sure_factor = 500;
struct CounterStart {
    u64 tsc = 0;
    u64 width = 0; // 0 for a start taken with sample()
    u64 sure_window() const { return sure_factor * width; } // TSC ticks
};

template<class Write>
CounterStart start_counter(Write write)
{
    u64 before = rdtsc();
    write();
    u64 after = rdtsc();
    return { after, after - before };
}

// Where the PIT was when clock_start ran.
struct PitStart {
    bool started = false;
    u16 count = 0;
    CounterStart at;
};
PitStart g_pit_start;

// Starts PIT channel 2 counting down from 65536 (it wraps every 55 ms): writing the count's
// high byte starts it, within a tick (0.84 us). Channel 2, not 0: its output is wired to no
// interrupt, so loading it is a plain register write for the VMM, where loading channel 0
// arms the VMM's interrupt timer (some 70 us under QEMU's TCG against 3 us). Its gate is
// port 0x61's bit 0 (bit 1, the speaker, stays off).
void pit_start(PitStart& start)
{
    outb(0x61, u8((inb(0x61) & ~2u) | 1u));
    outb(0x43, 0xb4); // channel 2, low then high byte, mode 2, binary
    outb(0x42, 0);
    start.at = start_counter([] { outb(0x42, 0); });
    start.count = 0; // 65536 in 16 bits
    start.started = true;
}

// Where the PIT is now, read precisely (sample()): for a start that cannot be used.
void retake(PitStart& start)
{
    start.count = sample(pit_read, start.at.tsc);
    start.at.width = 0;
}

// The TSC's rate from the PIT ticks since `start`, waiting until the window is at least
// pit_window ticks and sure_factor times the start's width; 0 when there is no PIT (reads say
// 0xffff) or it does not count (64 reads in a row, each three port accesses, span more than a
// tick). A start the VMM took long over (its window would have to be longer than 4
// pit_windows) is taken again with sample(). A window that may have wrapped the 16-bit
// counter (55 ms) is not used: one of more than 40,000,000 TSC ticks (40 ms for a TSC of
// 1 GHz; every x86_64 that runs VMs has a faster one) is measured afresh, pit_window long.
u64 tsc_hz_from_pit(PitStart start)
{
    for (int attempt = 0; attempt < 2; ++attempt) {
        u64 t1 = 0;
        u16 now = 0, last = 0;
        for (u32 same = 0;;) {
            now = sample(pit_read, t1);
            u16 ticks = u16(start.count - now);
            if (ticks >= pit_window && t1 - start.at.tsc >= start.at.sure_window())
                break;
            if (ticks >= 4 * pit_window) {
                retake(start);
                continue;
            }
            same = now == last ? same + 1 : 0;
            last = now;
            if (same == 64)
                return 0; // a counter that does not count
        }
        u64 ticks = u16(start.count - now);
        u64 tsc = t1 - start.at.tsc;
        if (tsc < 40'000'000) {
            g_pit_window_us = ticks * 1'000'000 / pit_hz;
            return tsc * pit_hz / ticks;
        }
        // The boot took long (a busy host): the counter may have wrapped. Measure again.
        retake(start);
    }
    return 0;
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

u64 ns_since_origin(u64 tsc)
{
    need_tsc_rate();
    return u64((unsigned __int128)(tsc - g_tsc_origin) * g_ns_per_tick_32 >> 32);
}
u64 tsc_at(u64 ns)
{
    need_tsc_rate();
    return g_tsc_origin + u64((unsigned __int128)ns * g_ticks_per_ns_32 >> 32);
}

// Every line of the 8259s masked. They are not moved off the exception vectors (the firmware
// may have put them at 0x08): their output reaches the CPU only through the local APIC's
// LINT0, which lapic_setup masks before interrupts are first enabled, so the vectors they
// hold are never used.
void mask_legacy_pics()
{
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

// The local APIC on, with its spurious vector; LINT0/1 and errors masked; the timer in
// TSC-deadline mode or (one-shot) masked until its rate is known. Done before interrupts are
// first enabled (halt_until), not at start-up: each write is an exit to the VMM.
bool g_lapic_ready = false;
void lapic_setup()
{
    wrmsr(0x1b, rdmsr(0x1b) | (1u << 11));
    lapic_write(lapic_tpr, 0);
    lapic_write(lapic_svr, 0x100 | SARAB_VECTOR_APIC_SPURIOUS);
    lapic_write(lapic_lvt_lint0, lvt_masked);
    lapic_write(lapic_lvt_lint1, lvt_masked);
    lapic_write(lapic_lvt_error, lvt_masked);
    lapic_write(lapic_lvt_timer, g_tsc_deadline ? lvt_tsc_deadline | SARAB_VECTOR_TIMER : lvt_masked | SARAB_VECTOR_TIMER);
    g_lapic_ready = true;
}

// ---- kvmclock ----------------------------------------------------------------------------

// Where the hypervisor writes (identity-mapped: the address is the physical one). Written
// once, when the rate is settled; the system-time structure is switched off again after it
// was read.
alignas(32) volatile PvclockTimeInfo g_pvclock_time;
alignas(16) volatile PvclockWallClock g_pvclock_wall;

// Whether KVM's leaves are there (at 0x40000000, or 0x100 further on per other hypervisor
// interface in front, as with Hyper-V's enlightenments) and offer KVM_FEATURE_CLOCKSOURCE2.
bool kvmclock_offered()
{
    if (!(cpuid(1).ecx & (1u << 31))) // no hypervisor
        return false;
    for (u32 base = kvm_cpuid_signature; base < kvm_cpuid_signature + 0x1000; base += 0x100) {
        auto sig = cpuid(base);
        if (sig.ebx == 0x4b4d564b && sig.ecx == 0x564b4d56 && sig.edx == 0x4d) // "KVMKVMKVM\0\0\0"
            return (sig.eax == 0 || sig.eax >= base + 1) && (cpuid(base + (kvm_cpuid_features - kvm_cpuid_signature)).eax & kvm_feature_clocksource2);
    }
    return false;
}

// The TSC's rate and the wall clock (ns since 1970) at TSC reading `tsc`, from kvmclock.
bool read_kvmclock(u64& tsc_hz, u64& wall_ns, u64& tsc)
{
    wrmsr(msr_kvm_wall_clock_new, reinterpret_cast<u64>(&g_pvclock_wall)); // written before the wrmsr returns
    wrmsr(msr_kvm_system_time_new, reinterpret_cast<u64>(&g_pvclock_time) | 1); // filled before the guest runs again
    PvclockTimeInfo time;
    PvclockWallClock wall;
    bool consistent = pvclock_copy(g_pvclock_time, time) && pvclock_copy(g_pvclock_wall, wall);
    tsc = rdtsc();
    wrmsr(msr_kvm_system_time_new, 0); // no more writes into the image's memory
    u64 hz = consistent ? pvclock_tsc_hz(time.tsc_to_system_mul, time.tsc_shift) : 0;
    if (hz < 1'000'000 || tsc < time.tsc_timestamp)
        return false;
    tsc_hz = hz;
    wall_ns = pvclock_wall_ns(wall, pvclock_system_ns(time, tsc));
    return true;
}

// ---- the LAPIC timer's rate (one-shot mode) ---------------------------------------------------

u32 g_lapic_start_count = 0;
CounterStart g_lapic_start;

u32 lapic_count() { return lapic_read(lapic_current_count); }

// Starts the timer's counter (divide by 1) with its LVT masked as it is after reset: it counts
// but never interrupts.
void lapic_measure_start()
{
    lapic_write(lapic_divide, 0xb);
    g_lapic_start = start_counter([] { lapic_write(lapic_initial_count, 0xffffffff); });
    g_lapic_start_count = 0xffffffff;
}

// Starts the counter again and reads where it is precisely (sample()): for a start that
// cannot be used.
void lapic_retake()
{
    lapic_write(lapic_initial_count, 0xffffffff);
    g_lapic_start_count = sample(lapic_count, g_lapic_start.tsc);
    g_lapic_start.width = 0;
}

// The rate, from lapic_measure_start to now (at least lapic_window_ns, and sure_factor times
// the start's width). A counter that ran out (4.3 s at 1 GHz) is measured afresh.
void lapic_measure_end()
{
    need_tsc_rate();
    u64 window = u64((unsigned __int128)lapic_window_ns * g_ticks_per_ns_32 >> 32);
    if (g_lapic_start.sure_window() > 4 * window) // a start the VMM took long over
        lapic_retake();
    for (int attempt = 0; attempt < 2; ++attempt) {
        u64 wanted = g_lapic_start.tsc + std::max(window, g_lapic_start.sure_window());
        while (rdtsc() < wanted)
            asm volatile("pause");
        u64 tsc;
        u32 now = sample(lapic_count, tsc);
        if (now != 0 && now < g_lapic_start_count) {
            g_lapic_hz = u64((unsigned __int128)(g_lapic_start_count - now) * g_tsc_hz / (tsc - g_lapic_start.tsc));
            break;
        }
        lapic_retake();
    }
    if (!g_lapic_hz)
        g_lapic_hz = g_tsc_hz; // a timer that does not count: assume it ticks with the TSC
    lapic_write(lapic_initial_count, 0);
    lapic_write(lapic_lvt_timer, SARAB_VECTOR_TIMER); // one-shot, unmasked
}

} // namespace

void clock_start() { pit_start(g_pit_start); }

void time_init()
{
    mask_legacy_pics();
    g_tsc_deadline = cpuid(1).ecx & (1u << 24);
    if (!g_tsc_deadline)
        lapic_measure_start(); // finished when the timer is first armed
}

void need_tsc_rate()
{
    if (g_ns_per_tick_32) [[likely]]
        return;
    u32 max_leaf = cpuid(0).eax;
    u64 kvm_wall = 0, kvm_wall_tsc = 0;
    bool kvmclock = kvmclock_offered() && read_kvmclock(g_tsc_hz, kvm_wall, kvm_wall_tsc);
    if (kvmclock)
        g_tsc_source = "kvmclock";
    if (!g_tsc_hz && max_leaf >= 0x15) {
        auto r = cpuid(0x15);
        if (r.eax && r.ebx && r.ecx) {
            g_tsc_hz = u64(r.ecx) * r.ebx / r.eax;
            g_tsc_source = "CPUID 0x15";
        }
    }
    if (!g_tsc_hz && g_pit_start.started) {
        g_tsc_hz = tsc_hz_from_pit(g_pit_start);
        // Plausible for any x86_64 a VM runs on: else the PIT is not what it seems.
        if (g_tsc_hz < 200'000'000 || g_tsc_hz > 20'000'000'000)
            g_tsc_hz = 0;
        else
            g_tsc_source = "PIT";
    }
    if (!g_tsc_hz && max_leaf >= 0x16 && (cpuid(0x16).eax & 0xffff)) {
        g_tsc_hz = u64(cpuid(0x16).eax & 0xffff) * 1'000'000;
        g_tsc_source = "CPUID 0x16";
    }
    if (!g_tsc_hz) {
        g_tsc_hz = 1'000'000'000;
        g_tsc_source = "a guess (no kvmclock, PIT or CPUID frequency)";
    }
    g_ticks_per_ns_32 = u64(((unsigned __int128)g_tsc_hz << 32) / 1'000'000'000);
    g_tsc_origin = sarab_entry_tsc ? sarab_entry_tsc : rdtsc();
    g_ns_per_tick_32 = u64(((unsigned __int128)1'000'000'000 << 32) / g_tsc_hz); // last: the rate is known
    g_rate_known_us = ns_since_origin(rdtsc()) / 1000;
    if (kvmclock) {
        g_wall_source = "kvmclock";
        u64 since = ns_since_origin(kvm_wall_tsc);
        g_wall_at_origin = kvm_wall > since ? kvm_wall - since : 0;
        g_wall_known = true;
    } // else the CMOS clock is read when the wall clock is first asked for (wall_ns)
}

void log_time_facts()
{
    need_tsc_rate();
    InlineFormatBuffer<96> window, lapic;
    if (g_pit_window_us)
        format_to(window, ", over {} us", g_pit_window_us);
    format_to(window, ", started within {} ns, settled {} us after entry", g_pit_start.at.width * 1'000'000'000 / (g_tsc_hz ? g_tsc_hz : 1), g_rate_known_us);
    if (g_tsc_deadline)
        format_to(lapic, "TSC deadline");
    else if (g_lapic_hz)
        format_to(lapic, "LAPIC one-shot, {} kHz", g_lapic_hz / 1000);
    else
        format_to(lapic, "LAPIC one-shot, rate measured when first armed");
    log::debug(platform_log, "TSC {} kHz (from {}{}); wall clock: {}; timer: {}", g_tsc_hz / 1000, g_tsc_source, window.view(), g_wall_source, lapic.view());
}

u64 ns_of_tsc(u64 tsc) { return ns_since_origin(tsc); }

const NetHooks* g_net_hooks = nullptr;

void arm_timer(u64 deadline_ns, u64 now)
{
    if (!g_lapic_ready)
        lapic_setup();
    if (g_tsc_deadline) {
        wrmsr(msr_tsc_deadline, tsc_at(deadline_ns));
    } else {
        if (!g_lapic_hz) {
            lapic_measure_end();
            now = ns_since_origin(rdtsc());
            if (now >= deadline_ns)
                now = deadline_ns;
        }
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
u64 wall_ns()
{
    if (!g_wall_known) {
        // The CMOS clock takes some 40 port reads (exits to the VMM): not on the way to the
        // first console line, but when the time of day is first needed.
        u64 rtc = read_rtc();
        u64 now = monotonic_ns();
        g_wall_at_origin = rtc > now ? rtc - now : 0;
        g_wall_source = rtc ? "CMOS" : "none (no CMOS clock)";
        g_wall_known = true;
    }
    return g_wall_at_origin + monotonic_ns();
}

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
