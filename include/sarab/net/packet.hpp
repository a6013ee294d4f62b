// What travels between the layers of Sarab's own stack.
//
// Going down, a layer receives a Frame whose bytes are its payload and prepends its header
// into the headroom (every frame the stack allocates has tx_headroom bytes of it). Going up,
// a layer trims its header and hands on the rest; an IPv4 datagram that arrived in fragments
// is reassembled into a buffer of its own, so what goes up from IPv4 is a Payload that owns
// either the frame or that buffer.
#pragma once

#include <sarab/platform/frame.hpp>

#include <memory>
#include <span>

namespace sarab::net {

// Room in front of every transmitted frame: a virtio-net header (12), Ethernet with a VLAN
// tag (18), IPv4 with options (60) and TCP with options (60) fit.
inline constexpr usize tx_headroom = 160;

class Payload {
public:
    Payload() = default;
    explicit Payload(platform::Frame frame)
        : m_frame(std::move(frame))
        , m_bytes(m_frame.bytes())
    {
    }
    Payload(std::unique_ptr<std::byte[]> buffer, usize size)
        : m_buffer(std::move(buffer))
        , m_bytes(m_buffer.get(), size)
    {
    }
    std::span<const std::byte> bytes() const { return m_bytes; }
    usize size() const { return m_bytes.size(); }
    // The NIC vouched for the transport checksum (see Frame); never for a reassembled datagram.
    bool transport_checksum_ok() const { return !m_buffer && m_frame.transport_checksum_ok(); }
    // Drops n bytes from the front (a header that has been parsed).
    void trim_front(usize n) { m_bytes = m_bytes.subspan(n); }
    void truncate(usize n)
    {
        if (n < m_bytes.size())
            m_bytes = m_bytes.first(n);
    }

private:
    platform::Frame m_frame;
    std::unique_ptr<std::byte[]> m_buffer;
    std::span<const std::byte> m_bytes;
};

} // namespace sarab::net
