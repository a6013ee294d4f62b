// The virtio platform's start-up and its seam functions that are not about time or memory.
//
// sarab_virtio_start (called by entry.S in long mode, on the main stack) brings the machine up
// in a fixed order: the PIT starts counting (the TSC's calibration runs from here to the first
// clock reading, time.cpp); serial console; GDT, TSS and IDT, so that any fault from here on is
// reported; the PVH start info (command line, memory map); W^X page tables; the heap; the
// interrupt controllers and the timer; static constructors. Then it runs start_image() and
// exits with its status. start_image opens the devices the application declared, which finds
// the virtio devices (transport.cpp) and sets up the drivers' (block.cpp, net.cpp), then
// calls seal() (memory.cpp) before app_main: an image that declares no device never looks
// for one on its way to the first console line. The boot arguments are the kernel command
// line split at spaces, less the words that are Linux's (command_line.hpp):
// `virtio_mmio.device=` words are kept for discover_devices, the others are dropped.
#include "command_line.hpp"
#include "virtio.hpp"

#include <sarab/base/format.hpp>
#include <sarab/base/log.hpp>
#include <sarab/platform/platform.hpp>
#include <sarab/runtime/app.hpp>

// The constructors of static objects, listed by the linker (image.ld); run before the app.
using SarabConstructor = void (*)();
extern "C" const SarabConstructor __init_array_start[];
extern "C" const SarabConstructor __init_array_end[];

