#include <sarab/base/format.hpp>

#include <charconv>
#include <cstring>

namespace sarab {

void FormatBuffer::append(std::string_view text)
{
    usize room = m_capacity - m_length;
    usize n = text.size() <= room ? text.size() : room;
    if (n < text.size())
        m_truncated = true;
    if (n)
        std::memcpy(m_data + m_length, text.data(), n);
    m_length += n;
}

void FormatBuffer::append(char c)
{
    append(std::string_view(&c, 1));
}

void FormatBuffer::append_padded(std::string_view text, const FormatSpec& spec)
{
    usize pad = spec.width > text.size() ? spec.width - text.size() : 0;
    if (spec.align == '<') {
        append(text);
        for (usize i = 0; i < pad; ++i)
            append(' ');
        return;
    }
    // Zero fill goes between a sign and the digits, as printf does.
    if (spec.fill == '0' && !text.empty() && (text[0] == '-' || text[0] == '+')) {
        append(text[0]);
        text.remove_prefix(1);
    }
    for (usize i = 0; i < pad; ++i)
        append(spec.fill);
    append(text);
}

void format_value(FormatBuffer& out, u64 value, const FormatSpec& spec, bool negative)
{
    char digits[72];
    char* p = digits;
    if (negative)
        *p++ = '-';
    int base = 10;
    bool upper = false;
    switch (spec.type) {
    case 'x': base = 16; break;
    case 'X': base = 16; upper = true; break;
    case 'b': base = 2; break;
    case 'o': base = 8; break;
    default: break;
    }
    auto result = std::to_chars(p, digits + sizeof digits, value, base);
    if (upper) {
        for (char* q = p; q < result.ptr; ++q) {
            if (*q >= 'a' && *q <= 'f')
                *q = char(*q - 'a' + 'A');
        }
    }
    out.append_padded(std::string_view(digits, usize(result.ptr - digits)), spec);
}

void format_value(FormatBuffer& out, double value, const FormatSpec& spec)
{
    char text[64];
    std::to_chars_result result;
    if (spec.precision >= 0)
        result = std::to_chars(text, text + sizeof text, value, std::chars_format::fixed, spec.precision);
    else
        result = std::to_chars(text, text + sizeof text, value);
    if (result.ec != std::errc {})
        return out.append_padded("?", spec);
    out.append_padded(std::string_view(text, usize(result.ptr - text)), spec);
}

void format_value(FormatBuffer& out, std::string_view value, const FormatSpec& spec)
{
    out.append_padded(value, spec);
}

void format_value(FormatBuffer& out, bool value, const FormatSpec& spec)
{
    out.append_padded(value ? "true" : "false", spec);
}

void format_value(FormatBuffer& out, const void* value, const FormatSpec&)
{
    out.append("0x");
    format_value(out, u64(reinterpret_cast<std::uintptr_t>(value)), FormatSpec { .fill = '0', .width = 16, .type = 'x' });
}

// Durations print in the largest unit that keeps them readable: 250ms, 2.5s, 17us.
void format_value(FormatBuffer& out, std::chrono::nanoseconds value, const FormatSpec& spec)
{
    i64 ns = value.count();
    InlineFormatBuffer<48> text;
    auto emit = [&](double scaled, std::string_view unit) {
        format_value(text, scaled, FormatSpec { .precision = spec.precision });
        text.append(unit);
    };
    i64 magnitude = ns < 0 ? -ns : ns;
    if (magnitude >= 1'000'000'000)
        emit(double(ns) / 1e9, "s");
    else if (magnitude >= 1'000'000)
        emit(double(ns) / 1e6, "ms");
    else if (magnitude >= 1'000)
        emit(double(ns) / 1e3, "us");
    else
        emit(double(ns), "ns");
    out.append_padded(text.view(), spec);
}

namespace detail {

void vformat_to(FormatBuffer& out, std::string_view fmt, std::span<const FormatArg> args)
{
    usize next_arg = 0;
    usize i = 0;
    while (i < fmt.size()) {
        char c = fmt[i];
        if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
            out.append('{');
            i += 2;
            continue;
        }
        if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
            out.append('}');
            i += 2;
            continue;
        }
        if (c != '{') {
            // A plain loop, not find_first_of: fewer branches on an image's way to its first
            // line, where a virtio image under TCG pays for each one it takes the first time.
            usize end = i + 1;
            while (end < fmt.size() && fmt[end] != '{' && fmt[end] != '}')
                ++end;
            out.append(fmt.substr(i, end - i));
            i = end;
            continue;
        }
        usize close = fmt.find('}', i);
        if (close == std::string_view::npos) {
            out.append(fmt.substr(i));
            return;
        }
        std::string_view inside = fmt.substr(i + 1, close - i - 1);
        FormatSpec spec;
        if (!inside.empty() && inside[0] == ':')
            parse_spec(inside.substr(1), spec); // what it can of a spec that is not valid
        if (next_arg < args.size()) {
            const FormatArg& arg = args[next_arg++];
            arg.format(out, arg.value, spec);
        } else {
            out.append("{?}");
        }
        i = close + 1;
    }
}

} // namespace detail

} // namespace sarab
