// Frames: the buffers that carry network packets across the platform seam.
//
// A Frame owns one fixed-size buffer from a FramePool and gives it back when destroyed, so
// a frame can travel from a device's receive ring up to the application, or from the
// application down to a transmit ring, without being copied. The bytes of the packet sit
// in the buffer at [offset, offset + size); the space before them is headroom, where each
// layer on the way down prepends its header.
//
// Transmit checksum offload: a pool whose device completes TCP and UDP checksums (virtio-net's
// VIRTIO_NET_F_CSUM, a tap's virtio-net header) says so (FramePool::set_device_checksums). The
// transport layer then writes only the pseudo-header's sum into the checksum field and marks
// where the checksummed part starts (request_device_checksum); the driver tells the device,
// which sums the rest as it sends (the virtio specification's NEEDS_CSUM, 5.1.6.2).
//
// TCP segmentation offload (TSO): a device that cuts long TCP segments into MSS-sized ones
// (virtio-net's HOST_TSO4, a tap's GSO) says how long a frame it takes (NetInfo's
// segmentation_limit) and gives frames that long (net_segmentation_pool). TCP then sends up to
// that much in one frame, with one header and the pseudo-header's sum over the whole length,
// and marks it (request_segmentation): the device sends it as segments of `segment_size`
// payload bytes each, with the sequence numbers, IPv4 identification, lengths, flags and
// checksums of each worked out as the virtio specification (5.1.6.2) and Linux's GSO do.
#pragma once

#include <sarab/base/error.hpp>
#include <sarab/base/types.hpp>
#include <sarab/base/verify.hpp>

#include <memory>
#include <optional>
#include <span>

namespace sarab::platform {

// The longest frame a device that cuts TCP segments takes (NetInfo::segmentation_limit): an
// Ethernet header, without VLAN tag, and the longest IPv4 packet.
inline constexpr u32 max_segmentation_frame = 14 + 65535;

class FramePool;

class Frame {
public:
    Frame() = default;
    Frame(Frame&& other)
        : m_buffer(other.m_buffer)
        , m_pool(other.m_pool)
        , m_offset(other.m_offset)
        , m_size(other.m_size)
        , m_checksum_start(other.m_checksum_start)
        , m_checksum_field(other.m_checksum_field)
        , m_segment_size(other.m_segment_size)
        , m_transport_header(other.m_transport_header)
        , m_checksum_ok(other.m_checksum_ok)
    {
        other.m_buffer = nullptr;
    }
    Frame& operator=(Frame&& other);
    Frame(const Frame&) = delete;
    Frame& operator=(const Frame&) = delete;
    ~Frame() { release(); }

    bool is_null() const { return m_buffer == nullptr; }

    std::span<std::byte> bytes() { return { m_buffer + m_offset, m_size }; }
    std::span<const std::byte> bytes() const { return { m_buffer + m_offset, m_size }; }
    std::byte* data() { return m_buffer + m_offset; }
    usize size() const { return m_size; }
    // Set by a driver whose device checked the transport (TCP/UDP) checksum, or that handed
    // over a packet from the host whose checksum was never filled in (a tap's partial
    // checksum): the stack then does not verify it again.
    bool transport_checksum_ok() const { return m_checksum_ok; }
    void set_transport_checksum_ok(bool ok) { m_checksum_ok = ok; }
    usize headroom() const { return m_offset; }
    usize tailroom() const;
    usize capacity() const;

    // Whether the device this frame goes to completes transport checksums (its pool says).
    bool device_checksums() const;
    // The transport header starts at the packet's current front; the checksum field lies
    // `field` bytes into it and holds the pseudo-header's sum. The device sums from there to
    // the end and stores the result in the field.
    void request_device_checksum(usize field)
    {
        m_checksum_start = m_offset;
        m_checksum_field = u16(field);
    }
    bool wants_device_checksum() const { return m_checksum_field != 0; }
    void device_checksum_done() { m_checksum_field = 0; } // completed in software after all
    // The frame is one IPv4 TCP segment, with a header of `header` bytes, that may be longer
    // than the MTU allows: the device cuts it into segments of `payload` bytes (the MSS). It
    // has asked for the device's checksum first.
    void request_segmentation(u16 payload, u16 header)
    {
        VERIFY(wants_device_checksum() && payload > 0, "segmentation without the device's checksum");
        m_segment_size = payload;
        m_transport_header = header;
    }
    // 0: the frame goes as it is.
    u16 segment_size() const { return m_segment_size; }
    // For the driver, with the headers in front: how long they are, up to the first payload
    // byte (the virtio-net header's hdr_len).
    usize segmentation_headers() const { return device_checksum_start() + m_transport_header; }
    // For the driver, with the headers in front: where the device starts summing, from the
    // packet's current front, and where it stores the sum, from there.
    usize device_checksum_start() const { return m_checksum_start - m_offset; }
    usize device_checksum_field() const { return m_checksum_field; }

