// ICMPv4 messages (RFC 792): echo request and reply, destination unreachable (with the
// next-hop MTU of RFC 1191 when fragmentation was needed) and time exceeded.
//
// IcmpView::parse checks only that the 8-byte header is there: its bytes are the IPv4
// payload, already cut at the datagram's total length. IcmpRepr::parse verifies the
// checksum over the whole message and knows the four kinds above (others are unsupported).
// For an error it parses the quoted datagram as well: its header (checked like any IPv4
// header, except its checksum, which routers need not keep correct) becomes `original`, and
// the bytes quoted after it (normally the first 8 of the original payload, enough for the
// ports) become `data`. The spans in a repr point into the parsed bytes and live no longer;
// emit copies them with memmove, so a reply may be written over the request it answers.
#pragma once

#include <sarab/net/wire/byte_order.hpp>
#include <sarab/net/wire/checksum.hpp>
#include <sarab/net/wire/error.hpp>
#include <sarab/net/wire/ipv4.hpp>

#include <span>

namespace sarab::net::wire {

enum class IcmpType : u8 {
    echo_reply = 0,
    destination_unreachable = 3,
    echo_request = 8,
    time_exceeded = 11,
};

enum class UnreachableCode : u8 {
    network = 0,
    host = 1,
    protocol = 2,
    port = 3,
    fragmentation_needed = 4,
    source_route_failed = 5,
    network_prohibited = 9,
    host_prohibited = 10,
    communication_prohibited = 13,
};

enum class TimeExceededCode : u8 {
    ttl = 0,
    reassembly = 1,
};

struct IcmpHeader {
    u8 type;
    u8 code;
    NetworkOrdered<u16> checksum;
    // Echo: identifier, sequence number. Destination unreachable: unused, next-hop MTU.
    // Time exceeded: unused.
    NetworkOrdered<u16> rest[2];
};
static_assert(sizeof(IcmpHeader) == 8);

inline constexpr usize icmp_header_len = sizeof(IcmpHeader);

class IcmpView {
public:
    static WireResult<IcmpView> parse(std::span<const std::byte> bytes);

    u8 type() const { return header().type; }
    u8 code() const { return header().code; }
    u16 checksum() const { return header().checksum.get(); }
    u16 identifier() const { return header().rest[0].get(); }
    u16 sequence() const { return header().rest[1].get(); }
    u16 next_hop_mtu() const { return header().rest[1].get(); }
    // After the header: echo data, or the quoted datagram of an error.
    std::span<const std::byte> data() const { return m_bytes.subspan(icmp_header_len); }
    std::span<const std::byte> bytes() const { return m_bytes; }
    bool checksum_valid() const { return internet_checksum(m_bytes) == 0; }

private:
    explicit IcmpView(std::span<const std::byte> bytes)
        : m_bytes(bytes)
    {
    }
    IcmpHeader header() const { return load_header<IcmpHeader>(m_bytes); }

    std::span<const std::byte> m_bytes;
};

struct IcmpRepr {
    IcmpType type = IcmpType::echo_request;
    u8 code = 0;
    u16 identifier = 0;   // echo
    u16 sequence = 0;     // echo
    u16 next_hop_mtu = 0; // destination unreachable, fragmentation needed; else 0
    Ipv4Repr original;    // errors: the header of the datagram in question
    std::span<const std::byte> data; // echo: the data; errors: what follows the quoted header

    static IcmpRepr echo_request(u16 identifier, u16 sequence, std::span<const std::byte> data);
    static IcmpRepr echo_reply(u16 identifier, u16 sequence, std::span<const std::byte> data);
    // `original_payload` is what to quote of the payload: RFC 792 asks for its first 8 bytes.
    static IcmpRepr destination_unreachable(UnreachableCode, const Ipv4Repr& original,
        std::span<const std::byte> original_payload, u16 next_hop_mtu = 0);
    static IcmpRepr time_exceeded(TimeExceededCode, const Ipv4Repr& original, std::span<const std::byte> original_payload);

    static WireResult<IcmpRepr> parse(const IcmpView&, ChecksumCheck = ChecksumCheck::verify);

    bool is_error() const { return type == IcmpType::destination_unreachable || type == IcmpType::time_exceeded; }
    // The whole message: header, quoted header for an error, data.
    usize buffer_len() const { return icmp_header_len + (is_error() ? ipv4_header_len : 0) + data.size(); }
    void emit(std::span<std::byte> out) const;

    bool operator==(const IcmpRepr&) const;
};

} // namespace sarab::net::wire
