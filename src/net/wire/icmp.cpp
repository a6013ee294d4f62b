#include <sarab/net/wire/icmp.hpp>

#include <cstddef>

namespace sarab::net::wire {

WireResult<IcmpView> IcmpView::parse(std::span<const std::byte> bytes)
{
    if (bytes.size() < icmp_header_len)
        return failure(WireError::truncated);
    return IcmpView(bytes);
}

IcmpRepr IcmpRepr::echo_request(u16 identifier, u16 sequence, std::span<const std::byte> data)
{
    IcmpRepr repr;
    repr.type = IcmpType::echo_request;
    repr.identifier = identifier;
    repr.sequence = sequence;
    repr.data = data;
    return repr;
}

IcmpRepr IcmpRepr::echo_reply(u16 identifier, u16 sequence, std::span<const std::byte> data)
{
    IcmpRepr repr = echo_request(identifier, sequence, data);
    repr.type = IcmpType::echo_reply;
    return repr;
}

IcmpRepr IcmpRepr::destination_unreachable(UnreachableCode code, const Ipv4Repr& original,
    std::span<const std::byte> original_payload, u16 next_hop_mtu)
{
    IcmpRepr repr;
    repr.type = IcmpType::destination_unreachable;
    repr.code = u8(code);
    repr.next_hop_mtu = code == UnreachableCode::fragmentation_needed ? next_hop_mtu : 0;
    repr.original = original;
    repr.data = original_payload;
    return repr;
}

IcmpRepr IcmpRepr::time_exceeded(TimeExceededCode code, const Ipv4Repr& original, std::span<const std::byte> original_payload)
{
    IcmpRepr repr;
    repr.type = IcmpType::time_exceeded;
    repr.code = u8(code);
    repr.original = original;
    repr.data = original_payload;
    return repr;
}

WireResult<IcmpRepr> IcmpRepr::parse(const IcmpView& view, ChecksumCheck check)
{
    if (check == ChecksumCheck::verify && !view.checksum_valid())
        return failure(WireError::bad_checksum);
    IcmpRepr repr;
    repr.code = view.code();
    switch (view.type()) {
    case u8(IcmpType::echo_request):
    case u8(IcmpType::echo_reply):
        repr.type = IcmpType(view.type());
        repr.identifier = view.identifier();
        repr.sequence = view.sequence();
        repr.data = view.data();
        return repr;
    case u8(IcmpType::destination_unreachable):
    case u8(IcmpType::time_exceeded): {
        repr.type = IcmpType(view.type());
        if (repr.type == IcmpType::destination_unreachable && repr.code == u8(UnreachableCode::fragmentation_needed))
            repr.next_hop_mtu = view.next_hop_mtu();
        auto quoted = TRY(Ipv4View::parse_quoted(view.data()));
        repr.original = TRY(Ipv4Repr::parse(quoted, ChecksumCheck::skip));
        repr.data = quoted.payload();
        return repr;
    }
    default:
        return failure(WireError::unsupported);
    }
}

void IcmpRepr::emit(std::span<std::byte> out) const
{
    VERIFY(out.size() >= buffer_len(), "ICMP message does not fit");
    VERIFY(!is_error() || data.size() <= original.payload_len, "quoting more than the original payload");
    out = out.first(buffer_len());
    // The data first: it may sit where the headers go when a reply reuses a request's buffer.
    usize data_offset = icmp_header_len + (is_error() ? ipv4_header_len : 0);
    copy_bytes(out.subspan(data_offset), data);
    if (is_error())
        original.emit(out.subspan(icmp_header_len));
    IcmpHeader header;
    header.type = u8(type);
    header.code = code;
    header.checksum = 0;
    if (is_error()) {
        header.rest[0] = 0;
        bool fragmentation_needed = type == IcmpType::destination_unreachable && code == u8(UnreachableCode::fragmentation_needed);
        header.rest[1] = fragmentation_needed ? next_hop_mtu : 0;
    } else {
        header.rest[0] = identifier;
        header.rest[1] = sequence;
    }
    store_header(out, header);
    write_be16(out, offsetof(IcmpHeader, checksum), internet_checksum(out));
}

bool IcmpRepr::operator==(const IcmpRepr& other) const
{
    return type == other.type && code == other.code && identifier == other.identifier && sequence == other.sequence
        && next_hop_mtu == other.next_hop_mtu && (!is_error() || original == other.original)
        && bytes_equal(data, other.data);
}

} // namespace sarab::net::wire
