// DHCP messages (RFC 2131) with the options of RFC 2132 that a client needs.
//
// DhcpView::parse checks the 236-byte BOOTP part, the magic cookie after it (bad_magic if it
// is not 99.130.83.99) and the framing of the option list: pad and end are single bytes, and
// every other option's length stays inside the message. A list that runs to the end of the
// bytes without an end option is accepted. The sname and file fields are not read (option
// overload is not supported). DhcpRepr::parse requires a BOOTREQUEST or BOOTREPLY with an
// Ethernet hardware address and a DHCP message type (plain BOOTP is unsupported), and checks
// the length of every option it knows (bad_option); unknown options are skipped, and a
// repeated option counts as its last instance. Router and DNS server lists keep their first
// dhcp_max_addresses entries. The spans in a repr point into the parsed bytes.
//
// emit writes the message, then the options in a fixed order ending with an end option, and
// pads it with zeros to the 300 bytes that BOOTP relays and old servers expect (RFC 1542).
#pragma once

#include <sarab/net/address.hpp>
#include <sarab/net/wire/byte_order.hpp>
#include <sarab/net/wire/error.hpp>

#include <array>
#include <optional>
#include <span>

namespace sarab::net::wire {

inline constexpr u16 dhcp_server_port = 67;
inline constexpr u16 dhcp_client_port = 68;
inline constexpr u32 dhcp_magic_cookie = 0x63825363;
inline constexpr u16 dhcp_flag_broadcast = 0x8000;
inline constexpr usize dhcp_min_message_len = 300;
inline constexpr usize dhcp_max_addresses = 4;

struct DhcpHeader {
    u8 operation;
    u8 hardware_type;
    u8 hardware_len;
    u8 hops;
    NetworkOrdered<u32> transaction_id;
    NetworkOrdered<u16> seconds;
    NetworkOrdered<u16> flags;
    Ipv4Address client_ip; // ciaddr
    Ipv4Address your_ip;   // yiaddr
    Ipv4Address server_ip; // siaddr
    Ipv4Address relay_ip;  // giaddr
    std::array<u8, 16> client_hardware_address;
    std::array<u8, 64> server_name;
    std::array<u8, 128> boot_file;
    NetworkOrdered<u32> magic_cookie;
};
static_assert(sizeof(DhcpHeader) == 240);

inline constexpr usize dhcp_header_len = sizeof(DhcpHeader);

enum class DhcpOperation : u8 {
    request = 1, // BOOTREQUEST
    reply = 2,   // BOOTREPLY
};

enum class DhcpMessageType : u8 {
    discover = 1,
    offer = 2,
    request = 3,
    decline = 4,
    ack = 5,
    nak = 6,
    release = 7,
    inform = 8,
};

enum class DhcpOptionCode : u8 {
    pad = 0,
    subnet_mask = 1,
    router = 3,
    dns_server = 6,
    host_name = 12,
    requested_ip = 50,
    lease_time = 51,
    message_type = 53,
    server_identifier = 54,
    parameter_request_list = 55,
    renewal_time = 58,
    rebinding_time = 59,
    client_identifier = 61,
    end = 255,
};

struct DhcpOption {
    u8 code;
    std::span<const std::byte> value;
};

// Walks an option list, skipping pads; stops at an end option or the end of the bytes.
// Framing errors are bad_option (after DhcpView::parse there are none).
class DhcpOptionReader {
public:
    explicit DhcpOptionReader(std::span<const std::byte> options)
        : m_rest(options)
    {
    }
    WireResult<std::optional<DhcpOption>> next();

private:
    std::span<const std::byte> m_rest;
};

class DhcpView {
public:
    static WireResult<DhcpView> parse(std::span<const std::byte> bytes);

    u8 operation() const { return header().operation; }
    u8 hardware_type() const { return header().hardware_type; }
    u8 hardware_len() const { return header().hardware_len; }
    u8 hops() const { return header().hops; }
    u32 transaction_id() const { return header().transaction_id.get(); }
    u16 seconds() const { return header().seconds.get(); }
    u16 flags() const { return header().flags.get(); }
    Ipv4Address client_ip() const { return header().client_ip; }
    Ipv4Address your_ip() const { return header().your_ip; }
    Ipv4Address server_ip() const { return header().server_ip; }
    Ipv4Address relay_ip() const { return header().relay_ip; }
    std::array<u8, 16> client_hardware_address() const { return header().client_hardware_address; }
    std::span<const std::byte> options() const { return m_bytes.subspan(dhcp_header_len); }
    DhcpOptionReader option_reader() const { return DhcpOptionReader(options()); }

private:
    explicit DhcpView(std::span<const std::byte> bytes)
        : m_bytes(bytes)
    {
    }
    DhcpHeader header() const { return load_header<DhcpHeader>(m_bytes); }

    std::span<const std::byte> m_bytes;
};

// Up to dhcp_max_addresses addresses, in the order the option gave them.
class DhcpAddressList {
public:
    void clear() { m_count = 0; }
    bool push(Ipv4Address address)
    {
        if (m_count == m_addresses.size())
            return false;
        m_addresses[m_count++] = address;
        return true;
    }
    std::span<const Ipv4Address> addresses() const { return std::span(m_addresses).first(m_count); }
    bool empty() const { return m_count == 0; }
    usize size() const { return m_count; }
    bool operator==(const DhcpAddressList& other) const;

private:
    std::array<Ipv4Address, dhcp_max_addresses> m_addresses {};
    u8 m_count = 0;
};

struct DhcpRepr {
    DhcpOperation operation = DhcpOperation::request;
    DhcpMessageType message_type = DhcpMessageType::discover;
    u32 transaction_id = 0;
    u16 seconds = 0;
    bool broadcast = false; // ask the server to broadcast its reply
    u8 hops = 0;
    MacAddress client_hardware_address {};
    Ipv4Address client_ip;
    Ipv4Address your_ip;
    Ipv4Address server_ip;
    Ipv4Address relay_ip;

    std::optional<Ipv4Address> subnet_mask;
    DhcpAddressList routers;
    DhcpAddressList dns_servers;
    std::optional<u32> lease_time;     // seconds
    std::optional<u32> renewal_time;   // T1, seconds
    std::optional<u32> rebinding_time; // T2, seconds
    std::optional<Ipv4Address> server_identifier;
    std::optional<Ipv4Address> requested_ip;
    std::span<const std::byte> parameter_request_list; // option codes; empty when absent
    std::span<const std::byte> client_identifier;      // type and identifier; empty when absent
    std::span<const std::byte> host_name;              // empty when absent

    static WireResult<DhcpRepr> parse(const DhcpView&);

    usize buffer_len() const;
    void emit(std::span<std::byte> out) const;

    bool operator==(const DhcpRepr&) const;
};

} // namespace sarab::net::wire
