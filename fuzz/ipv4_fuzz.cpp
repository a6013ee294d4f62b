// IPv4: parse a datagram (and the same bytes as an ICMP-quoted one); when the header parses,
// with its checksum unchecked so that random inputs get past it, emit it again with the
// payload, parse that with the checksum checked, and expect the same.
#include <sarab/net/wire/ipv4.hpp>

#include "fuzz_support.hpp"

using namespace sarab;
using namespace sarab::net::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto bytes = fuzz::input(data, size);
    if (auto quoted = Ipv4View::parse_quoted(bytes)) {
        fuzz::touch(quoted->options());
        fuzz::touch(quoted->payload());
    }
    auto view = Ipv4View::parse(bytes);
    if (!view)
        return 0;
    fuzz::touch(view->options());
    fuzz::touch(view->payload());
    (void)Ipv4Repr::parse(*view);
    auto repr = Ipv4Repr::parse(*view, ChecksumCheck::skip);
    if (!repr)
        return 0;

    std::vector<std::byte> out(repr->buffer_len() + view->payload().size());
    repr->emit(out);
    copy_bytes(std::span(out).subspan(repr->buffer_len()), view->payload());
    auto view2 = Ipv4View::parse(out);
    VERIFY(view2, "emitted IPv4 datagram does not parse");
    auto repr2 = Ipv4Repr::parse(*view2);
    VERIFY(repr2 && *repr2 == *repr, "IPv4 round trip differs");
    VERIFY(bytes_equal(view2->payload(), view->payload()));
    return 0;
}
