// Page tables: W^X, guard pages, and sealing.
//
// Physical memory is mapped 1:1. No page is ever both writable and executable, from the first
// instruction in long mode on:
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
// entry.S writes the tables before it turns paging on, into the first tables of the pool
// (layout.hpp): the upper tables, the devices' pages, and the image's 2 MiB pages (the null
// page, low memory, the image, and the heap up to the next 2 MiB) in 4 KiB pages, each given
// its rights by where it lies, from comparisons (the null page is read-only until the start
// info has been read). There is no earlier, more permissive set of tables, and the C++
// start-up runs on the final ones. memory_init then adds free RAM: in the
// first GiB in 2 MiB pages, with a straight loop, because under TCG every branch taken for the
// first time is code to translate (docs/performance.md); map_range, the general way, maps what
// remains (RAM that is not 2 MiB-aligned or lies above 1 GiB) and the devices found later
// (map_device).
//
// entry.S makes only text executable, read-only, and map_range, which makes every other
// mapping, refuses writable and executable (VERIFY). The tables come from a pool in bss, zero
// when the image is entered (image.ld), each taken once. memory_seal maps the pool and the
// descriptor tables read-only. CR0.WP (set by entry.S) makes the CPU honour read-only pages in
// ring 0 too, so after sealing no code can change a mapping or the IDT, and no later call may
// map anything (map functions VERIFY).
#include "virtio.hpp"

#include <sarab/base/log.hpp>
#include <sarab/base/verify.hpp>

#include <algorithm>

// In bss, so zero when the image is entered (image.ld): each table is taken once, clear. With
// the descriptor tables (cpu.cpp) in the sealed range that memory_seal makes read-only.
[[gnu::section(".bss.sealed.page_tables")]] alignas(SARAB_PAGE_SIZE) sarab::u64 sarab_page_tables[SARAB_PT_POOL_SIZE][512];

