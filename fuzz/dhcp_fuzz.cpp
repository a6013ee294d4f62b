// DHCP: parse (the option list must walk without error once the view exists), emit again,
// parse that, and expect the same.
#include <sarab/net/wire/dhcp.hpp>

#include "fuzz_support.hpp"

using namespace sarab;
using namespace sarab::net::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto view = DhcpView::parse(fuzz::input(data, size));
    if (!view)
        return 0;
    auto reader = view->option_reader();
    while (true) {
        auto option = reader.next();
        VERIFY(option.has_value(), "DHCP option framing fails after the view accepted it");
        if (!option.value())
            break;
        fuzz::touch(option.value()->value);
    }
    auto repr = DhcpRepr::parse(*view);
    if (!repr)
        return 0;

    std::vector<std::byte> out(repr->buffer_len());
    repr->emit(out);
    auto view2 = DhcpView::parse(out);
    VERIFY(view2, "emitted DHCP message does not parse");
    auto repr2 = DhcpRepr::parse(*view2);
    VERIFY(repr2 && *repr2 == *repr, "DHCP round trip differs");
    return 0;
}