namespace sarab::platform {

namespace virtio {

log::Source platform_log { "virtio" };

namespace {

constexpr usize max_command_line = 4096;
constexpr usize max_words = 256;

constexpr usize max_mmio_words = 16;
constexpr u64 max_mmio_size = 1024 * 1024; // what a device's registers may take, at most

char g_command_line[max_command_line];
std::string_view g_words[max_words];
usize g_word_count = 0;
// Linux's words: the devices they name, and the others (dropped), for --log=virtio:debug.
MmioDeviceWord g_mmio_words[max_mmio_words];
usize g_mmio_word_count = 0;
std::string_view g_linux_words[max_words];
usize g_linux_word_count = 0;
std::string_view g_bad_words[max_mmio_words]; // virtio_mmio.device= words that cannot be used
usize g_bad_word_count = 0;
Region g_ram[max_regions + 1]; // collect_ram writes one past the last it keeps
usize g_ram_count = 0;
u64 g_first_output_tsc = 0;
u64 g_sealed_tsc = 0;

// Ports of QEMU's debugging devices that the `sarab` script attaches (docs/virtio.md).
constexpr u16 status_port = 0xe9;    // isa-debugcon: "sarab-exit N" tells the exact status
constexpr u16 debug_exit_port = 0xf4; // isa-debug-exit: QEMU exits with (N << 1) | 1

void split_command_line(const StartInfo& info)
{
    if (info.cmdline_paddr == 0)
        return;
    const char* text = reinterpret_cast<const char*>(info.cmdline_paddr);
    usize n = 0;
    for (; n + 1 < max_command_line && text[n]; ++n)
        g_command_line[n] = text[n];
    g_command_line[n] = 0;
    // Plain loops over the bytes: under TCG, code that runs once costs by the branch, and
    // string_view's find and substr are calls (with their own checks) at -Os. The line ends
    // in a NUL, and (c | 0x20) == ' ' holds for a space and for NUL alone: one test for both.
    bool after_separator = false;
    for (const char* p = g_command_line; g_word_count < max_words;) {
        while (*p == ' ')
            ++p;
        if (*p == 0)
            break;
        const char* start = p;
        while ((*p | 0x20) != ' ')
            ++p;
        std::string_view word(start, usize(p - start));
        switch (after_separator ? WordKind::application : classify_word(word)) {
        case WordKind::application:
            g_words[g_word_count++] = word;
            break;
        case WordKind::separator:
            after_separator = true;
            break;
        case WordKind::virtio_mmio:
            if (auto device = parse_virtio_mmio_device(word.substr(virtio_mmio_prefix.size())); device && g_mmio_word_count < max_mmio_words)
                g_mmio_words[g_mmio_word_count++] = *device;
            else if (g_bad_word_count < max_mmio_words)
                g_bad_words[g_bad_word_count++] = word;
            break;
        case WordKind::linux_word:
            if (g_linux_word_count < max_words)
                g_linux_words[g_linux_word_count++] = word;
            break;
        }
    }
}

// A device's registers must not lie in RAM or the first MiB: mapping them would take those
// pages' rights away from the image (W^X) or the start info. Checked when the devices are
// first looked for, not on the way to an image's first line.
void drop_devices_in_ram()
{
    usize kept = 0;
    for (usize i = 0; i < g_mmio_word_count; ++i) {
        const MmioDeviceWord& d = g_mmio_words[i];
        bool bad = d.base < 0x100000 || d.size > max_mmio_size;
        for (usize r = 0; r < g_ram_count && !bad; ++r)
            bad = d.base < g_ram[r].end && d.base + d.size > g_ram[r].start;
        if (!bad)
            g_mmio_words[kept++] = d;
        else
            log::warn(platform_log, "kernel command line: the virtio-mmio device at 0x{:x} ({} bytes) is in RAM, below 1 MiB, or over 1 MiB long: ignored", d.base, d.size);
    }
    g_mmio_word_count = kept;
}

// The RAM regions of the memory map, each cut to whole pages. Without a branch an entry: each
// is written at the next free place (g_ram has one to spare) and counted only when it is RAM
// with a page in it, because under TCG each branch taken for the first time costs (boot.cpp's
// top). A version-0 start info has no memory map.
void collect_ram(const StartInfo& info)
{
    u32 count = info.version >= 1 && info.memmap_paddr != 0 ? info.memmap_entries : 0;
    auto* entries = reinterpret_cast<const MemmapEntry*>(info.memmap_paddr);
    for (u32 i = 0; i < count; ++i) {
        u64 start = (entries[i].address + SARAB_PAGE_SIZE - 1) & ~u64(SARAB_PAGE_SIZE - 1);
        u64 end = (entries[i].address + entries[i].size) & ~u64(SARAB_PAGE_SIZE - 1);
        g_ram[g_ram_count] = { start, end };
        g_ram_count += usize((entries[i].type == memmap_ram) & (end > start) & (g_ram_count < max_regions));
    }
}

void run_constructors()
{
    using Constructor = SarabConstructor;
    // Two linker symbols are two objects to the compiler, which may then assume a pointer into
    // one never reaches the other: count through integers it cannot see through.
    u64 start = u64(__init_array_start), end = u64(__init_array_end);
    asm("" : "+r"(start), "+r"(end));
    auto* list = reinterpret_cast<const Constructor*>(start);
    for (usize i = 0; i < (end - start) / sizeof(Constructor); ++i)
        list[i]();
}

void write_status(std::string_view text)
{
    for (char c : text)
        outb(status_port, u8(c));
}

void write_status_line(int status)
{
    InlineFormatBuffer<32> line;
    format_to(line, "sarab-exit {}\n", status);
    write_status(line.view());
}

} // namespace

[[noreturn]] void exit_with(int status)
{
    status &= 0xff;
    write_status_line(status);
    outl(debug_exit_port, u32(status));
    // No debug-exit device (another VMM): reset through the keyboard controller, which QEMU
    // with -no-reboot and Firecracker turn into the end of the VM.
    outb(0x64, 0xfe);
    halt_forever();
}

u64 first_output_tsc() { return g_first_output_tsc; }

bool refuse_after_seal(std::string_view name)
{
    if (!memory_sealed())
        return false;
    log::error(platform_log, "device '{}' acquired after start-up, when devices can no longer be found or mapped: declare it, and the runtime opens it at start-up", name);
    return true;
}

std::span<const MmioDeviceWord> command_line_devices()
{
    static bool checked = false;
    if (!checked)
        drop_devices_in_ram();
    checked = true;
    return { g_mmio_words, g_mmio_word_count };
}

void warn_about_command_line()
{
    for (usize i = 0; i < g_bad_word_count; ++i)
        log::warn(platform_log, "kernel command line: '{}' is not a usable virtio-mmio device (SIZE@BASE:IRQ), ignored", g_bad_words[i]);
}

void log_command_line_facts()
{
    for (const MmioDeviceWord& d : command_line_devices())
        log::debug(platform_log, "kernel command line: a virtio-mmio device of {} bytes at 0x{:x}, IRQ {}", d.size, d.base, d.irq);
    for (usize i = 0; i < g_linux_word_count; ++i)
        log::debug(platform_log, "kernel command line: '{}' is Linux's, ignored", g_linux_words[i]);
}

} // namespace virtio

using namespace virtio;

// ---- the seam --------------------------------------------------------------------------------

void console_write(std::string_view text)
{
    if (g_first_output_tsc == 0)
        g_first_output_tsc = rdtsc();
    serial_write(text);
}

void seal()
{
    memory_seal();
    g_sealed_tsc = rdtsc();
}

std::span<const std::string_view> boot_arguments() { return { g_words, g_word_count }; }
std::string_view image_name() { return { sarab_image_name, sarab_image_name_length }; }

void exit(int status)
{
    if (g_net_hooks)
        g_net_hooks->flush();
    exit_with(status);
}

void abort(std::string_view message)
{
    console_write(message);
    console_write("\n");
    u64 rbp;
    asm volatile("mov %%rbp, %0" : "=r"(rbp));
    print_backtrace(rbp);
    exit_with(status_abort);
}

} // namespace sarab::platform

