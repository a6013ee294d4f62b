// Console output for applications: println("served {} queries", n).
#pragma once

#include <sarab/base/format.hpp>

namespace sarab {

namespace platform {
void console_write(std::string_view text);
}

// Formats into a line of at most 1 KiB (longer lines are cut) and writes it to the console.
// Plain text (no placeholder, no brace: known at compile time) is written as it is, then the
// line's end.
template<class... Args>
void println(FormatString<Args...> fmt, const Args&... args)
{
    if constexpr (sizeof...(Args) == 0) {
        if (fmt.plain()) {
            platform::console_write(fmt.text());
            platform::console_write("\n");
            return;
        }
    }
    InlineFormatBuffer<1024> line;
    format_to<Args...>(line, fmt, args...);
    line.append('\n');
    platform::console_write(line.view());
}

template<class... Args>
void print(FormatString<Args...> fmt, const Args&... args)
{
    InlineFormatBuffer<1024> text;
    format_to<Args...>(text, fmt, args...);
    platform::console_write(text.view());
}

} // namespace sarab
