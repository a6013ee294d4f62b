// The heap: operator new/delete and malloc/free over the free RAM of the memory map.
//
// The largest free region becomes the heap (the others are left alone; QEMU gives one region
// below 4 GiB for the memory sizes a unikernel uses). It is laid out at the first allocation:
// start-up only hands over the free RAM (heap_init), so that an image that allocates nothing
// on its way to its first line pays nothing for a heap there. It is managed in 4 KiB pages:
//
//  - small requests (up to 2 KiB) come from size classes: a page is given to one class and
//    cut into equal objects kept on a free list; a freed object goes back on its class's list
//    (pages of a class are not given back: a server's allocation sizes repeat);
//  - larger requests take a run of whole pages, first fit from an address-ordered list of free
//    runs that merges neighbours when a run is given back.
//
// One 32-bit descriptor per page says what the page is (the class of a small page, or the
// length of a run at its first page), so free() needs no size and no header per object.
// Alignment up to a page is honoured; running out returns nullptr (nothrow, malloc) or aborts
// (throwing new, as a failed allocation cannot be reported without exceptions).
#include "virtio.hpp"

#include <sarab/base/format.hpp>
#include <sarab/base/verify.hpp>
#include <sarab/platform/platform.hpp>

#include <cstring>
#include <new>

namespace sarab::platform::virtio {

namespace {

constexpr u64 page = SARAB_PAGE_SIZE;
constexpr u32 class_sizes[] = { 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512,
    640, 768, 896, 1024, 1280, 1536, 1792, 2048 };
constexpr usize class_count = sizeof class_sizes / sizeof class_sizes[0];
constexpr u32 small_page = 0x80000000; // descriptor: small page, class in the low bits

struct FreeObject {
    FreeObject* next;
};
struct FreeRun {
    u64 pages;
    FreeRun* next;
};

std::span<const Region> g_free_ram; // from start-up
bool g_laid_out = false;            // the heap below is set up
u64 g_base = 0;   // first page of the heap
u64 g_pages = 0;  // pages in the heap
u32* g_descriptors = nullptr;
// Descriptors below this page index are cleared; the others are cleared when the heap first
// hands out their pages (it fills from the bottom) and read as 0 until then. Clearing them
// all at start-up would cost a loop turn under TCG for every 8 bytes: 64 KiB for 64 MiB.
usize g_descriptors_ready = 0;
FreeRun* g_runs = nullptr;
FreeObject* g_free[class_count] = {};
u64 g_free_pages = 0;

usize page_index(const void* p) { return usize((u64(p) - g_base) / page); }

u32 descriptor(usize index) { return index < g_descriptors_ready ? g_descriptors[index] : 0; }

void set_descriptor(usize index, u32 value)
{
    if (index >= g_descriptors_ready) {
        std::memset(g_descriptors + g_descriptors_ready, 0, (index + 1 - g_descriptors_ready) * sizeof(u32));
        g_descriptors_ready = index + 1;
    }
    g_descriptors[index] = value;
}

bool in_heap(const void* p) { return u64(p) >= g_base && u64(p) < g_base + g_pages * page; }

void* take_pages(u64 count)
{
    for (FreeRun** link = &g_runs; *link; link = &(*link)->next) {
        FreeRun* run = *link;
        if (run->pages < count)
            continue;
        if (run->pages == count) {
            *link = run->next;
        } else {
            // Hand out the front of the run and keep its end on the list: the heap fills from
            // the bottom, next to the image. A VMM backs guest RAM only when it is first
            // touched (QEMU in 2 MiB pages, each some 0.2 ms under TCG), and the bottom is
            // what the loader has touched already.
            auto* rest = reinterpret_cast<FreeRun*>(u64(run) + count * page);
            rest->pages = run->pages - count;
            rest->next = run->next;
            *link = rest;
        }
        g_free_pages -= count;
        set_descriptor(page_index(run), u32(count));
        return run;
    }
    return nullptr;
}

void give_pages(void* p, u64 count)
{
    auto* run = static_cast<FreeRun*>(p);
    run->pages = count;
    g_free_pages += count;
    if (page_index(p) < g_descriptors_ready)
        g_descriptors[page_index(p)] = 0;
    FreeRun** link = &g_runs;
    while (*link && *link < run)
        link = &(*link)->next;
    run->next = *link;
    *link = run;
    // Merge with the following run, then with the preceding one.
    if (run->next && u64(run) + run->pages * page == u64(run->next)) {
        run->pages += run->next->pages;
        run->next = run->next->next;
    }
    if (link != &g_runs) {
        auto* before = reinterpret_cast<FreeRun*>(reinterpret_cast<char*>(link) - offsetof(FreeRun, next));
        if (u64(before) + before->pages * page == u64(run)) {
            before->pages += run->pages;
            before->next = run->next;
        }
    }
}

int class_for(usize size, usize alignment)
{
    for (usize c = 0; c < class_count; ++c) {
        if (class_sizes[c] >= size && class_sizes[c] % alignment == 0)
            return int(c);
    }
    return -1;
}

void lay_out();

void* allocate(usize size, usize alignment)
{
    if (!g_laid_out) [[unlikely]]
        lay_out();
    if (size == 0)
        size = 1;
    if (alignment > page || (alignment & (alignment - 1)))
        return nullptr;
    int c = class_for(size, alignment < 16 ? 16 : alignment);
    if (c < 0) {
        if (size > g_pages * page)
            return nullptr;
        return take_pages((size + page - 1) / page);
    }
    if (!g_free[c]) {
        void* fresh = take_pages(1);
        if (!fresh)
            return nullptr;
        set_descriptor(page_index(fresh), small_page | u32(c));
        // Thread the page's objects onto the free list, lowest address first.
        u32 n = u32(page / class_sizes[c]);
        for (u32 i = n; i-- > 0;) {
            auto* object = reinterpret_cast<FreeObject*>(u64(fresh) + u64(i) * class_sizes[c]);
            object->next = g_free[c];
            g_free[c] = object;
        }
    }
    FreeObject* object = g_free[c];
    g_free[c] = object->next;
    return object;
}

void release(void* p)
{
    if (!p)
        return;
    VERIFY(in_heap(p), "free() of a pointer that is not from the heap");
    u32 d = descriptor(page_index(p));
    if (d & small_page) {
        u32 c = d & ~small_page;
        VERIFY(c < class_count && (u64(p) - (u64(p) & ~(page - 1))) % class_sizes[c] == 0, "free() of a pointer into an object");
        auto* object = static_cast<FreeObject*>(p);
        object->next = g_free[c];
        g_free[c] = object;
        return;
    }
    VERIFY(d != 0 && (u64(p) & (page - 1)) == 0, "free() of a pointer that is not allocated");
    give_pages(p, d);
}

usize usable_size(void* p)
{
    u32 d = descriptor(page_index(p));
    return (d & small_page) ? class_sizes[d & ~small_page] : usize(d) * page;
}

[[noreturn]] void out_of_memory(usize size)
{
    InlineFormatBuffer<96> text;
    format_to(text, "out of memory: cannot allocate {} bytes ({} KiB free)", size, g_free_pages * page / 1024);
    platform::abort(text.view());
}

void* allocate_or_die(usize size, usize alignment)
{
    void* p = allocate(size, alignment);
    if (!p) [[unlikely]]
        out_of_memory(size);
    return p;
}

// The heap in the largest free region, at the first allocation.
void lay_out()
{
    g_laid_out = true;
    const Region* largest = nullptr;
    for (const Region& r : g_free_ram) {
        if (!largest || r.end - r.start > largest->end - largest->start)
            largest = &r;
    }
    if (!largest || largest->end - largest->start < 16 * page) {
        serial_write("sarab: no free memory for the heap (its first allocation): cannot go on\n");
        exit_with(status_abort);
    }
    u64 pages = (largest->end - largest->start) / page;
    // The descriptors take the first pages of the region; the rest is the heap.
    u64 descriptor_pages = (pages * sizeof(u32) + page - 1) / page;
    g_descriptors = reinterpret_cast<u32*>(largest->start);
    g_base = largest->start + descriptor_pages * page;
    g_pages = pages - descriptor_pages;
    give_pages(reinterpret_cast<void*>(g_base), g_pages);
}

} // namespace

void heap_init(std::span<const Region> free_ram) { g_free_ram = free_ram; }

u64 heap_bytes_free()
{
    if (!g_laid_out)
        lay_out();
    return g_free_pages * page;
}
bool is_heap(u64 address) { return in_heap(reinterpret_cast<const void*>(address)); }

} // namespace sarab::platform::virtio

