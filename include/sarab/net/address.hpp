// Net layer: addresses shared by every protocol and by the application interface.
//
// Ipv4Address holds an address in network order, as it is on the wire, so that it can be
// copied in and out of headers without swapping; its accessors speak host numbers. Endpoint
// is an address and a port. Text forms parse strictly ("198.18.0.1", "198.18.0.0/24") and
// format the usual way; both are boot-argument types.
#pragma once

#include <sarab/base/boot_args.hpp>
#include <sarab/base/format.hpp>
#include <sarab/base/types.hpp>
#include <sarab/platform/platform.hpp>

#include <array>
#include <optional>
#include <string_view>

namespace sarab::net {

using MacAddress = platform::MacAddress;

inline constexpr MacAddress broadcast_mac { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

class Ipv4Address {
public:
    constexpr Ipv4Address() = default;
    constexpr Ipv4Address(u8 a, u8 b, u8 c, u8 d)
        : m_octets { a, b, c, d }
    {
    }
    static constexpr Ipv4Address from_host(u32 value)
    {
        return { u8(value >> 24), u8(value >> 16), u8(value >> 8), u8(value) };
    }
    static constexpr Ipv4Address any() { return {}; }
    static constexpr Ipv4Address broadcast() { return { 255, 255, 255, 255 }; }
    static constexpr Ipv4Address loopback() { return { 127, 0, 0, 1 }; }

    // "a.b.c.d" with each part 0-255 and no leading zeros (which some parsers read as octal).
    static std::optional<Ipv4Address> parse(std::string_view text);

    constexpr u32 to_host() const
    {
        return u32(m_octets[0]) << 24 | u32(m_octets[1]) << 16 | u32(m_octets[2]) << 8 | m_octets[3];
    }
    constexpr const std::array<u8, 4>& octets() const { return m_octets; }
    constexpr bool is_any() const { return to_host() == 0; }
    constexpr bool is_broadcast() const { return to_host() == 0xffffffff; }
    constexpr bool is_multicast() const { return (m_octets[0] & 0xf0) == 224; }
    constexpr bool is_loopback() const { return m_octets[0] == 127; }

    constexpr bool operator==(const Ipv4Address&) const = default;
    constexpr auto operator<=>(const Ipv4Address& o) const { return to_host() <=> o.to_host(); }

private:
    std::array<u8, 4> m_octets {};
};

// An address with a prefix length: the interface's own address and its subnet.
struct Ipv4Cidr {
    Ipv4Address address;
    u8 prefix = 0;

    static std::optional<Ipv4Cidr> parse(std::string_view text);
    constexpr u32 mask_host() const { return prefix == 0 ? 0 : ~u32(0) << (32 - prefix); }
    constexpr Ipv4Address network() const { return Ipv4Address::from_host(address.to_host() & mask_host()); }
    constexpr Ipv4Address subnet_broadcast() const { return Ipv4Address::from_host(address.to_host() | ~mask_host()); }
    constexpr bool contains(Ipv4Address a) const { return (a.to_host() & mask_host()) == (address.to_host() & mask_host()); }
    constexpr bool operator==(const Ipv4Cidr&) const = default;
};

struct Endpoint {
    Ipv4Address address;
    u16 port = 0;

    static std::optional<Endpoint> parse(std::string_view text); // "a.b.c.d:port"
    constexpr bool operator==(const Endpoint&) const = default;
};

void format_value(FormatBuffer&, const Ipv4Address&, const FormatSpec&);
void format_value(FormatBuffer&, const Ipv4Cidr&, const FormatSpec&);
void format_value(FormatBuffer&, const Endpoint&, const FormatSpec&);
// MAC addresses as 02:53:52:0a:0b:0c.
void format_mac(FormatBuffer&, const MacAddress&);

// Boot arguments of these types: BootArg<Ipv4Address>, BootArg<Ipv4Cidr>, BootArg<Endpoint>.
bool parse_boot_value(std::string_view, Ipv4Address&, FormatBuffer& error);
bool parse_boot_value(std::string_view, Ipv4Cidr&, FormatBuffer& error);
bool parse_boot_value(std::string_view, Endpoint&, FormatBuffer& error);
constexpr std::string_view boot_metavar(const Ipv4Address*) { return "ADDR"; }
constexpr std::string_view boot_metavar(const Ipv4Cidr*) { return "ADDR/PREFIX"; }
constexpr std::string_view boot_metavar(const Endpoint*) { return "ADDR:PORT"; }
inline void describe_boot_value(FormatBuffer& out, const Ipv4Address& a) { format_value(out, a, {}); }
inline void describe_boot_value(FormatBuffer& out, const Ipv4Cidr& c) { format_value(out, c, {}); }
inline void describe_boot_value(FormatBuffer& out, const Endpoint& e) { format_value(out, e, {}); }

} // namespace sarab::net
