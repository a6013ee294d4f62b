// UDP datagrams (RFC 768) over IPv4.
//
// UdpView::parse checks the 8-byte header and that the length field is at least 8 and no
// more than the bytes there are; the payload ends where the length says. UdpRepr::parse
// verifies the checksum over the IPv4 pseudo-header, which is why it takes the addresses;
// a checksum of zero means the sender computed none, and is accepted. The repr is the
// header only: emit writes it in front of a payload that is already in place, and computes
// the checksum over both (sending 0xffff for a sum of zero, since zero means "none").
#pragma once

#include <sarab/net/address.hpp>
#include <sarab/net/wire/byte_order.hpp>
#include <sarab/net/wire/checksum.hpp>
#include <sarab/net/wire/error.hpp>
#include <sarab/platform/frame.hpp>

#include <span>

namespace sarab::net::wire {

struct UdpHeader {
    NetworkOrdered<u16> source_port;
    NetworkOrdered<u16> destination_port;
    NetworkOrdered<u16> length; // header and payload
    NetworkOrdered<u16> checksum;
};
static_assert(sizeof(UdpHeader) == 8);

inline constexpr usize udp_header_len = sizeof(UdpHeader);

class UdpView {
public:
    static WireResult<UdpView> parse(std::span<const std::byte> bytes);

    u16 source_port() const { return header().source_port.get(); }
    u16 destination_port() const { return header().destination_port.get(); }
    u16 length() const { return header().length.get(); }
    u16 checksum() const { return header().checksum.get(); }
    std::span<const std::byte> payload() const { return m_bytes.subspan(udp_header_len); }
    std::span<const std::byte> bytes() const { return m_bytes; }
    bool checksum_valid(Ipv4Address source, Ipv4Address destination) const;

private:
    explicit UdpView(std::span<const std::byte> bytes)
        : m_bytes(bytes)
    {
    }
    UdpHeader header() const { return load_header<UdpHeader>(m_bytes); }

    std::span<const std::byte> m_bytes; // cut at the length field
};

struct UdpRepr {
    u16 source_port = 0;
    u16 destination_port = 0;

    static WireResult<UdpRepr> parse(const UdpView&, Ipv4Address source, Ipv4Address destination,
        ChecksumCheck = ChecksumCheck::verify);

    static constexpr usize buffer_len() { return udp_header_len; }
    // `datagram` is the header's room followed by the payload, all of it: its size becomes
    // the length field.
    void emit(std::span<std::byte> datagram, Ipv4Address source, Ipv4Address destination) const;
    // Prepends the header to the payload in the frame; the checksum is left to the device
    // when the frame's pool says it completes them.
    void emit(platform::Frame& frame, Ipv4Address source, Ipv4Address destination) const;

    bool operator==(const UdpRepr&) const = default;

private:
    void emit_header(std::span<std::byte> datagram) const; // checksum 0
};

} // namespace sarab::net::wire
