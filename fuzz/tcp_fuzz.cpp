// TCP with options: the first 8 bytes are the pseudo-header's addresses, the rest a segment.
// Parse (the option list must walk without error once the view exists), emit again with the
// payload, parse that with the checksum checked, and expect the same.
#include <sarab/net/wire/tcp.hpp>

#include "fuzz_support.hpp"

using namespace sarab;
using namespace sarab::net::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    fuzz::AddressedInput in;
    if (!fuzz::split_addresses(fuzz::input(data, size), in))
        return 0;
    auto view = TcpView::parse(in.rest);
    if (!view)
        return 0;
    fuzz::touch(view->payload());
    auto reader = view->option_reader();
    while (true) {
        auto option = reader.next();
        VERIFY(option.has_value(), "TCP option framing fails after the view accepted it");
        if (!option.value())
            break;
        fuzz::touch(option.value()->value);
    }
    (void)TcpRepr::parse(*view, in.source, in.destination);
    auto repr = TcpRepr::parse(*view, in.source, in.destination, ChecksumCheck::skip);
    if (!repr)
        return 0;

    std::vector<std::byte> out(repr->buffer_len() + view->payload().size());
    copy_bytes(std::span(out).subspan(repr->buffer_len()), view->payload());
    repr->emit(out, in.source, in.destination);
    auto view2 = TcpView::parse(out);
    VERIFY(view2, "emitted TCP segment does not parse");
    auto repr2 = TcpRepr::parse(*view2, in.source, in.destination);
    VERIFY(repr2 && *repr2 == *repr, "TCP round trip differs");
    VERIFY(bytes_equal(view2->payload(), view->payload()));
    return 0;
}
