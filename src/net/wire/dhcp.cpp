#include <sarab/net/wire/dhcp.hpp>

#include "writer.hpp"

#include <algorithm>

namespace sarab::net::wire {

namespace {

Ipv4Address read_address(std::span<const std::byte> bytes, usize offset)
{
    return Ipv4Address::from_host(read_be32(bytes, offset));
}

// An option whose value is one address or one 32-bit number.
bool is_four_bytes(const DhcpOption& option) { return option.value.size() == 4; }

// An option whose value is a list of one or more addresses.
bool read_address_list(const DhcpOption& option, DhcpAddressList& list)
{
    if (option.value.empty() || option.value.size() % 4 != 0)
        return false;
    list.clear();
    for (usize at = 0; at < option.value.size(); at += 4)
        if (!list.push(read_address(option.value, at)))
            break;
    return true;
}

} // namespace

WireResult<std::optional<DhcpOption>> DhcpOptionReader::next()
{
    while (!m_rest.empty()) {
        u8 code = u8(m_rest[0]);
        if (code == u8(DhcpOptionCode::pad)) {
            m_rest = m_rest.subspan(1);
            continue;
        }
        if (code == u8(DhcpOptionCode::end)) {
            m_rest = {};
            break;
        }
        if (m_rest.size() < 2)
            return failure(WireError::bad_option);
        usize length = u8(m_rest[1]);
        if (length > m_rest.size() - 2)
            return failure(WireError::bad_option);
        DhcpOption option { code, m_rest.subspan(2, length) };
        m_rest = m_rest.subspan(2 + length);
        return std::optional<DhcpOption>(option);
    }
    return std::optional<DhcpOption>();
}

WireResult<DhcpView> DhcpView::parse(std::span<const std::byte> bytes)
{
    if (bytes.size() < dhcp_header_len)
        return failure(WireError::truncated);
    DhcpView view(bytes);
    if (view.header().magic_cookie.get() != dhcp_magic_cookie)
        return failure(WireError::bad_magic);
    auto reader = view.option_reader();
    while (TRY(reader.next()))
        ;
    return view;
}

bool DhcpAddressList::operator==(const DhcpAddressList& other) const
{
    auto a = addresses();
    auto b = other.addresses();
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

WireResult<DhcpRepr> DhcpRepr::parse(const DhcpView& view)
{
    if (view.operation() != u8(DhcpOperation::request) && view.operation() != u8(DhcpOperation::reply))
        return failure(WireError::malformed);
    if (view.hardware_type() != 1 || view.hardware_len() != 6)
        return failure(WireError::unsupported);

    DhcpRepr repr;
    repr.operation = DhcpOperation(view.operation());
    repr.transaction_id = view.transaction_id();
    repr.seconds = view.seconds();
    repr.broadcast = (view.flags() & dhcp_flag_broadcast) != 0;
    repr.hops = view.hops();
    auto chaddr = view.client_hardware_address();
    std::copy_n(chaddr.begin(), repr.client_hardware_address.size(), repr.client_hardware_address.begin());
    repr.client_ip = view.client_ip();
    repr.your_ip = view.your_ip();
    repr.server_ip = view.server_ip();
    repr.relay_ip = view.relay_ip();

    bool has_message_type = false;
    auto reader = view.option_reader();
    while (auto option = TRY(reader.next())) {
        auto value = option->value;
        bool ok = true;
        switch (option->code) {
        case u8(DhcpOptionCode::message_type):
            ok = value.size() == 1;
            if (!ok)
                break;
            if (read_u8(value, 0) < u8(DhcpMessageType::discover) || read_u8(value, 0) > u8(DhcpMessageType::inform))
                return failure(WireError::unsupported);
            repr.message_type = DhcpMessageType(read_u8(value, 0));
            has_message_type = true;
            break;
        case u8(DhcpOptionCode::subnet_mask):
            if ((ok = is_four_bytes(*option)))
                repr.subnet_mask = read_address(value, 0);
            break;
        case u8(DhcpOptionCode::router):
            ok = read_address_list(*option, repr.routers);
            break;
        case u8(DhcpOptionCode::dns_server):
            ok = read_address_list(*option, repr.dns_servers);
            break;
        case u8(DhcpOptionCode::lease_time):
            if ((ok = is_four_bytes(*option)))
                repr.lease_time = read_be32(value, 0);
            break;
        case u8(DhcpOptionCode::renewal_time):
            if ((ok = is_four_bytes(*option)))
                repr.renewal_time = read_be32(value, 0);
            break;
        case u8(DhcpOptionCode::rebinding_time):
            if ((ok = is_four_bytes(*option)))
                repr.rebinding_time = read_be32(value, 0);
            break;
        case u8(DhcpOptionCode::server_identifier):
            if ((ok = is_four_bytes(*option)))
                repr.server_identifier = read_address(value, 0);
            break;
        case u8(DhcpOptionCode::requested_ip):
            if ((ok = is_four_bytes(*option)))
                repr.requested_ip = read_address(value, 0);
            break;
        case u8(DhcpOptionCode::parameter_request_list):
            ok = !value.empty();
            repr.parameter_request_list = value;
            break;
        case u8(DhcpOptionCode::client_identifier):
            ok = value.size() >= 2; // a type and at least one byte of identifier
            repr.client_identifier = value;
            break;
        case u8(DhcpOptionCode::host_name):
            ok = !value.empty();
            repr.host_name = value;
            break;
        default:
            break; // unknown: skipped
        }
        if (!ok)
            return failure(WireError::bad_option);
    }
    if (!has_message_type)
        return failure(WireError::unsupported); // BOOTP, not DHCP
    return repr;
}

namespace {

void write_options(const DhcpRepr& repr, detail::ByteWriter& out)
{
    auto code_len = [&](DhcpOptionCode code, usize len) {
        VERIFY(len <= 255, "DHCP option longer than 255 bytes");
        out.put8(u8(code));
        out.put8(u8(len));
    };
    auto address = [&](DhcpOptionCode code, const std::optional<Ipv4Address>& a) {
        if (a) {
            code_len(code, 4);
            out.put32(a->to_host());
        }
    };
    auto number = [&](DhcpOptionCode code, const std::optional<u32>& n) {
        if (n) {
            code_len(code, 4);
            out.put32(*n);
        }
    };
    auto list = [&](DhcpOptionCode code, const DhcpAddressList& l) {
        if (l.empty())
            return;
        code_len(code, 4 * l.size());
        for (auto a : l.addresses())
            out.put32(a.to_host());
    };
    auto bytes = [&](DhcpOptionCode code, std::span<const std::byte> b) {
        if (b.empty())
            return;
        code_len(code, b.size());
        out.put(b);
    };

    code_len(DhcpOptionCode::message_type, 1);
    out.put8(u8(repr.message_type));
    bytes(DhcpOptionCode::client_identifier, repr.client_identifier);
    address(DhcpOptionCode::requested_ip, repr.requested_ip);
    address(DhcpOptionCode::server_identifier, repr.server_identifier);
    number(DhcpOptionCode::lease_time, repr.lease_time);
    number(DhcpOptionCode::renewal_time, repr.renewal_time);
    number(DhcpOptionCode::rebinding_time, repr.rebinding_time);
    address(DhcpOptionCode::subnet_mask, repr.subnet_mask);
    list(DhcpOptionCode::router, repr.routers);
    list(DhcpOptionCode::dns_server, repr.dns_servers);
    bytes(DhcpOptionCode::host_name, repr.host_name);
    bytes(DhcpOptionCode::parameter_request_list, repr.parameter_request_list);
    out.put8(u8(DhcpOptionCode::end));
}

usize options_len(const DhcpRepr& repr)
{
    detail::ByteWriter measure;
    write_options(repr, measure);
    return measure.size();
}

} // namespace

usize DhcpRepr::buffer_len() const { return std::max(dhcp_min_message_len, dhcp_header_len + options_len(*this)); }

void DhcpRepr::emit(std::span<std::byte> out) const
{
    VERIFY(client_identifier.empty() || client_identifier.size() >= 2, "DHCP client identifier without a type");
    usize len = buffer_len();
    VERIFY(out.size() >= len, "DHCP message does not fit");
    out = out.first(len);
    DhcpHeader header {};
    header.operation = u8(operation);
    header.hardware_type = 1;
    header.hardware_len = 6;
    header.hops = hops;
    header.transaction_id = transaction_id;
    header.seconds = seconds;
    header.flags = broadcast ? dhcp_flag_broadcast : 0;
    header.client_ip = client_ip;
    header.your_ip = your_ip;
    header.server_ip = server_ip;
    header.relay_ip = relay_ip;
    std::copy(client_hardware_address.begin(), client_hardware_address.end(), header.client_hardware_address.begin());
    header.magic_cookie = dhcp_magic_cookie;
    store_header(out, header);
    detail::ByteWriter options(out.subspan(dhcp_header_len));
    write_options(*this, options);
    std::fill(out.begin() + std::ptrdiff_t(dhcp_header_len + options.size()), out.end(), std::byte(0));
}

bool DhcpRepr::operator==(const DhcpRepr& o) const
{
    return operation == o.operation && message_type == o.message_type && transaction_id == o.transaction_id
        && seconds == o.seconds && broadcast == o.broadcast && hops == o.hops
        && client_hardware_address == o.client_hardware_address && client_ip == o.client_ip && your_ip == o.your_ip
        && server_ip == o.server_ip && relay_ip == o.relay_ip && subnet_mask == o.subnet_mask && routers == o.routers
        && dns_servers == o.dns_servers && lease_time == o.lease_time && renewal_time == o.renewal_time
        && rebinding_time == o.rebinding_time && server_identifier == o.server_identifier
        && requested_ip == o.requested_ip && bytes_equal(parameter_request_list, o.parameter_request_list)
        && bytes_equal(client_identifier, o.client_identifier) && bytes_equal(host_name, o.host_name);
}

} // namespace sarab::net::wire