namespace sarab::platform::virtio {

namespace {

constexpr u64 present = 1, writable = 2, write_through = 8, no_cache = 0x10, large = 0x80;
constexpr u64 address_mask = 0x000ffffffffff000;
constexpr u64 page = SARAB_PAGE_SIZE;
constexpr u64 large_page = 2 * 1024 * 1024;

// entry.S maps the devices' pages through one directory (3-4 GiB), each in a 2 MiB page and
// a table of its own.
static_assert((SARAB_LAPIC_BASE >> 30) == 3 && (SARAB_IOAPIC_BASE >> 30) == 3 && (SARAB_MMIO_WINDOW >> 30) == 3);
static_assert((SARAB_LAPIC_BASE >> 21) != (SARAB_IOAPIC_BASE >> 21) && (SARAB_LAPIC_BASE >> 21) != (SARAB_MMIO_WINDOW >> 21)
    && (SARAB_IOAPIC_BASE >> 21) != (SARAB_MMIO_WINDOW >> 21));
static_assert(((SARAB_MMIO_WINDOW >> 12) & 511) + SARAB_MMIO_WINDOW_PAGES <= 512);

constexpr usize pool_tables = SARAB_PT_POOL_SIZE;
auto& g_pool = sarab_page_tables;
usize g_pool_used = 0;
constinit u64* const g_pml4 = g_pool[SARAB_PT_PML4];
// The 4 KiB pages of [0, the image's end rounded up to 2 MiB): consecutive tables (entry.S).
constinit u64* const g_image_pts = g_pool[SARAB_PT_IMAGE];
u64 g_no_execute = 0; // bit 63 when the CPU has NX (entry.S then set EFER.NXE)
bool g_sealed = false;
Region g_free[max_regions + 1];
usize g_free_count = 0;

u64 align_down(u64 v, u64 a) { return v & ~(a - 1); }
u64 align_up(u64 v, u64 a) { return (v + a - 1) & ~(a - 1); }

// `count` clear tables, one after the other, from the pool; null when the pool has too few.
u64* take_tables(usize count)
{
    if (pool_tables - g_pool_used < count)
        return nullptr;
    u64* fresh = g_pool[g_pool_used];
    g_pool_used += count;
    return fresh;
}

u64* take_table() { return take_tables(1); }

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
    VERIFY(!(flags & writable) || (flags & g_no_execute) || !g_no_execute, "a mapping would be both writable and executable");
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

u64 ist_guard(int i) { return u64(sarab_ist_guards) + u64(i) * (SARAB_PAGE_SIZE + SARAB_IST_STACK_SIZE); }

} // namespace

std::span<const Region> memory_init(std::span<const Region> ram)
{
    // entry.S turned on EFER.NXE exactly when the CPU has NX, and wrote the image's tables
    // (image.ld checks that they fit the pool).
    constexpr u32 efer = 0xc0000080;
    g_no_execute = (rdmsr(efer) & (1u << 11)) << (63 - 11);
    const u64 read_write = present | writable | g_no_execute;
    const u64 image_end = align_up(u64(__image_end), page);
    const u64 image_top = align_up(image_end, large_page);
    g_pool_used = SARAB_PT_IMAGE + image_top / large_page;
    u64* pd = g_pool[SARAB_PT_PD];
    // The start info has been read: from here on a null pointer faults.
    g_image_pts[0] = 0;
    asm volatile("invlpg (%0)" : : "r"(u64(0)) : "memory");

    // Free RAM: what the memory map gives, less everything up to the end of the image. Up to
    // image_top entry.S mapped it; whole 2 MiB pages in the first GiB take one entry each;
    // map_range maps the rest. Bounds are worked out first and the loop runs between them,
    // with fewer branches than a test a page (this file's top). The entries are new (not
    // present before), so no translation needs dropping.
    constexpr u64 gib = u64(1) << 30;
    for (usize i = 0; i < ram.size(); ++i) {
        u64 start = ram[i].start < image_end ? image_end : ram[i].start;
        u64 end = ram[i].end;
        if (start >= end)
            continue; // all of it lies below the end of the image
        u64 a = start < image_top ? image_top : start;
        u64 large_end = std::min(align_down(end, large_page), gib);
        large_end = a % large_page ? a : large_end; // not aligned: map_range does it all
        for (; a < large_end; a += large_page)
            pd[a / large_page] = a | read_write | large;
        if (a < end && !map_range(a, end, read_write)) {
            // Out of page tables: use what got mapped, 2 MiB at a time.
            // (Before static constructors: no log yet.)
            serial_write("sarab: warning: out of page tables: some RAM is not used\n");
            end = a;
        }
        g_free[g_free_count] = { start, end }; // g_free has one to spare
        g_free_count += usize((end > start) & (g_free_count < max_regions));
    }
    return { g_free, g_free_count };
}

void memory_seal()
{
    // The last writes to the tables: from here on the sealed range (the page-table pool and the
    // descriptor tables, image.ld) is read-only to every instruction. It lies in the image,
    // whose 4 KiB pages are g_image_pts (in the pool itself, so all entries are written
    // first). Then the old translations of the pages in use are dropped (invlpg), which under
    // TCG costs far less than a reload of CR3 that drops them all: the descriptor tables, which
    // come first (image.ld), and the tables taken from the pool. A table never taken is linked
    // from no table, so the CPU never reads it, and a stale writable translation of it could
    // change no mapping.
    const u64 start = u64(__sealed_start), end = u64(__sealed_end);
    for (u64 a = start; a < end; a += page)
        g_image_pts[a / page] = a | present | g_no_execute;
    static_assert(sizeof g_pool[0] == page);
    const u64 used_end = u64(g_pool[g_pool_used]);
    for (u64 a = start; a < used_end; a += page)
        asm volatile("invlpg (%0)" : : "r"(a) : "memory");
    g_sealed = true;
    if (!g_no_execute)
        log::warn(platform_log, "the CPU has no NX bit: data pages are executable");
}

bool memory_sealed() { return g_sealed; }

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
