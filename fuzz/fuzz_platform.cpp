// The one platform function the wire parsers can reach: a panic (VERIFY) ends in abort.
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace sarab::platform {

[[noreturn]] void abort(std::string_view message)
{
    std::fprintf(stderr, "%.*s\n", int(message.size()), message.data());
    std::abort();
}

} // namespace sarab::platform
