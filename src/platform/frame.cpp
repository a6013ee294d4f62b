// Target-independent parts of the platform layer: frame pools and error names.
#include <sarab/platform/platform.hpp>

#include <new>

namespace sarab::platform {

Frame& Frame::operator=(Frame&& other)
{
    if (this != &other) {
        release();
        m_buffer = std::exchange(other.m_buffer, nullptr);
        m_pool = other.m_pool;
        m_offset = other.m_offset;
        m_size = other.m_size;
        m_checksum_start = other.m_checksum_start;
        m_checksum_field = other.m_checksum_field;
        m_segment_size = other.m_segment_size;
        m_transport_header = other.m_transport_header;
        m_checksum_ok = other.m_checksum_ok;
    }
    return *this;
}

void Frame::release()
{
    if (m_buffer)
        m_pool->give_back(std::exchange(m_buffer, nullptr));
}

ErrorOr<std::unique_ptr<FramePool>> FramePool::create(usize count, usize buffer_size)
{
    VERIFY(count > 0 && buffer_size >= 64);
    std::unique_ptr<FramePool> pool(new (std::nothrow) FramePool);
    if (!pool)
        return failure(Errc::no_memory);
    // Buffers are cache-line aligned so that headers land where a NIC expects them.
    pool->m_buffer_size = (buffer_size + 63) & ~usize(63);
    pool->m_storage = static_cast<std::byte*>(::operator new(count * pool->m_buffer_size, std::align_val_t(64), std::nothrow));
    pool->m_free = new (std::nothrow) std::byte*[count];
    if (!pool->m_storage || !pool->m_free)
        return failure(Errc::no_memory);
    pool->m_count = count;
    for (usize i = 0; i < count; ++i)
        pool->m_free[i] = pool->m_storage + (count - 1 - i) * pool->m_buffer_size;
    pool->m_available = count;
    return pool;
}

FramePool::~FramePool()
{
    VERIFY(m_available == m_count || m_storage == nullptr, "a frame outlives its pool");
    ::operator delete(m_storage, std::align_val_t(64), std::nothrow);
    delete[] m_free;
}

std::optional<Frame> FramePool::allocate(usize headroom)
{
    VERIFY(headroom <= m_buffer_size);
    if (m_available == 0)
        return std::nullopt;
    return Frame(m_free[--m_available], this, u32(headroom));
}

void FramePool::give_back(std::byte* buffer)
{
    VERIFY(m_available < m_count, "frame given back twice");
    m_free[m_available++] = buffer;
}

const char* error_name(NetError e)
{
    switch (e) {
    case NetError::not_bound: return "not bound to any device";
    case NetError::unavailable: return "device unavailable";
    case NetError::empty: return "nothing to receive";
    case NetError::full: return "transmit queue full";
    case NetError::too_big: return "frame larger than the MTU";
    case NetError::no_buffers: return "no frame buffers left";
    case NetError::io: return "device I/O error";
    }
    return "unknown net error";
}

const char* error_name(BlockError e)
{
    switch (e) {
    case BlockError::not_bound: return "not bound to any device";
    case BlockError::unavailable: return "device unavailable";
    case BlockError::out_of_range: return "sector out of range";
    case BlockError::unaligned: return "buffer is not a whole number of sectors";
    case BlockError::read_only: return "device is read-only";
    case BlockError::io: return "device I/O error";
    }
    return "unknown block error";
}

} // namespace sarab::platform
