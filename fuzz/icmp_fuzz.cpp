// ICMPv4: parse (checksum unchecked, so that random inputs reach the quoted datagram), emit
// again, parse that with the checksum checked, and expect the same.
#include <sarab/net/wire/icmp.hpp>

#include "fuzz_support.hpp"

using namespace sarab;
using namespace sarab::net::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto view = IcmpView::parse(fuzz::input(data, size));
    if (!view)
        return 0;
    fuzz::touch(view->data());
    (void)IcmpRepr::parse(*view);
    auto repr = IcmpRepr::parse(*view, ChecksumCheck::skip);
    if (!repr)
        return 0;
    fuzz::touch(repr->data);

    std::vector<std::byte> out(repr->buffer_len());
    repr->emit(out);
    auto view2 = IcmpView::parse(out);
    VERIFY(view2, "emitted ICMP message does not parse");
    auto repr2 = IcmpRepr::parse(*view2);
    VERIFY(repr2 && *repr2 == *repr, "ICMP round trip differs");
    return 0;
}
