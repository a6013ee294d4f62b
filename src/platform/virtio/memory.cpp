// Page tables: W^X, guard pages, and sealing.
//
// Physical memory is mapped 1:1. memory_init replaces entry.S's boot tables (the first GiB,
// writable and executable) with tables that give each page only its rights:
//
//   0 - 4 KiB                     not mapped (null pointers fault)
//   4 KiB - 1 MiB                 read-only, no execute (start info, firmware tables)
//   image text                    read + execute
//   image rodata                  read-only, no execute
//   image data, bss               read + write, no execute; the guard page below each stack is
//                                 not mapped
//   free RAM (the heap)           read + write, no execute (2 MiB pages where aligned)
//   LAPIC, IOAPIC, virtio-mmio    read + write, no execute, uncached
//   PCI BARs of devices in use    read + write, no execute, uncached (map_device, before sealing)
//
// The tables themselves come from a pool after bss (each cleared when taken). memory_seal
// checks that no mapping is both writable and executable, then maps the pool and the
// descriptor tables read-only. CR0.WP (set by entry.S) makes the CPU honour read-only pages in
// ring 0 too, so after sealing no code can change a mapping or the IDT, and no later call may
// map anything (map functions VERIFY).
#include "virtio.hpp"

#include <sarab/base/log.hpp>
#include <sarab/base/verify.hpp>

#include <cstring>

