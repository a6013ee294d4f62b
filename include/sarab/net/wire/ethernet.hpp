// Ethernet II frames, with at most one IEEE 802.1Q tag.
//
// EthernetView::parse checks that the bytes hold the destination, source and EtherType (14
// bytes), and the tag and inner EtherType when the outer type is 0x8100 (18 bytes). The
// frame check sequence is not part of the bytes (no device here delivers it), and neither
// is the padding question: the payload is everything after the header, and the protocol
// above finds its own end from its length field. EthernetRepr::parse refuses IEEE 802.3
// frames (a length where the type should be) and stacked tags as unsupported.
#pragma once

#include <sarab/net/address.hpp>
#include <sarab/net/wire/byte_order.hpp>
#include <sarab/net/wire/error.hpp>
#include <sarab/platform/frame.hpp>

#include <optional>
#include <span>

namespace sarab::net::wire {

enum class EtherType : u16 {
    ipv4 = 0x0800,
    arp = 0x0806,
    vlan = 0x8100, // IEEE 802.1Q
    ipv6 = 0x86dd,
};

struct EthernetHeader {
    MacAddress destination;
    MacAddress source;
    NetworkOrdered<u16> ethertype;
};
static_assert(sizeof(EthernetHeader) == 14);

struct VlanHeader {
    NetworkOrdered<u16> tci; // priority (3 bits), drop eligible (1), VLAN id (12)
    NetworkOrdered<u16> ethertype;
};
static_assert(sizeof(VlanHeader) == 4);

inline constexpr usize ethernet_header_len = sizeof(EthernetHeader);
inline constexpr usize ethernet_vlan_header_len = sizeof(EthernetHeader) + sizeof(VlanHeader);
// Values below this in the type field are IEEE 802.3 lengths, not EtherTypes.
inline constexpr u16 ethertype_min = 0x0600;

struct VlanTag {
    u8 priority = 0; // 0-7
    bool drop_eligible = false;
    u16 id = 0; // 0-4095
    constexpr bool operator==(const VlanTag&) const = default;
};

class EthernetView {
public:
    static WireResult<EthernetView> parse(std::span<const std::byte> bytes);

    MacAddress destination() const { return header().destination; }
    MacAddress source() const { return header().source; }
    // The type of the payload: the inner type of a tagged frame.
    EtherType ethertype() const;
    std::optional<VlanTag> vlan() const;
    usize header_len() const { return m_header_len; }
    std::span<const std::byte> payload() const { return m_bytes.subspan(m_header_len); }
    std::span<const std::byte> bytes() const { return m_bytes; }

private:
    EthernetView(std::span<const std::byte> bytes, usize header_len)
        : m_bytes(bytes)
        , m_header_len(header_len)
    {
    }
    EthernetHeader header() const { return load_header<EthernetHeader>(m_bytes); }

    std::span<const std::byte> m_bytes;
    usize m_header_len;
};

struct EthernetRepr {
    MacAddress source {};
    MacAddress destination {};
    EtherType ethertype = EtherType::ipv4;
    std::optional<VlanTag> vlan;

    static WireResult<EthernetRepr> parse(const EthernetView&);

    usize buffer_len() const { return vlan ? ethernet_vlan_header_len : ethernet_header_len; }
    // Writes the header into the first buffer_len() bytes of `out`.
    void emit(std::span<std::byte> out) const;
    // Prepends the header to the payload already in the frame.
    void emit(platform::Frame& frame) const { emit(frame.prepend(buffer_len())); }

    bool operator==(const EthernetRepr&) const = default;
};

} // namespace sarab::net::wire
