#include <sarab/services/dns/name.hpp>

#include <cstring>

namespace sarab::dns {

const char* error_name(NameError e)
{
    switch (e) {
    case NameError::empty_label: return "empty label";
    case NameError::label_too_long: return "label longer than 63 bytes";
    case NameError::name_too_long: return "name longer than 255 bytes";
    case NameError::bad_escape: return "bad escape";
    case NameError::relative: return "relative name without an origin";
    case NameError::bad_wire: return "malformed wire name";
    }
    return "name error";
}

ErrorOr<Name, NameError> Name::from_wire(std::span<const u8> wire)
{
    Name name;
    if (wire.empty() || wire.size() > max_name_length)
        return failure(wire.empty() ? NameError::bad_wire : NameError::name_too_long);
    usize at = 0;
    u8 labels = 0;
    for (;;) {
        if (at >= wire.size())
            return failure(NameError::bad_wire);
        u8 len = wire[at];
        if (len > max_label_length)
            return failure(NameError::bad_wire);
        if (len == 0) {
            if (at + 1 != wire.size())
                return failure(NameError::bad_wire);
            break;
        }
        at += 1 + len;
        ++labels;
    }
    std::memcpy(name.m_wire.data(), wire.data(), wire.size());
    name.m_length = u8(wire.size());
    name.m_labels = labels;
    return name;
}

ErrorOr<Name, NameError> Name::parse(std::string_view text, const Name* origin)
{
    if (text == "@") {
        if (!origin)
            return failure(NameError::relative);
        return *origin;
    }
    if (text == ".")
        return Name();
    if (text.empty())
        return failure(NameError::empty_label);

    Name name;
    usize out = 0;        // where the next label's length byte goes
    usize label_len = 0;
    u8 labels = 0;
    bool absolute = false;
    // The room for labels: the root byte must still fit after them.
    auto put = [&](u8 c) -> bool {
        if (label_len == max_label_length)
            return false;
        if (out + 1 + label_len + 1 >= max_name_length)
            return false;
        name.m_wire[out + 1 + label_len] = c;
        ++label_len;
        return true;
    };
    for (usize i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '.') {
            if (label_len == 0)
                return failure(NameError::empty_label);
            name.m_wire[out] = u8(label_len);
            out += 1 + label_len;
            label_len = 0;
            ++labels;
            if (i + 1 == text.size())
                absolute = true;
            continue;
        }
        u8 byte = u8(c);
        if (c == '\\') {
            if (i + 1 >= text.size())
                return failure(NameError::bad_escape);
            char d = text[i + 1];
            if (d >= '0' && d <= '9') {
                if (i + 3 >= text.size())
                    return failure(NameError::bad_escape);
                unsigned value = 0;
                for (usize k = 1; k <= 3; ++k) {
                    char digit = text[i + k];
                    if (digit < '0' || digit > '9')
                        return failure(NameError::bad_escape);
                    value = value * 10 + unsigned(digit - '0');
                }
                if (value > 255)
                    return failure(NameError::bad_escape);
                byte = u8(value);
                i += 3;
            } else {
                byte = u8(d);
                i += 1;
            }
        }
        if (!put(byte))
            return failure(label_len == max_label_length ? NameError::label_too_long : NameError::name_too_long);
    }
    if (label_len > 0) {
        name.m_wire[out] = u8(label_len);
        out += 1 + label_len;
        ++labels;
    }
    name.m_wire[out] = 0;
    name.m_length = u8(out + 1);
    name.m_labels = labels;
    if (absolute)
        return name;
    if (!origin)
        return failure(NameError::relative);
    return name.concat(*origin);
}

std::span<const u8> Name::label(usize i) const
{
    VERIFY(i < m_labels, "label index out of range");
    usize at = suffix_offset(i);
    return { m_wire.data() + at + 1, m_wire[at] };
}

usize Name::suffix_offset(usize n) const
{
    VERIFY(n <= m_labels, "more labels removed than the name has");
    usize at = 0;
    for (usize i = 0; i < n; ++i)
        at += 1 + m_wire[at];
    return at;
}

Name Name::parent(usize n) const
{
    usize at = suffix_offset(n);
    Name out;
    out.m_length = u8(m_length - at);
    out.m_labels = u8(m_labels - n);
    std::memcpy(out.m_wire.data(), m_wire.data() + at, out.m_length);
    return out;
}

