#include <sarab/services/dns/rdata.hpp>
#include <sarab/services/dns/wire.hpp>

namespace sarab::dns {

const char* error_name(RdataError e)
{
    switch (e) {
    case RdataError::missing_field: return "missing field";
    case RdataError::extra_field: return "unexpected field";
    case RdataError::bad_number: return "bad number";
    case RdataError::bad_ipv4: return "bad IPv4 address";
    case RdataError::bad_ipv6: return "bad IPv6 address";
    case RdataError::bad_name: return "bad domain name";
    case RdataError::bad_string: return "bad character-string";
    case RdataError::bad_generic: return "bad \\# data";
    case RdataError::bad_layout: return "RDATA not valid for its type";
    case RdataError::bad_tag: return "bad CAA tag";
    case RdataError::unsupported: return "type has no text form here; use \\# LENGTH HEX";
    }
    return "RDATA error";
}

namespace {

struct TypeName {
    u16 type;
    const char* name;
};

constexpr TypeName type_names[] = {
    { 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" }, { 12, "PTR" }, { 13, "HINFO" },
    { 15, "MX" }, { 16, "TXT" }, { 28, "AAAA" }, { 33, "SRV" }, { 41, "OPT" }, { 43, "DS" },
    { 46, "RRSIG" }, { 47, "NSEC" }, { 48, "DNSKEY" }, { 50, "NSEC3" }, { 251, "IXFR" },
    { 252, "AXFR" }, { 255, "ANY" }, { 257, "CAA" },
};

bool iequal(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (usize i = 0; i < a.size(); ++i) {
        if (ascii_lower(u8(a[i])) != ascii_lower(u8(b[i])))
            return false;
    }
    return true;
}

bool istarts(std::string_view text, std::string_view prefix)
{
    return text.size() >= prefix.size() && iequal(text.substr(0, prefix.size()), prefix);
}

template<class T>
std::optional<T> parse_decimal(std::string_view text, u64 max)
{
    if (text.empty() || text.size() > 20)
        return std::nullopt;
    u64 v = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        v = v * 10 + u64(c - '0');
        if (v > max)
            return std::nullopt;
    }
    return T(v);
}

void put_u16(std::vector<u8>& out, u16 v)
{
    out.push_back(u8(v >> 8));
    out.push_back(u8(v));
}

void put_u32(std::vector<u8>& out, u32 v)
{
    put_u16(out, u16(v >> 16));
    put_u16(out, u16(v));
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::optional<std::array<u8, 4>> parse_ipv4(std::string_view text)
{
    std::array<u8, 4> out {};
    usize part = 0;
    usize at = 0;
    while (part < 4) {
        usize end = text.find('.', at);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view digits = text.substr(at, end - at);
        if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0'))
            return std::nullopt;
        auto v = parse_decimal<u8>(digits, 255);
        if (!v)
            return std::nullopt;
        out[part++] = *v;
        if (end == text.size())
            break;
        at = end + 1;
    }
    if (part != 4 || at > text.size() || text.find('.', at) != std::string_view::npos)
        return std::nullopt;
    return out;
}

std::optional<std::array<u8, 16>> parse_ipv6(std::string_view text)
{
    std::array<u16, 8> groups {};
    usize count = 0;
    int gap = -1; // index in groups where "::" stands
    usize at = 0;
    if (text.starts_with("::")) {
        gap = 0;
        at = 2;
        if (at == text.size())
            return std::array<u8, 16> {};
    } else if (text.starts_with(":")) {
        return std::nullopt;
    }
    while (at < text.size()) {
        usize end = text.find(':', at);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view piece = text.substr(at, end - at);
        if (piece.find('.') != std::string_view::npos) {
            // An IPv4 address in the last 32 bits.
            if (end != text.size() || count > 6)
                return std::nullopt;
            auto v4 = parse_ipv4(piece);
            if (!v4)
                return std::nullopt;
            groups[count++] = u16((*v4)[0] << 8 | (*v4)[1]);
            groups[count++] = u16((*v4)[2] << 8 | (*v4)[3]);
            at = end;
            break;
        }
        if (piece.empty() || piece.size() > 4 || count == 8)
            return std::nullopt;
        u16 v = 0;
        for (char c : piece) {
            int h = hex_value(c);
            if (h < 0)
                return std::nullopt;
            v = u16(v << 4 | h);
        }
        groups[count++] = v;
        if (end == text.size()) {
            at = end;
            break;
        }
        at = end + 1;
        if (at < text.size() && text[at] == ':') {
            if (gap >= 0)
                return std::nullopt;
            gap = int(count);
            ++at;
        } else if (at == text.size()) {
            return std::nullopt; // a single trailing ':'
        }
    }
    std::array<u16, 8> full {};
    if (gap < 0) {
        if (count != 8)
            return std::nullopt;
        full = groups;
    } else {
        if (count > 7)
            return std::nullopt;
        usize tail = count - usize(gap);
        for (usize i = 0; i < usize(gap); ++i)
            full[i] = groups[i];
        for (usize i = 0; i < tail; ++i)
            full[8 - tail + i] = groups[usize(gap) + i];
    }
    std::array<u8, 16> out {};
    for (usize i = 0; i < 8; ++i) {
        out[2 * i] = u8(full[i] >> 8);
        out[2 * i + 1] = u8(full[i]);
    }
    return out;
}

// Resolves the escapes of a character-string and appends it with its length byte.
bool put_string(std::vector<u8>& out, std::string_view text)
{
    usize length_at = out.size();
    out.push_back(0);
    usize length = 0;
    for (usize i = 0; i < text.size(); ++i) {
        u8 c = u8(text[i]);
        if (c == '\\') {
            if (i + 1 >= text.size())
                return false;
            char d = text[i + 1];
            if (d >= '0' && d <= '9') {
                if (i + 3 >= text.size())
                    return false;
                auto v = parse_decimal<u16>(text.substr(i + 1, 3), 255);
                if (!v)
                    return false;
                c = u8(*v);
                i += 3;
            } else {
                c = u8(d);
                i += 1;
            }
        }
        if (++length > 255)
            return false;
        out.push_back(c);
    }
    out[length_at] = u8(length);
    return true;
}

bool put_name(std::vector<u8>& out, const Token& field, const Name& origin)
{
    auto name = Name::parse(field.text, &origin);
    if (!name)
        return false;
    auto wire = name->wire();
    out.insert(out.end(), wire.begin(), wire.end());
    return true;
}

// RFC 8659 4.1.1: a CAA tag is 1 to 15 letters and digits.
bool caa_tag_valid(std::string_view tag)
{
    if (tag.empty() || tag.size() > 15)
        return false;
    for (char c : tag) {
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum)
            return false;
    }
    return true;
}

// Length of the uncompressed name at the start of `data`, or 0 if there is none.
usize name_length(std::span<const u8> data)
{
    usize at = 0;
    while (at < data.size() && at < max_name_length) {
        u8 len = data[at];
        if (len > max_label_length)
            return 0;
        at += 1 + usize(len);
        if (len == 0)
            return at <= max_name_length ? at : 0;
    }
    return 0;
}

} // namespace

std::optional<u16> type_from_text(std::string_view text)
{
    for (const auto& t : type_names) {
        if (iequal(text, t.name))
            return t.type;
    }
    if (istarts(text, "TYPE") && text.size() > 4)
        return parse_decimal<u16>(text.substr(4), 65535);
    return std::nullopt;
}

void format_type(FormatBuffer& out, u16 type)
{
    for (const auto& t : type_names) {
        if (t.type == type) {
            out.append(t.name);
            return;
        }
    }
    format_to(out, "TYPE{}", type);
}

std::optional<u16> class_from_text(std::string_view text)
{
    if (iequal(text, "IN"))
        return u16(1);
    if (iequal(text, "CH"))
        return u16(3);
    if (iequal(text, "HS"))
        return u16(4);
    if (istarts(text, "CLASS") && text.size() > 5)
        return parse_decimal<u16>(text.substr(5), 65535);
    return std::nullopt;
}

std::optional<u32> parse_ttl(std::string_view text)
{
    if (text.empty())
        return std::nullopt;
    u64 total = 0;
    u64 number = 0;
    bool have_digits = false;
    bool had_unit = false;
    for (char c : text) {
        if (c >= '0' && c <= '9') {
            number = number * 10 + u64(c - '0');
            if (number > 0x7fffffff)
                return std::nullopt;
            have_digits = true;
            continue;
        }
        u64 unit = 0;
        switch (ascii_lower(u8(c))) {
        case 'w': unit = 604800; break;
        case 'd': unit = 86400; break;
        case 'h': unit = 3600; break;
        case 'm': unit = 60; break;
        case 's': unit = 1; break;
        default: return std::nullopt;
        }
        if (!have_digits)
            return std::nullopt;
        total += number * unit;
        if (total > 0x7fffffff)
            return std::nullopt;
        number = 0;
        have_digits = false;
        had_unit = true;
    }
    if (have_digits) {
        // A bare number after units ("1h30") is read as seconds, as BIND does.
        total += number;
    } else if (!had_unit) {
        return std::nullopt;
    }
    if (total > 0x7fffffff)
        return std::nullopt;
    return u32(total);
}

bool rdata_valid(u16 type, std::span<const u8> rdata)
{
    auto names_then = [&](usize before, usize names, usize after) {
        usize at = before;
        if (rdata.size() < before)
            return false;
        for (usize i = 0; i < names; ++i) {
            usize n = name_length(rdata.subspan(at));
            if (n == 0)
                return false;
            at += n;
        }
        return rdata.size() == at + after;
    };
    switch (RrType(type)) {
    case RrType::a: return rdata.size() == 4;
    case RrType::aaaa: return rdata.size() == 16;
    case RrType::ns:
    case RrType::cname:
    case RrType::ptr: return names_then(0, 1, 0);
    case RrType::soa: return names_then(0, 2, 20);
    case RrType::mx: return names_then(2, 1, 0);
    case RrType::srv: return names_then(6, 1, 0);
    case RrType::txt: {
        if (rdata.empty())
            return false;
        usize at = 0;
        while (at < rdata.size())
            at += 1 + usize(rdata[at]);
        return at == rdata.size();
    }
    case RrType::caa:
        return rdata.size() >= 2 && 2u + rdata[1] <= rdata.size()
            && caa_tag_valid({ reinterpret_cast<const char*>(rdata.data() + 2), rdata[1] });
    default: return true;
    }
}

ErrorOr<void, RdataError> parse_rdata(u16 type, std::span<const Token> fields, const Name& origin,
    std::vector<u8>& out, usize& bad_field)
{
    usize start = out.size();
    bad_field = fields.size();
    auto fail = [&](usize i, RdataError e) -> ErrorOr<void, RdataError> {
        out.resize(start);
        bad_field = i;
        return failure(e);
    };
    auto expect_count = [&](usize n) -> bool { return fields.size() == n; };

    // RFC 3597 5: the generic form, for any type.
    if (!fields.empty() && !fields[0].quoted && fields[0].text == "\\#") {
        if (fields.size() < 2)
            return fail(1, RdataError::missing_field);
        auto length = parse_decimal<u16>(fields[1].text, 65535);
        if (!length)
            return fail(1, RdataError::bad_number);
        int high = -1;
        for (usize i = 2; i < fields.size(); ++i) {
            for (char c : fields[i].text) {
                int h = hex_value(c);
                if (h < 0)
                    return fail(i, RdataError::bad_generic);
                if (high < 0) {
                    high = h;
                } else {
                    out.push_back(u8(high << 4 | h));
                    high = -1;
                }
            }
        }
        if (high >= 0 || out.size() - start != *length)
            return fail(fields.size() > 2 ? 2 : 1, RdataError::bad_generic);
        if (!rdata_valid(type, std::span<const u8>(out).subspan(start)))
            return fail(2, RdataError::bad_layout);
        return {};
    }

    switch (RrType(type)) {
    case RrType::a: {
        if (fields.empty())
            return fail(0, RdataError::missing_field);
        auto v4 = parse_ipv4(fields[0].text);
        if (!v4)
            return fail(0, RdataError::bad_ipv4);
        if (!expect_count(1))
            return fail(1, RdataError::extra_field);
        out.insert(out.end(), v4->begin(), v4->end());
        return {};
    }
    case RrType::aaaa: {
        if (fields.empty())
            return fail(0, RdataError::missing_field);
        auto v6 = parse_ipv6(fields[0].text);
        if (!v6)
            return fail(0, RdataError::bad_ipv6);
        if (!expect_count(1))
            return fail(1, RdataError::extra_field);
        out.insert(out.end(), v6->begin(), v6->end());
        return {};
    }
    case RrType::ns:
    case RrType::cname:
    case RrType::ptr: {
        if (fields.empty())
            return fail(0, RdataError::missing_field);
        if (!put_name(out, fields[0], origin))
            return fail(0, RdataError::bad_name);
        if (!expect_count(1))
            return fail(1, RdataError::extra_field);
        return {};
    }
    case RrType::mx: {
        if (fields.size() < 2)
            return fail(fields.size(), RdataError::missing_field);
        auto pref = parse_decimal<u16>(fields[0].text, 65535);
        if (!pref)
            return fail(0, RdataError::bad_number);
        put_u16(out, *pref);
        if (!put_name(out, fields[1], origin))
            return fail(1, RdataError::bad_name);
        if (!expect_count(2))
            return fail(2, RdataError::extra_field);
        return {};
    }
    case RrType::srv: {
        if (fields.size() < 4)
            return fail(fields.size(), RdataError::missing_field);
        for (usize i = 0; i < 3; ++i) {
            auto v = parse_decimal<u16>(fields[i].text, 65535);
            if (!v)
                return fail(i, RdataError::bad_number);
            put_u16(out, *v);
        }
        if (!put_name(out, fields[3], origin))
            return fail(3, RdataError::bad_name);
        if (!expect_count(4))
            return fail(4, RdataError::extra_field);
        return {};
    }
    case RrType::soa: {
        if (fields.size() < 7)
            return fail(fields.size(), RdataError::missing_field);
        if (!put_name(out, fields[0], origin))
            return fail(0, RdataError::bad_name);
        if (!put_name(out, fields[1], origin))
            return fail(1, RdataError::bad_name);
        auto serial = parse_decimal<u32>(fields[2].text, 0xffffffff);
        if (!serial)
            return fail(2, RdataError::bad_number);
        put_u32(out, *serial);
        // The four timers are 32-bit numbers on the wire (RFC 1035 3.3.13): a plain number
        // may use all 32 bits, as format_rdata writes them; one with units is a TTL.
        for (usize i = 3; i < 7; ++i) {
            auto v = parse_decimal<u32>(fields[i].text, 0xffffffff);
            if (!v)
                v = parse_ttl(fields[i].text);
            if (!v)
                return fail(i, RdataError::bad_number);
            put_u32(out, *v);
        }
        if (!expect_count(7))
            return fail(7, RdataError::extra_field);
        return {};
    }
    case RrType::txt: {
        if (fields.empty())
            return fail(0, RdataError::missing_field);
        for (usize i = 0; i < fields.size(); ++i) {
            if (!put_string(out, fields[i].text))
                return fail(i, RdataError::bad_string);
        }
        return {};
    }
    case RrType::caa: {
        if (fields.size() < 3)
            return fail(fields.size(), RdataError::missing_field);
        auto flags = parse_decimal<u8>(fields[0].text, 255);
        if (!flags)
            return fail(0, RdataError::bad_number);
        std::string_view tag = fields[1].text;
        if (!caa_tag_valid(tag))
            return fail(1, RdataError::bad_tag);
        out.push_back(*flags);
        out.push_back(u8(tag.size()));
        out.insert(out.end(), tag.begin(), tag.end());
        // The value is the rest of the RDATA, without a length byte: reuse the string
        // parser and drop the byte it adds (a value may be longer than 255, so unbounded).
        if (!expect_count(3))
            return fail(3, RdataError::extra_field);
        std::string_view value = fields[2].text;
        for (usize i = 0; i < value.size(); ++i) {
            u8 c = u8(value[i]);
            if (c == '\\') {
                if (i + 1 >= value.size())
                    return fail(2, RdataError::bad_string);
                char d = value[i + 1];
                if (d >= '0' && d <= '9') {
                    if (i + 3 >= value.size())
                        return fail(2, RdataError::bad_string);
                    auto v = parse_decimal<u16>(value.substr(i + 1, 3), 255);
                    if (!v)
                        return fail(2, RdataError::bad_string);
                    c = u8(*v);
                    i += 3;
                } else {
                    c = u8(d);
                    i += 1;
                }
            }
            out.push_back(c);
        }
        return {};
    }
    default: return fail(0, RdataError::unsupported);
    }
}

namespace {

void format_string(FormatBuffer& out, std::span<const u8> bytes)
{
    out.append('"');
    for (u8 c : bytes) {
        if (c == '"' || c == '\\') {
            out.append('\\');
            out.append(char(c));
        } else if (c < 0x20 || c >= 0x7f) {
            char esc[4] = { '\\', char('0' + c / 100), char('0' + c / 10 % 10), char('0' + c % 10) };
            out.append(std::string_view(esc, 4));
        } else {
            out.append(char(c));
        }
    }
    out.append('"');
}

void format_name_at(FormatBuffer& out, std::span<const u8> data, usize& at)
{
    usize n = name_length(data.subspan(at));
    auto name = Name::from_wire(data.subspan(at, n));
    if (name)
        name->format(out);
    at += n;
}

void format_generic(FormatBuffer& out, std::span<const u8> rdata)
{
    format_to(out, "\\# {}", rdata.size());
    if (!rdata.empty())
        out.append(' ');
    for (u8 b : rdata)
        format_to(out, "{:02x}", b);
}

} // namespace

void format_rdata(FormatBuffer& out, u16 type, std::span<const u8> rdata)
{
    if (!rdata_valid(type, rdata)) {
        format_generic(out, rdata);
        return;
    }
    usize at = 0;
    switch (RrType(type)) {
    case RrType::a: format_to(out, "{}.{}.{}.{}", rdata[0], rdata[1], rdata[2], rdata[3]); return;
    case RrType::aaaa:
        for (usize i = 0; i < 16; i += 2) {
            if (i)
                out.append(':');
            format_to(out, "{:x}", load_u16(rdata.data() + i));
        }
        return;
    case RrType::ns:
    case RrType::cname:
    case RrType::ptr: format_name_at(out, rdata, at); return;
    case RrType::mx:
        format_to(out, "{} ", load_u16(rdata.data()));
        at = 2;
        format_name_at(out, rdata, at);
        return;
    case RrType::srv:
        format_to(out, "{} {} {} ", load_u16(rdata.data()), load_u16(rdata.data() + 2), load_u16(rdata.data() + 4));
        at = 6;
        format_name_at(out, rdata, at);
        return;
    case RrType::soa:
        format_name_at(out, rdata, at);
        out.append(' ');
        format_name_at(out, rdata, at);
        for (usize i = 0; i < 5; ++i)
            format_to(out, " {}", load_u32(rdata.data() + at + 4 * i));
        return;
    case RrType::txt:
        while (at < rdata.size()) {
            if (at)
                out.append(' ');
            format_string(out, rdata.subspan(at + 1, rdata[at]));
            at += 1 + usize(rdata[at]);
        }
        return;
    case RrType::caa:
        format_to(out, "{} ", rdata[0]);
        out.append(std::string_view(reinterpret_cast<const char*>(rdata.data() + 2), rdata[1]));
        out.append(' ');
        format_string(out, rdata.subspan(2 + usize(rdata[1])));
        return;
    default: format_generic(out, rdata); return;
    }
}

} // namespace sarab::dns
