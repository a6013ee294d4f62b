// ARP: parse, and when that succeeds emit again, parse again, and expect the same.
#include <sarab/net/wire/arp.hpp>

#include "fuzz_support.hpp"

using namespace sarab;
using namespace sarab::net::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto view = ArpView::parse(fuzz::input(data, size));
    if (!view)
        return 0;
    fuzz::touch(view->sender_hardware_address());
    fuzz::touch(view->sender_protocol_address());
    fuzz::touch(view->target_hardware_address());
    fuzz::touch(view->target_protocol_address());
    auto repr = ArpRepr::parse(*view);
    if (!repr)
        return 0;

    std::byte out[ArpRepr::buffer_len()];
    repr->emit(out);
    auto view2 = ArpView::parse(out);
    VERIFY(view2, "emitted ARP packet does not parse");
    auto repr2 = ArpRepr::parse(*view2);
    VERIFY(repr2 && *repr2 == *repr, "ARP round trip differs");
    return 0;
}