namespace sarab::platform::virtio {

std::span<const std::byte> descriptor_tables(); // cpu.cpp

namespace {

constexpr u64 present = 1, writable = 2, write_through = 8, no_cache = 0x10, large = 0x80;
constexpr u64 address_mask = 0x000ffffffffff000;
constexpr u64 page = SARAB_PAGE_SIZE;
constexpr u64 large_page = 2 * 1024 * 1024;

constexpr usize pool_tables = 32;
// Not in bss (image.ld): a table is cleared when it is taken, so the entry need not clear 128 KiB.
[[gnu::section(".noinit.page_tables")]] alignas(SARAB_PAGE_SIZE) u64 g_pool[pool_tables][512];
usize g_pool_used = 0;
u64* g_pml4 = nullptr;
u64 g_no_execute = 0; // bit 63 when the CPU has NX (entry.S then set EFER.NXE)
bool g_sealed = false;
Region g_free[max_regions];
usize g_free_count = 0;

u64 align_down(u64 v, u64 a) { return v & ~(a - 1); }
u64 align_up(u64 v, u64 a) { return (v + a - 1) & ~(a - 1); }

// A cleared table from the pool, or null when the pool is used up.
u64* take_table()
{
    if (g_pool_used == pool_tables)
        return nullptr;
    u64* fresh = g_pool[g_pool_used++];
    std::memset(fresh, 0, sizeof g_pool[0]);
    return fresh;
}

u64* next_level(u64* table, usize index)
{
    if (!(table[index] & present)) {
        u64* fresh = take_table();
        if (!fresh)
            return nullptr;
        // Intermediate entries allow everything; the leaf decides.
        table[index] = u64(fresh) | present | writable;
    }
    VERIFY(!(table[index] & large), "a 4 KiB mapping inside a 2 MiB one");
    return reinterpret_cast<u64*>(table[index] & address_mask);
}

u64* page_directory(u64 address)
{
    u64* pdpt = next_level(g_pml4, (address >> 39) & 511);
    return pdpt ? next_level(pdpt, (address >> 30) & 511) : nullptr;
}

// Maps [start, end) with `flags` (0 unmaps); start and end are page-aligned. Uses 2 MiB pages
// where a whole one fits and nothing is mapped there yet. False when the pool runs out.
bool map_range(u64 start, u64 end, u64 flags)
{
    VERIFY(!g_sealed, "the page tables are sealed");
    for (u64 a = start; a < end;) {
        u64* pd = page_directory(a);
        if (!pd)
            return false;
        usize pd_index = (a >> 21) & 511;
        if ((a & (large_page - 1)) == 0 && a + large_page <= end && !(pd[pd_index] & present) && flags) {
            pd[pd_index] = a | flags | large;
            a += large_page;
            continue;
        }
        u64* pt = next_level(pd, pd_index);
        if (!pt)
            return false;
        pt[(a >> 12) & 511] = flags ? (a | flags) : 0;
        a += page;
    }
    return true;
}

void map_or_die(u64 start, u64 end, u64 flags)
{
    if (!map_range(start, end, flags)) {
        serial_write("sarab: out of page tables while mapping the image\n");
        exit_with(status_abort);
    }
}

u64 ist_guard(int i) { return u64(sarab_ist_guards) + u64(i) * (SARAB_PAGE_SIZE + SARAB_IST_STACK_SIZE); }

// Every leaf that is writable must be non-executable.
bool check_w_xor_x(const u64* table, int level)
{
    for (usize i = 0; i < 512; ++i) {
        u64 e = table[i];
        if (!(e & present))
            continue;
        bool leaf = level == 1 || (level == 2 && (e & large));
        if (leaf) {
            if ((e & writable) && g_no_execute && !(e & g_no_execute))
                return false;
        } else if (!check_w_xor_x(reinterpret_cast<const u64*>(e & address_mask), level - 1)) {
            return false;
        }
    }
    return true;
}

} // namespace

std::span<const Region> memory_init(std::span<const Region> ram)
{
    if (cpuid(0x80000000).eax >= 0x80000001 && (cpuid(0x80000001).edx & (1u << 20)))
        g_no_execute = u64(1) << 63;
    g_pml4 = take_table();
    u64 nx = g_no_execute;

    map_or_die(page, 0x100000, present | nx);
    map_or_die(u64(__text_start), u64(__text_end), present);
    map_or_die(u64(__rodata_start), u64(__rodata_end), present | nx);
    map_or_die(u64(__data_start), align_up(u64(__image_end), page), present | writable | nx);
    map_or_die(u64(sarab_stack_main_guard), u64(sarab_stack_main_guard) + page, 0);
    for (int i = 0; i < SARAB_IST_COUNT; ++i)
        map_or_die(ist_guard(i), ist_guard(i) + page, 0);

    // Devices: the local APIC, the I/O APIC, and the virtio-mmio window of microvm.
    u64 device = present | writable | write_through | no_cache | nx;
    map_or_die(SARAB_LAPIC_BASE, SARAB_LAPIC_BASE + page, device);
    map_or_die(0xfec00000, 0xfec00000 + page, device);
    map_or_die(0xfeb00000, 0xfeb00000 + 4 * page, device);

    // Free RAM: what the memory map gives, less everything up to the end of the image.
    u64 image_end = align_up(u64(__image_end), page);
    for (const Region& r : ram) {
        u64 start = r.start < image_end ? image_end : r.start;
        if (start >= r.end || g_free_count == max_regions)
            continue;
        u64 end = r.end;
        if (!map_range(start, end, present | writable | nx)) {
            // Out of page tables: use what got mapped, 2 MiB at a time.
            // (Before static constructors: no log yet.)
            serial_write("sarab: warning: out of page tables: some RAM is not used\n");
            end = start;
        }
        if (end > start)
            g_free[g_free_count++] = { start, end };
    }

    write_cr3(u64(g_pml4));
    return { g_free, g_free_count };
}

void memory_seal()
{
    VERIFY(check_w_xor_x(g_pml4, 4), "a mapping is both writable and executable");
    auto tables = descriptor_tables();
    u64 read_only = present | g_no_execute;
    // The last writes to the tables: from here on they are read-only to every instruction.
    map_or_die(u64(g_pool), u64(g_pool) + sizeof g_pool, read_only);
    map_or_die(align_down(u64(tables.data()), page), align_up(u64(tables.data() + tables.size()), page), read_only);
    g_sealed = true;
    write_cr3(u64(g_pml4));
    if (!g_no_execute)
        log::warn(platform_log, "the CPU has no NX bit: data pages are executable");
}

bool map_device(u64 address, u64 size)
{
    if (g_sealed)
        return false;
    u64 device = present | writable | write_through | no_cache | g_no_execute;
    bool mapped = map_range(align_down(address, page), align_up(address + size, page), device);
    write_cr3(u64(g_pml4));
    return mapped;
}

bool is_guard_page(u64 address, const char** which)
{
    if (address >= u64(sarab_stack_main_guard) && address < u64(sarab_stack_main_guard) + page) {
        *which = "main stack";
        return true;
    }
    for (int i = 0; i < SARAB_IST_COUNT; ++i) {
        if (address >= ist_guard(i) && address < ist_guard(i) + page) {
            *which = "interrupt stack";
            return true;
        }
    }
    return false;
}

bool in_text(u64 address) { return address >= u64(__text_start) && address < u64(__text_end); }

bool in_stack(u64 address)
{
    const char* which;
    return address >= u64(sarab_stacks_start) && address < u64(sarab_stacks_end) && !is_guard_page(address, &which);
}

} // namespace sarab::platform::virtio
