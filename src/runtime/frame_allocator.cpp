// Coroutine frames are small and short-lived, and a server makes one or more per request or
// connection. They come from free lists of 16-byte size classes carved out of 64 KiB slabs,
// so that the steady state never reaches the general-purpose heap. Frames larger than the
// largest class go to operator new. The first slab, of 16 KiB, is static: the first frames
// (app_main's) need no heap, which a virtio image's way to its first line would otherwise
// take through the heap's first allocation (docs/performance.md).
#include <sarab/runtime/task.hpp>

#include <new>

namespace sarab::detail {

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool use_free_lists = false; // let AddressSanitizer see every frame's lifetime
#elif defined(__has_feature)
#    if __has_feature(address_sanitizer)
constexpr bool use_free_lists = false;
#    else
constexpr bool use_free_lists = true;
#    endif
#else
constexpr bool use_free_lists = true;
#endif

constexpr usize class_granule = 16;
constexpr usize class_count = 64; // up to 1 KiB
constexpr usize slab_size = 64 * 1024;

struct FreeFrame {
    FreeFrame* next;
};

alignas(16) std::byte g_first_slab[slab_size / 4];

struct FrameAllocator {
    FreeFrame* free[class_count] = {};
    std::byte* slab = g_first_slab;
    usize slab_left = sizeof g_first_slab;
    FrameStats stats;
};

constinit FrameAllocator g_frames;

usize class_of(usize size) { return (size + class_granule - 1) / class_granule - 1; }

} // namespace

void* allocate_frame(usize size)
{
    ++g_frames.stats.allocated;
    usize c = class_of(size);
    if (!use_free_lists || c >= class_count)
        return ::operator new(size);
    if (FreeFrame* f = g_frames.free[c]) {
        g_frames.free[c] = f->next;
        return f;
    }
    usize rounded = (c + 1) * class_granule;
    if (g_frames.slab_left < rounded) {
        // The tail of the old slab is lost; at most one frame's worth per slab.
        g_frames.slab = static_cast<std::byte*>(::operator new(slab_size));
        g_frames.slab_left = slab_size;
    }
    void* frame = g_frames.slab;
    g_frames.slab += rounded;
    g_frames.slab_left -= rounded;
    return frame;
}

void free_frame(void* frame, usize size)
{
    ++g_frames.stats.freed;
    usize c = class_of(size);
    if (!use_free_lists || c >= class_count) {
        ::operator delete(frame);
        return;
    }
    auto* f = static_cast<FreeFrame*>(frame);
    f->next = g_frames.free[c];
    g_frames.free[c] = f;
}

FrameStats frame_stats() { return g_frames.stats; }

} // namespace sarab::detail
