#include <sarab/net/address.hpp>

#include <charconv>

namespace sarab::net {

namespace {

// A decimal number 0..max with no sign, no leading zero (unless it is 0) and no excess.
std::optional<u32> parse_decimal(std::string_view text, u32 max)
{
    if (text.empty() || text.size() > 10 || (text.size() > 1 && text[0] == '0'))
        return std::nullopt;
    u32 value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc {} || end != text.data() + text.size() || value > max)
        return std::nullopt;
    return value;
}

} // namespace

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text)
{
    std::array<u8, 4> octets {};
    for (usize i = 0; i < 4; ++i) {
        usize dot = text.find('.');
        if ((i < 3) != (dot != std::string_view::npos))
            return std::nullopt;
        auto part = parse_decimal(text.substr(0, dot), 255);
        if (!part)
            return std::nullopt;
        octets[i] = u8(*part);
        text = i < 3 ? text.substr(dot + 1) : std::string_view {};
    }
    return Ipv4Address(octets[0], octets[1], octets[2], octets[3]);
}

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view text)
{
    usize slash = text.find('/');
    if (slash == std::string_view::npos)
        return std::nullopt;
    auto address = Ipv4Address::parse(text.substr(0, slash));
    auto prefix = parse_decimal(text.substr(slash + 1), 32);
    if (!address || !prefix)
        return std::nullopt;
    return Ipv4Cidr { *address, u8(*prefix) };
}

std::optional<Endpoint> Endpoint::parse(std::string_view text)
{
    usize colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return std::nullopt;
    auto address = Ipv4Address::parse(text.substr(0, colon));
    auto port = parse_decimal(text.substr(colon + 1), 65535);
    if (!address || !port)
        return std::nullopt;
    return Endpoint { *address, u16(*port) };
}

void format_value(FormatBuffer& out, const Ipv4Address& a, const FormatSpec& spec)
{
    InlineFormatBuffer<16> text;
    format_to(text, "{}.{}.{}.{}", a.octets()[0], a.octets()[1], a.octets()[2], a.octets()[3]);
    out.append_padded(text.view(), spec);
}

void format_value(FormatBuffer& out, const Ipv4Cidr& c, const FormatSpec& spec)
{
    InlineFormatBuffer<20> text;
    format_to(text, "{}/{}", c.address, c.prefix);
    out.append_padded(text.view(), spec);
}

void format_value(FormatBuffer& out, const Endpoint& e, const FormatSpec& spec)
{
    InlineFormatBuffer<24> text;
    format_to(text, "{}:{}", e.address, e.port);
    out.append_padded(text.view(), spec);
}

void format_mac(FormatBuffer& out, const MacAddress& m)
{
    format_to(out, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

bool parse_boot_value(std::string_view text, Ipv4Address& out, FormatBuffer& error)
{
    auto a = Ipv4Address::parse(text);
    if (!a) {
        format_to(error, "'{}' is not an IPv4 address (a.b.c.d)", text);
        return false;
    }
    out = *a;
    return true;
}

bool parse_boot_value(std::string_view text, Ipv4Cidr& out, FormatBuffer& error)
{
    auto c = Ipv4Cidr::parse(text);
    if (!c) {
        format_to(error, "'{}' is not an IPv4 address with a prefix (a.b.c.d/n)", text);
        return false;
    }
    out = *c;
    return true;
}

bool parse_boot_value(std::string_view text, Endpoint& out, FormatBuffer& error)
{
    auto e = Endpoint::parse(text);
    if (!e) {
        format_to(error, "'{}' is not an IPv4 address and port (a.b.c.d:port)", text);
        return false;
    }
    out = *e;
    return true;
}

} // namespace sarab::net