using namespace sarab;
using namespace sarab::platform::virtio;

extern "C" volatile u32 sarab_device_interrupts; // entry.S counts, time.cpp defines

extern "C" [[noreturn]] void sarab_virtio_start(u32 start_info_address)
{
    // TSC readings at each step, reported with --log=virtio:debug (docs/performance.md).
    u64 steps[6];
    steps[0] = rdtsc();
    clock_start();
    serial_init();
    cpu_init();
    auto& info = *reinterpret_cast<const StartInfo*>(u64(start_info_address));
    if (info.magic != start_info_magic) {
        serial_write("sarab: not started through PVH (no hvm_start_info): cannot boot\n");
        exit_with(status_abort);
    }
    split_command_line(info);
    collect_ram(info);
    if (g_ram_count == 0) {
        serial_write("sarab: the PVH start info has no memory map: cannot boot\n");
        exit_with(status_abort);
    }
    steps[1] = rdtsc();
    auto free_ram = memory_init({ g_ram, g_ram_count });
    steps[2] = rdtsc();
    heap_init(free_ram);
    steps[3] = rdtsc();
    time_init();
    steps[4] = rdtsc();
    run_constructors();
    warn_about_command_line();
    steps[5] = rdtsc();
    int status = start_image();
    // The log level is known only once start_image has parsed --log: report afterwards.
    log_time_facts();
    log_command_line_facts();
    log_devices();
    // The start-up figures, also on the status port, so that they can be measured without
    // --log, which would change the way to the first line (bench/virtio/boot_figures.sh).
    auto us = [](u64 tsc) { return ns_of_tsc(tsc) / 1000; };
    InlineFormatBuffer<256> figures;
    format_to(figures, "start-up, us after entry: in C++ {}, start info read {}, page tables {}, heap {}, timer {}, constructors {}, sealed {}; first console output {}",
        us(steps[0]), us(steps[1]), us(steps[2]), us(steps[3]), us(steps[4]), us(steps[5]), g_sealed_tsc ? us(g_sealed_tsc) : 0, g_first_output_tsc ? us(g_first_output_tsc) : 0);
    log::debug(platform_log, "{}", figures.view());
    write_status("sarab-");
    write_status(figures.view());
    write_status("\n");
    if (platform_log.enabled(log::Level::debug)) // heap_bytes_free lays out a heap never used
        log::debug(platform_log, "heap: {} KiB free; device interrupts: {}", heap_bytes_free() / 1024, u32(sarab_device_interrupts));
    sarab::platform::exit(status);
}
