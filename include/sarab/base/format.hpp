// Text formatting without allocation: format_to(buffer, "x={} y={:08x}", x, y).
//
// Placeholders are `{}` with an optional spec after a colon: an alignment `<` or `>` (the
// default), a fill of `0`, a width, a
// precision `.N` for floating point, and a type `x` (hex), `X`, `b` (binary) or `c` (char).
// `{{` and `}}` are literal braces. Output that does not fit is cut and the buffer marked
// truncated; formatting never fails otherwise. A type is formattable when a function
// `format_value(FormatBuffer&, const T&, const FormatSpec&)` is found for it by lookup.
#pragma once

#include <sarab/base/types.hpp>

#include <chrono>
#include <concepts>
#include <span>
#include <string_view>

namespace sarab {

struct FormatSpec {
    char fill = ' ';
    char align = '>'; // '<' pads on the right
    u8 width = 0;
    i8 precision = -1;
    char type = 0;
};

class FormatBuffer {
public:
    FormatBuffer(std::span<char> storage)
        : m_data(storage.data())
        , m_capacity(storage.size())
    {
    }
    void append(std::string_view text);
    void append(char c);
    void append_padded(std::string_view text, const FormatSpec&);
    std::string_view view() const { return { m_data, m_length }; }
    usize size() const { return m_length; }
    bool truncated() const { return m_truncated; }
    void clear()
    {
        m_length = 0;
        m_truncated = false;
    }

private:
    char* m_data;
    usize m_capacity;
    usize m_length = 0;
    bool m_truncated = false;
};

template<usize N>
class InlineFormatBuffer : public FormatBuffer {
public:
    InlineFormatBuffer()
        : FormatBuffer(std::span<char>(m_storage, N))
    {
    }
    InlineFormatBuffer(const InlineFormatBuffer&) = delete;

private:
    char m_storage[N];
};

void format_value(FormatBuffer&, u64 value, const FormatSpec&, bool negative = false);
void format_value(FormatBuffer&, double value, const FormatSpec&);
void format_value(FormatBuffer&, std::string_view value, const FormatSpec&);
void format_value(FormatBuffer&, bool value, const FormatSpec&);
void format_value(FormatBuffer&, const void* value, const FormatSpec&);
void format_value(FormatBuffer&, std::chrono::nanoseconds value, const FormatSpec&);

template<std::integral T>
    requires(!std::same_as<T, bool>)
void format_value(FormatBuffer& out, T value, const FormatSpec& spec)
{
    if constexpr (std::same_as<T, char>) {
        if (spec.type == 0 || spec.type == 'c') {
            format_value(out, std::string_view(&value, 1), spec);
            return;
        }
    }
    if constexpr (std::is_signed_v<T>) {
        if (value < 0) {
            format_value(out, u64(0) - u64(i64(value)), spec, true);
            return;
        }
    }
    format_value(out, u64(value), spec);
}

inline void format_value(FormatBuffer& out, float value, const FormatSpec& spec) { format_value(out, double(value), spec); }
inline void format_value(FormatBuffer& out, const char* value, const FormatSpec& spec) { format_value(out, std::string_view(value), spec); }
inline void format_value(FormatBuffer& out, char* value, const FormatSpec& spec) { format_value(out, std::string_view(value), spec); }

template<class Rep, class Period>
    requires(!std::same_as<std::chrono::duration<Rep, Period>, std::chrono::nanoseconds>)
void format_value(FormatBuffer& out, std::chrono::duration<Rep, Period> value, const FormatSpec& spec)
{
    format_value(out, std::chrono::duration_cast<std::chrono::nanoseconds>(value), spec);
}

namespace detail {

using FormatFn = void (*)(FormatBuffer&, const void*, const FormatSpec&);

struct FormatArg {
    const void* value;
    FormatFn format;
};

template<class T>
void format_erased(FormatBuffer& out, const void* value, const FormatSpec& spec)
{
    format_value(out, *static_cast<const T*>(value), spec);
}

void vformat_to(FormatBuffer&, std::string_view fmt, std::span<const FormatArg> args);
// A format without arguments: appended as it is when it has no braces, the common case.
void format_literal(FormatBuffer&, std::string_view fmt);

} // namespace detail

template<class... Args>
void format_to(FormatBuffer& out, std::string_view fmt, const Args&... args)
{
    if constexpr (sizeof...(Args) == 0) {
        detail::format_literal(out, fmt);
    } else {
        const detail::FormatArg erased[] = { { &args, &detail::format_erased<Args> }... };
        detail::vformat_to(out, fmt, erased);
    }
}

} // namespace sarab
