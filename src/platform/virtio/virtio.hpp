// What the parts of the virtio platform tell one another: CPU instructions as functions, the
// start-up steps in the order boot.cpp runs them, and the facts each step leaves for the
// next. Nothing outside src/platform/virtio/ includes this.
#pragma once

#include "layout.hpp"

#include <sarab/base/log.hpp>
#include <sarab/base/types.hpp>
#include <sarab/platform/platform.hpp>

#include <span>
#include <string_view>

namespace sarab::platform::virtio {

// The platform's log source: --log=virtio:debug shows clock sources and start-up times.
extern log::Source platform_log;

// ---- CPU instructions --------------------------------------------------------------------
// Always inlined: -Os would otherwise make a function of some, and under TCG each call and
// each return to a caller begins a new translation block (docs/performance.md).
[[gnu::always_inline]] inline void outb(u16 port, u8 value) { asm volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
[[gnu::always_inline]] inline void outl(u16 port, u32 value) { asm volatile("outl %0, %1" : : "a"(value), "Nd"(port)); }
[[gnu::always_inline]] inline u8 inb(u16 port)
{
    u8 value;
    asm volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}
[[gnu::always_inline]] inline u32 inl(u16 port)
{
    u32 value;
    asm volatile("inl %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}
[[gnu::always_inline]] inline u64 rdtsc()
{
    u32 lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory"); // ordered with memory, for timing
    return (u64(hi) << 32) | lo;
}
[[gnu::always_inline]] inline u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (u64(hi) << 32) | lo;
}
[[gnu::always_inline]] inline void wrmsr(u32 msr, u64 value)
{
    asm volatile("wrmsr" : : "c"(msr), "a"(u32(value)), "d"(u32(value >> 32)) : "memory");
}
struct CpuidResult {
    u32 eax, ebx, ecx, edx;
};
[[gnu::always_inline]] inline CpuidResult cpuid(u32 leaf, u32 subleaf = 0)
{
    CpuidResult r;
    asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}
[[gnu::always_inline]] inline u64 read_cr2()
{
    u64 v;
    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
[[gnu::always_inline]] inline u64 read_cr3()
{
    u64 v;
    asm volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
[[gnu::always_inline]] inline void write_cr3(u64 v) { asm volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
[[gnu::always_inline]] inline u32 mmio_read32(u64 address) { return *reinterpret_cast<volatile u32*>(address); }
[[gnu::always_inline]] inline void mmio_write32(u64 address, u32 value) { *reinterpret_cast<volatile u32*>(address) = value; }
[[noreturn, gnu::always_inline]] inline void halt_forever()
{
    for (;;)
        asm volatile("cli; hlt");
}

// ---- the PVH start info (Xen's arch-x86/hvm/start_info.h) ----------------------------------
struct StartInfo {
    u32 magic; // start_info_magic
    u32 version;
    u32 flags;
    u32 nr_modules;
    u64 modlist_paddr;
    u64 cmdline_paddr;
    u64 rsdp_paddr;
    u64 memmap_paddr; // version 1 and later
    u32 memmap_entries;
    u32 reserved;
};
inline constexpr u32 start_info_magic = 0x336ec578;
struct MemmapEntry {
    u64 address;
    u64 size;
    u32 type; // 1 = RAM
    u32 reserved;
};
inline constexpr u32 memmap_ram = 1;

// A range of free RAM, [start, end), page-aligned.
struct Region {
    u64 start;
    u64 end;
};
inline constexpr usize max_regions = 32;

// ---- start-up steps, in order (boot.cpp) --------------------------------------------------
void clock_start();                               // the PIT starts counting: calibration from here
void serial_init();
void serial_write(std::string_view text);
void cpu_init();                                  // GDT, TSS with IST stacks, IDT
std::span<const Region> memory_init(std::span<const Region> ram); // page tables; returns free RAM
void heap_init(std::span<const Region> free_ram); // the heap's RAM; laid out at the first allocation
void time_init();                                 // PICs masked, LAPIC timer (the TSC's rate: first read)
// Maps device registers (uncached, no execute); only before sealing. False when it cannot.
bool map_device(u64 address, u64 size);
void memory_seal();                               // page tables and descriptor tables read-only
bool memory_sealed();
// A device acquired after start-up (sealing): logs why it cannot be, and says so.
bool refuse_after_seal(std::string_view name);
void log_time_facts();                            // at debug level: clock sources
u64 ns_of_tsc(u64 tsc);                           // a TSC reading as monotonic nanoseconds

// ---- facts for reports ---------------------------------------------------------------------
bool is_guard_page(u64 address, const char** which);
bool in_text(u64 address);
bool in_stack(u64 address);
u64 heap_bytes_free();
bool is_heap(u64 address);
[[noreturn]] void exit_with(int status);
// Writes "backtrace:" and one line per frame of the frame-pointer chain from rbp (first rip
// and then caller, where they are not 0).
void print_backtrace(u64 rbp, u64 rip = 0, u64 caller = 0);
u64 first_output_tsc(); // the TSC at the first console output, 0 before
void warn_about_command_line(); // virtio_mmio.device= words that cannot be used
void log_command_line_facts(); // at debug level: Linux's words used and ignored
void log_devices();            // at debug level: the virtio devices found, and where

// The virtio-mmio devices that the command line named (virtio_mmio.device=, as Firecracker
// passes them), in its order; none lies in RAM (boot.cpp drops those).
struct MmioDeviceWord;
std::span<const MmioDeviceWord> command_line_devices();


// Handles: net devices count from net_handle_base, block devices from block_handle_base.
inline constexpr u32 net_handle_base = 0;
inline constexpr u32 block_handle_base = 32;
usize block_count();
// What yield and exit need of the net driver (net.cpp). It is set when the first net device
// is acquired, so that an image without one links none of the driver.
struct NetHooks {
    // Acknowledges device lines, reclaims and kicks transmits, refills receive rings, and
    // returns the NICs of `interest` that have frames to receive.
    HandleSet (*poll)(HandleSet interest);
    // Asks the NICs of interest for an interrupt at their next frame; false when one arrived
    // meanwhile (do not halt). `polled`: one of them has no interrupt (halt briefly).
    bool (*prepare_to_halt)(HandleSet interest, bool& polled);
    void (*after_halt)(HandleSet interest);
    bool (*is_net_handle)(Handle);
    // Sends what is still in the transmit rings (bounded), before the image ends.
    void (*flush)();
};
extern const NetHooks* g_net_hooks; // null until a net device is acquired
// Halts until an interrupt (a device's or the timer's) or `deadline_ns`, whichever is first.
void halt_until(u64 deadline_ns);

// Exit statuses of the platform itself (docs/virtio.md), as a shell reports a signal.
inline constexpr int status_abort = 134;     // platform::abort: 128 + SIGABRT
inline constexpr int status_exception = 139; // a CPU exception: 128 + SIGSEGV

} // namespace sarab::platform::virtio

extern "C" {
extern const char __image_start[], __image_end[], __text_start[], __text_end[];
extern const char __rodata_start[], __rodata_end[], __data_start[], __bss_start[], __bss_end[];
extern const char __sealed_start[], __sealed_end[]; // read-only once sealed (memory_seal)
extern char sarab_stacks_start[], sarab_stacks_end[], sarab_stack_main_guard[], sarab_stack_main_top[];
extern char sarab_ist_guards[];
extern sarab::u64 sarab_page_tables[SARAB_PT_POOL_SIZE][512]; // memory.cpp; entry.S fills the first
extern sarab::u64 sarab_entry_tsc;
extern const char sarab_image_name[]; // generated for each image (cmake/Sarab.cmake)
extern const unsigned long sarab_image_name_length;
}