ErrorOr<Name, NameError> Name::prepend(std::span<const u8> label) const
{
    if (label.empty())
        return failure(NameError::empty_label);
    if (label.size() > max_label_length)
        return failure(NameError::label_too_long);
    if (m_length + 1 + label.size() > max_name_length)
        return failure(NameError::name_too_long);
    Name out;
    out.m_wire[0] = u8(label.size());
    std::memcpy(out.m_wire.data() + 1, label.data(), label.size());
    std::memcpy(out.m_wire.data() + 1 + label.size(), m_wire.data(), m_length);
    out.m_length = u8(m_length + 1 + label.size());
    out.m_labels = u8(m_labels + 1);
    return out;
}

ErrorOr<Name, NameError> Name::concat(const Name& suffix) const
{
    usize head = m_length - 1;
    if (head + suffix.m_length > max_name_length)
        return failure(NameError::name_too_long);
    Name out;
    std::memcpy(out.m_wire.data(), m_wire.data(), head);
    std::memcpy(out.m_wire.data() + head, suffix.m_wire.data(), suffix.m_length);
    out.m_length = u8(head + suffix.m_length);
    out.m_labels = u8(m_labels + suffix.m_labels);
    return out;
}

void lower_wire(std::span<const u8> wire, u8* out)
{
    // Length bytes are at most 63, below 'A', so lower-casing every byte leaves them alone.
    for (usize i = 0; i < wire.size(); ++i)
        out[i] = ascii_lower(wire[i]);
}

Name Name::canonical() const
{
    Name out = *this;
    out.make_canonical();
    return out;
}

void Name::make_canonical() { lower_wire(wire(), m_wire.data()); }

bool wire_names_equal(std::span<const u8> a, std::span<const u8> b)
{
    if (a.size() != b.size())
        return false;
    for (usize i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    }
    return true;
}

bool Name::operator==(const Name& other) const { return wire_names_equal(wire(), other.wire()); }

bool Name::is_subdomain_of(const Name& ancestor) const
{
    if (ancestor.m_labels > m_labels)
        return false;
    usize at = suffix_offset(m_labels - ancestor.m_labels);
    return wire_names_equal(wire().subspan(at), ancestor.wire());
}

int canonical_compare(std::span<const u8> a, std::span<const u8> b)
{
    // Label starts, so labels can be compared from the right.
    std::array<u8, 128> sa {}, sb {};
    usize na = 0, nb = 0;
    for (usize at = 0; at < a.size() && a[at] != 0; at += 1 + a[at])
        sa[na++] = u8(at);
    for (usize at = 0; at < b.size() && b[at] != 0; at += 1 + b[at])
        sb[nb++] = u8(at);
    while (na > 0 && nb > 0) {
        --na;
        --nb;
        auto la = a.subspan(usize(sa[na]) + 1, a[sa[na]]);
        auto lb = b.subspan(usize(sb[nb]) + 1, b[sb[nb]]);
        usize common = la.size() < lb.size() ? la.size() : lb.size();
        for (usize i = 0; i < common; ++i) {
            int d = int(ascii_lower(la[i])) - int(ascii_lower(lb[i]));
            if (d != 0)
                return d;
        }
        if (la.size() != lb.size())
            return la.size() < lb.size() ? -1 : 1;
    }
    if (na == nb)
        return 0;
    return na < nb ? -1 : 1;
}

void Name::format(FormatBuffer& out) const
{
    if (m_labels == 0) {
        out.append('.');
        return;
    }
    usize at = 0;
    while (m_wire[at] != 0) {
        u8 len = m_wire[at];
        for (usize i = 1; i <= len; ++i) {
            u8 c = m_wire[at + i];
            if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' || c == '@' || c == '$') {
                out.append('\\');
                out.append(char(c));
            } else if (c <= 0x20 || c >= 0x7f) {
                char esc[4] = { '\\', char('0' + c / 100), char('0' + c / 10 % 10), char('0' + c % 10) };
                out.append(std::string_view(esc, 4));
            } else {
                out.append(char(c));
            }
        }
        out.append('.');
        at += 1 + len;
    }
}

void format_value(FormatBuffer& out, const Name& name, const FormatSpec&) { name.format(out); }

} // namespace sarab::dns