    // Grow the packet at the front by n bytes of headroom and return them (for a header).
    std::span<std::byte> prepend(usize n)
    {
        VERIFY(n <= m_offset, "no headroom left in frame");
        m_offset -= u32(n);
        m_size += u32(n);
        return { m_buffer + m_offset, n };
    }
    // Drop n bytes from the front (a header that has been parsed).
    void trim_front(usize n)
    {
        VERIFY(n <= m_size);
        m_offset += u32(n);
        m_size -= u32(n);
    }
    // Grow the packet at the back by n bytes and return them.
    std::span<std::byte> append(usize n)
    {
        VERIFY(n <= tailroom(), "no tailroom left in frame");
        std::byte* at = m_buffer + m_offset + m_size;
        m_size += u32(n);
        return { at, n };
    }
    void resize(usize n)
    {
        VERIFY(n <= m_size + tailroom());
        m_size = u32(n);
    }
    // The whole buffer and where the packet starts: for drivers that fill a frame.
    std::byte* buffer() { return m_buffer; }
    void set_window(usize offset, usize size)
    {
        VERIFY(offset + size <= capacity());
        m_offset = u32(offset);
        m_size = u32(size);
    }

private:
    friend class FramePool;
    Frame(std::byte* buffer, FramePool* pool, u32 offset)
        : m_buffer(buffer)
        , m_pool(pool)
        , m_offset(offset)
    {
    }
    void release();

    std::byte* m_buffer = nullptr;
    FramePool* m_pool = nullptr;
    u32 m_offset = 0;
    u32 m_size = 0;
    u32 m_checksum_start = 0; // buffer offset of the transport header (request_device_checksum)
    u16 m_checksum_field = 0; // 0: the checksum is complete
    u16 m_segment_size = 0;   // 0: not to be segmented (request_segmentation)
    u16 m_transport_header = 0;
    bool m_checksum_ok = false;
};

// A fixed set of equal buffers, allocated once. Taking and giving back a buffer is a pointer
// push or pop: no allocation per packet.
class FramePool {
public:
    static constexpr usize default_buffer_size = 2048;

    static ErrorOr<std::unique_ptr<FramePool>> create(usize count, usize buffer_size = default_buffer_size);
    ~FramePool();
    FramePool(const FramePool&) = delete;
    FramePool& operator=(const FramePool&) = delete;

    // An empty frame whose packet starts after `headroom` bytes; none when the pool is empty.
    std::optional<Frame> allocate(usize headroom = 0);

    usize buffer_size() const { return m_buffer_size; }
    usize capacity() const { return m_count; }
    usize available() const { return m_available; }
    // Set by a driver whose device completes the TCP and UDP checksums of what it sends.
    void set_device_checksums(bool on) { m_device_checksums = on; }
    bool device_checksums() const { return m_device_checksums; }

private:
    friend class Frame;
    FramePool() = default;
    void give_back(std::byte* buffer);

    std::byte* m_storage = nullptr;
    usize m_buffer_size = 0;
    usize m_count = 0;
    usize m_available = 0;
    std::byte** m_free = nullptr; // stack of free buffers
    bool m_device_checksums = false;
};

inline usize Frame::capacity() const { return m_pool ? m_pool->buffer_size() : 0; }
inline usize Frame::tailroom() const { return capacity() - m_offset - m_size; }
inline bool Frame::device_checksums() const { return m_pool && m_pool->device_checksums(); }

} // namespace sarab::platform
