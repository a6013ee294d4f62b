#include <sarab/base/format.hpp>
#include <sarab/base/verify.hpp>

namespace sarab::platform {
[[noreturn]] void abort(std::string_view message);
}

namespace sarab {

void panic(std::string_view message, const char* file, int line)
{
    InlineFormatBuffer<1024> text;
    format_to(text, "PANIC at {}:{}: {}", file, line, message);
    platform::abort(text.view());
}

} // namespace sarab
