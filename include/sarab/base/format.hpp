// Text formatting without allocation: format_to(buffer, "x={} y={:08x}", x, y).
//
// Placeholders are `{}` with an optional spec after a colon: an alignment `<` or `>` (the
// default), a fill of `0`, a width, a precision `.N` for floating point, and a type `x` (hex),
// `X`, `b` (binary), `o` (octal) or `c` (char). `{{` and `}}` are literal braces. Output that
// does not fit is cut and the buffer marked truncated; formatting never fails otherwise. A
// type is formattable when a function `format_value(FormatBuffer&, const T&, const FormatSpec&)`
// is found for it by lookup.
//
// Formats are checked when the program is compiled, as std::format's are: a literal with a
// placeholder too many or too few, a stray brace or a bad spec does not compile. A format made
// at run time (a test's, a fuzzer's) goes through runtime_format(text), and is then checked as
// it is used: a placeholder without a value prints `{?}`.
#pragma once

#include <sarab/base/types.hpp>

#include <chrono>
#include <concepts>
#include <span>
#include <string_view>
#include <type_traits>

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

// ---- format strings ---------------------------------------------------------------------

// A format known only at run time: runtime_format(text) (see the top of this file).
struct RuntimeFormat {
    std::string_view text;
};
constexpr RuntimeFormat runtime_format(std::string_view text) { return { text }; }

namespace detail {

// Reads a placeholder's spec (what follows its colon) into `spec`; the reason it is not valid,
// or null. The run-time formatter uses what it can of a spec that is not valid; the
// compile-time check (check_format) refuses it.
constexpr const char* parse_spec(std::string_view text, FormatSpec& spec)
{
    usize i = 0;
    auto digit = [&] { return i < text.size() && text[i] >= '0' && text[i] <= '9'; };
    if (i < text.size() && (text[i] == '<' || text[i] == '>'))
        spec.align = text[i++];
    if (i < text.size() && text[i] == '0') {
        spec.fill = '0';
        ++i;
    }
    unsigned width = 0;
    while (digit()) {
        width = width * 10 + unsigned(text[i++] - '0');
        width = width > 255 ? 255 : width;
    }
    spec.width = u8(width);
    const char* reason = nullptr;
    if (i < text.size() && text[i] == '.') {
        ++i;
        if (!digit())
            reason = "a precision '.' without digits";
        unsigned precision = 0;
        while (digit()) {
            precision = precision * 10 + unsigned(text[i++] - '0');
            precision = precision > 100 ? 100 : precision;
        }
        spec.precision = i8(precision);
    }
    if (i < text.size()) {
        spec.type = text[i++];
        if (!reason && std::string_view("xXboc").find(spec.type) == std::string_view::npos)
            reason = "an unknown type in a placeholder (x, X, b, o, c)";
    }
    if (!reason && i < text.size())
        reason = "a placeholder is {} or {:SPEC}, SPEC being [<>][0][WIDTH][.PRECISION][TYPE]";
    return reason;
}

// What is wrong with a format for `arguments` values, or null. `plain` says whether it is
// text without braces, which is then copied as it is.
constexpr const char* check_format(std::string_view fmt, usize arguments, bool& plain)
{
    usize placeholders = 0;
    plain = true;
    for (usize i = 0; i < fmt.size(); ++i) {
        if (fmt[i] == '}') {
            plain = false;
            if (i + 1 == fmt.size() || fmt[i + 1] != '}')
                return "a '}' that closes nothing: write '}}' for a brace";
            ++i;
            continue;
        }
        if (fmt[i] != '{')
            continue;
        plain = false;
        if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
            ++i;
            continue;
        }
        ++placeholders;
        usize close = fmt.find('}', i);
        if (close == std::string_view::npos)
            return "a '{' that is never closed: write '{{' for a brace";
        std::string_view inside = fmt.substr(i + 1, close - i - 1);
        if (!inside.empty() && inside[0] != ':')
            return "a placeholder is {} or {:SPEC}, SPEC being [<>][0][WIDTH][.PRECISION][TYPE]";
        FormatSpec spec;
        if (const char* reason = inside.empty() ? nullptr : parse_spec(inside.substr(1), spec))
            return reason;
        i = close;
    }
    if (placeholders < arguments)
        return "more arguments than placeholders";
    if (placeholders > arguments)
        return "more placeholders than arguments";
    return nullptr;
}

// Not constexpr: reaching it while compiling a format stops the compilation, and the
// compiler's message quotes the reason.
void invalid_format(const char* reason);

} // namespace detail

// A format for `Args`, checked at compile time when it is a constant (see the top of this file).
template<class... Args>
class BasicFormatString {
public:
    template<class Text>
        requires std::convertible_to<const Text&, std::string_view>
    consteval BasicFormatString(const Text& text)
        : m_text(text)
    {
        if (const char* reason = detail::check_format(m_text, sizeof...(Args), m_plain))
            detail::invalid_format(reason);
    }
    BasicFormatString(RuntimeFormat format)
        : m_text(format.text)
    {
    }

    constexpr std::string_view text() const { return m_text; }
    // Text without braces, known to be so at compile time.
    constexpr bool plain() const { return m_plain; }

private:
    std::string_view m_text;
    bool m_plain = false;
};

// As a parameter, FormatString<Args...> takes its Args from the values that follow it.
template<class... Args>
using FormatString = BasicFormatString<std::type_identity_t<Args>...>;

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

} // namespace detail

template<class... Args>
void format_to(FormatBuffer& out, FormatString<Args...> fmt, const Args&... args)
{
    if constexpr (sizeof...(Args) == 0) {
        if (fmt.plain())
            out.append(fmt.text());
        else
            detail::vformat_to(out, fmt.text(), {});
    } else {
        const detail::FormatArg erased[] = { { &args, &detail::format_erased<Args> }... };
        detail::vformat_to(out, fmt.text(), erased);
    }
}

} // namespace sarab
