// Console output for applications: println("served {} queries", n).
#pragma once

#include <sarab/base/format.hpp>

namespace sarab {

namespace platform {
void console_write(std::string_view text);
}

// Formats into a line of at most 1 KiB with its end (longer lines are cut) and writes it to
// the console in one write, so that a line is never split between two writers of the same
// output. Plain text (no placeholder and no brace, known at compile time) is copied as it is,
// without the formatter.
template<class... Args>
void println(FormatString<Args...> fmt, const Args&... args)
{
    constexpr usize max_line = 1024;
    char line[max_line];
    usize length;
    std::string_view text = fmt.text();
    if (sizeof...(Args) == 0 && fmt.plain() && text.size() < max_line) {
        for (usize i = 0; i < text.size(); ++i)
            line[i] = text[i];
        length = text.size();
    } else {
        FormatBuffer out(std::span<char>(line, max_line - 1)); // the last byte is the line's end
        format_to<Args...>(out, fmt, args...);
        length = out.size();
    }
    line[length] = '\n';
    platform::console_write({ line, length + 1 });
}

template<class... Args>
void print(FormatString<Args...> fmt, const Args&... args)
{
    InlineFormatBuffer<1024> text;
    format_to<Args...>(text, fmt, args...);
    platform::console_write(text.view());
}

} // namespace sarab