using namespace sarab;
using sarab::platform::virtio::allocate;
using sarab::platform::virtio::allocate_or_die;
using sarab::platform::virtio::release;

// ---- C++ ----------------------------------------------------------------------------------
void* operator new(std::size_t size) { return allocate_or_die(size, 16); }
void* operator new[](std::size_t size) { return allocate_or_die(size, 16); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return allocate(size, 16); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return allocate(size, 16); }
void* operator new(std::size_t size, std::align_val_t a) { return allocate_or_die(size, usize(a)); }
void* operator new[](std::size_t size, std::align_val_t a) { return allocate_or_die(size, usize(a)); }
void* operator new(std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept { return allocate(size, usize(a)); }
void* operator new[](std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept { return allocate(size, usize(a)); }
void operator delete(void* p) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { release(p); }

// ---- C ------------------------------------------------------------------------------------
extern "C" {

void* malloc(std::size_t size) { return allocate(size, 16); }
void free(void* p) { release(p); }

void* calloc(std::size_t count, std::size_t size)
{
    std::size_t total;
    if (__builtin_mul_overflow(count, size, &total))
        return nullptr;
    void* p = allocate(total, 16);
    if (p)
        std::memset(p, 0, total);
    return p;
}

void* realloc(void* p, std::size_t size)
{
    if (!p)
        return allocate(size, 16);
    if (size == 0) {
        release(p);
        return nullptr;
    }
    usize old = sarab::platform::virtio::usable_size(p);
    if (size <= old)
        return p;
    void* fresh = allocate(size, 16);
    if (fresh) {
        std::memcpy(fresh, p, old);
        release(p);
    }
    return fresh;
}

void* aligned_alloc(std::size_t alignment, std::size_t size) { return allocate(size, alignment); }

int posix_memalign(void** out, std::size_t alignment, std::size_t size)
{
    void* p = allocate(size, alignment);
    if (!p)
        return 12; // ENOMEM
    *out = p;
    return 0;
}

} // extern "C"
