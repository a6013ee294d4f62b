// IPv4 headers (RFC 791).
//
// Ipv4View::parse checks a whole datagram: at least 20 bytes, a header length of at least 20
// that fits, and a total length between the header length and the bytes there are. Bytes
// after the total length (Ethernet padding) are not part of the payload. parse_quoted checks
// the datagram an ICMP error quotes, which is cut short on purpose: there the payload is
// whatever is present, up to the total length. Options are never interpreted: options()
// shows them and everything above skips them.
//
// Ipv4Repr::parse requires version 4 and a correct header checksum, and refuses a fragment
// that would end beyond 65535 bytes (a reassembly buffer must never be asked for more). The
// repr emits a 20-byte header without options and with a fresh checksum; its payload is not
// part of it (payload_len says how long it is).
#pragma once

#include <sarab/net/address.hpp>
#include <sarab/net/wire/byte_order.hpp>
#include <sarab/net/wire/checksum.hpp>
#include <sarab/net/wire/error.hpp>
#include <sarab/platform/frame.hpp>

#include <span>

namespace sarab::net::wire {

enum class IpProtocol : u8 {
    icmp = 1,
    tcp = 6,
    udp = 17,
};

struct Ipv4Header {
    u8 version_ihl; // version (4 bits), header length in 32-bit words (4)
    u8 dscp_ecn;
    NetworkOrdered<u16> total_length;
    NetworkOrdered<u16> identification;
    NetworkOrdered<u16> flags_fragment; // reserved, DF, MF (3 bits), offset in 8-byte units (13)
    u8 ttl;
    u8 protocol;
    NetworkOrdered<u16> checksum;
    Ipv4Address source;
    Ipv4Address destination;
};
static_assert(sizeof(Ipv4Header) == 20);

inline constexpr usize ipv4_header_len = sizeof(Ipv4Header);
inline constexpr usize ipv4_max_header_len = 60;
inline constexpr usize ipv4_max_datagram_len = 65535;
inline constexpr u16 ipv4_flag_dont_fragment = 0x4000;
inline constexpr u16 ipv4_flag_more_fragments = 0x2000;
inline constexpr u16 ipv4_fragment_offset_mask = 0x1fff;

class Ipv4View {
public:
    static WireResult<Ipv4View> parse(std::span<const std::byte> bytes);
    static WireResult<Ipv4View> parse_quoted(std::span<const std::byte> bytes);

    u8 version() const { return header().version_ihl >> 4; }
    usize header_len() const { return usize(header().version_ihl & 0x0f) * 4; }
    u8 dscp() const { return header().dscp_ecn >> 2; }
    u8 ecn() const { return header().dscp_ecn & 0x03; }
    u16 total_length() const { return header().total_length.get(); }
    u16 identification() const { return header().identification.get(); }
    bool dont_fragment() const { return (header().flags_fragment.get() & ipv4_flag_dont_fragment) != 0; }
    bool more_fragments() const { return (header().flags_fragment.get() & ipv4_flag_more_fragments) != 0; }
    // In bytes from the start of the original payload.
    u16 fragment_offset() const { return u16((header().flags_fragment.get() & ipv4_fragment_offset_mask) * 8); }
    u8 ttl() const { return header().ttl; }
    u8 protocol() const { return header().protocol; }
    u16 checksum() const { return header().checksum.get(); }
    Ipv4Address source() const { return header().source; }
    Ipv4Address destination() const { return header().destination; }

    std::span<const std::byte> header_bytes() const { return m_bytes.first(header_len()); }
    std::span<const std::byte> options() const { return m_bytes.subspan(ipv4_header_len, header_len() - ipv4_header_len); }
    std::span<const std::byte> payload() const { return m_bytes.subspan(header_len()); }
    bool checksum_valid() const { return internet_checksum(header_bytes()) == 0; }

private:
    explicit Ipv4View(std::span<const std::byte> bytes)
        : m_bytes(bytes)
    {
    }
    Ipv4Header header() const { return load_header<Ipv4Header>(m_bytes); }

    std::span<const std::byte> m_bytes; // header and payload, cut at the total length
};

struct Ipv4Repr {
    Ipv4Address source;
    Ipv4Address destination;
    IpProtocol protocol = IpProtocol::udp;
    u8 ttl = 64;
    u8 dscp = 0;
    u8 ecn = 0;
    u16 identification = 0;
    bool dont_fragment = false;
    bool more_fragments = false;
    u16 fragment_offset = 0; // bytes; a multiple of 8
    u16 payload_len = 0;

    static WireResult<Ipv4Repr> parse(const Ipv4View&, ChecksumCheck = ChecksumCheck::verify);

    static constexpr usize buffer_len() { return ipv4_header_len; }
    // Writes the header, checksum included, into the first 20 bytes of `out`.
    void emit(std::span<std::byte> out) const;
    // Prepends the header to the payload in the frame, which must be payload_len long.
    void emit(platform::Frame& frame) const;

    bool operator==(const Ipv4Repr&) const = default;
};

} // namespace sarab::net::wire
