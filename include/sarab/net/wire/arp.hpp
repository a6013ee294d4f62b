// ARP (RFC 826) packets; the repr covers Ethernet hardware and IPv4 protocol addresses only.
//
// ArpView::parse checks the 8-byte fixed part and then that the four addresses, whose
// lengths the packet itself states, fit in the bytes; the address accessors return spans of
// those stated lengths. ArpRepr::parse accepts only hardware type 1 (Ethernet), protocol
// type 0x0800 (IPv4) with lengths 6 and 4, and operations request and reply; anything else
// is unsupported. The padding of a minimum-size Ethernet frame after the packet is ignored.
#pragma once

#include <sarab/net/address.hpp>
#include <sarab/net/wire/byte_order.hpp>
#include <sarab/net/wire/error.hpp>
#include <sarab/platform/frame.hpp>

#include <span>

namespace sarab::net::wire {

enum class ArpOperation : u16 {
    request = 1,
    reply = 2,
};

inline constexpr u16 arp_hardware_ethernet = 1;

struct ArpHeader {
    NetworkOrdered<u16> hardware_type;
    NetworkOrdered<u16> protocol_type;
    u8 hardware_len;
    u8 protocol_len;
    NetworkOrdered<u16> operation;
};
static_assert(sizeof(ArpHeader) == 8);

// The whole packet for Ethernet and IPv4.
struct ArpEthernetIpv4Packet {
    ArpHeader header;
    MacAddress sender_hardware_address;
    Ipv4Address sender_protocol_address;
    MacAddress target_hardware_address;
    Ipv4Address target_protocol_address;
};
static_assert(sizeof(ArpEthernetIpv4Packet) == 28);

class ArpView {
public:
    static WireResult<ArpView> parse(std::span<const std::byte> bytes);

    u16 hardware_type() const { return header().hardware_type.get(); }
    u16 protocol_type() const { return header().protocol_type.get(); }
    u8 hardware_len() const { return header().hardware_len; }
    u8 protocol_len() const { return header().protocol_len; }
    u16 operation() const { return header().operation.get(); }
    std::span<const std::byte> sender_hardware_address() const { return address(0, hardware_len()); }
    std::span<const std::byte> sender_protocol_address() const { return address(hardware_len(), protocol_len()); }
    std::span<const std::byte> target_hardware_address() const { return address(hardware_len() + protocol_len(), hardware_len()); }
    std::span<const std::byte> target_protocol_address() const { return address(2 * hardware_len() + protocol_len(), protocol_len()); }
    // The header and the four addresses, without any padding after them.
    usize packet_len() const { return sizeof(ArpHeader) + 2 * (usize(hardware_len()) + protocol_len()); }
    std::span<const std::byte> bytes() const { return m_bytes; }

private:
    explicit ArpView(std::span<const std::byte> bytes)
        : m_bytes(bytes)
    {
    }
    ArpHeader header() const { return load_header<ArpHeader>(m_bytes); }
    std::span<const std::byte> address(usize offset, usize len) const { return m_bytes.subspan(sizeof(ArpHeader) + offset, len); }

    std::span<const std::byte> m_bytes;
};

struct ArpRepr {
    ArpOperation operation = ArpOperation::request;
    MacAddress sender_hardware_address {};
    Ipv4Address sender_protocol_address;
    MacAddress target_hardware_address {};
    Ipv4Address target_protocol_address;

    static WireResult<ArpRepr> parse(const ArpView&);

    static constexpr usize buffer_len() { return sizeof(ArpEthernetIpv4Packet); }
    void emit(std::span<std::byte> out) const;
    void emit(platform::Frame& frame) const { emit(frame.prepend(buffer_len())); }

    bool operator==(const ArpRepr&) const = default;
};

} // namespace sarab::net::wire
