// UDP: the first 8 bytes are the pseudo-header's addresses, the rest a datagram. Parse
// (checksum checked, then unchecked), emit again with the payload, parse that with the
// checksum checked, and expect the same.
#include <sarab/net/wire/udp.hpp>

#include "fuzz_support.hpp"

using namespace sarab;
using namespace sarab::net::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    fuzz::AddressedInput in;
    if (!fuzz::split_addresses(fuzz::input(data, size), in))
        return 0;
    auto view = UdpView::parse(in.rest);
    if (!view)
        return 0;
    fuzz::touch(view->payload());
    (void)UdpRepr::parse(*view, in.source, in.destination);
    auto repr = UdpRepr::parse(*view, in.source, in.destination, ChecksumCheck::skip);
    if (!repr)
        return 0;

    std::vector<std::byte> out(repr->buffer_len() + view->payload().size());
    copy_bytes(std::span(out).subspan(repr->buffer_len()), view->payload());
    repr->emit(out, in.source, in.destination);
    auto view2 = UdpView::parse(out);
    VERIFY(view2, "emitted UDP datagram does not parse");
    VERIFY(view2->checksum() != 0, "emitted UDP checksum is zero");
    auto repr2 = UdpRepr::parse(*view2, in.source, in.destination);
    VERIFY(repr2 && *repr2 == *repr, "UDP round trip differs");
    VERIFY(bytes_equal(view2->payload(), view->payload()));
    return 0;
}
