// Ethernet: parse, and when that succeeds emit again, parse again, and expect the same.
#include <sarab/net/wire/ethernet.hpp>

#include "fuzz_support.hpp"

using namespace sarab;
using namespace sarab::net::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto view = EthernetView::parse(fuzz::input(data, size));
    if (!view)
        return 0;
    fuzz::touch(view->payload());
    fuzz::touch(u16(view->ethertype()));
    auto repr = EthernetRepr::parse(*view);
    if (!repr)
        return 0;

    std::vector<std::byte> out(repr->buffer_len() + view->payload().size());
    repr->emit(out);
    copy_bytes(std::span(out).subspan(repr->buffer_len()), view->payload());
    auto view2 = EthernetView::parse(out);
    VERIFY(view2, "emitted Ethernet frame does not parse");
    auto repr2 = EthernetRepr::parse(*view2);
    VERIFY(repr2 && *repr2 == *repr, "Ethernet round trip differs");
    VERIFY(bytes_equal(view2->payload(), view->payload()));
    return 0;
}
