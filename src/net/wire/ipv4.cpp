#include <sarab/net/wire/ipv4.hpp>

#include <algorithm>
#include <cstddef>

namespace sarab::net::wire {

namespace {

// The checks that a whole and a quoted datagram share: a header that is all there.
ErrorOr<usize, WireError> check_header(std::span<const std::byte> bytes)
{
    if (bytes.size() < ipv4_header_len)
        return failure(WireError::truncated);
    auto header = load_header<Ipv4Header>(bytes);
    usize header_len = usize(header.version_ihl & 0x0f) * 4;
    if (header_len < ipv4_header_len)
        return failure(WireError::bad_header_length);
    if (header_len > bytes.size())
        return failure(WireError::truncated);
    if (header.total_length.get() < header_len)
        return failure(WireError::bad_length);
    return usize(header.total_length.get());
}

} // namespace

WireResult<Ipv4View> Ipv4View::parse(std::span<const std::byte> bytes)
{
    usize total_length = TRY(check_header(bytes));
    if (total_length > bytes.size())
        return failure(WireError::truncated);
    return Ipv4View(bytes.first(total_length));
}

WireResult<Ipv4View> Ipv4View::parse_quoted(std::span<const std::byte> bytes)
{
    usize total_length = TRY(check_header(bytes));
    return Ipv4View(bytes.first(std::min(total_length, bytes.size())));
}

WireResult<Ipv4Repr> Ipv4Repr::parse(const Ipv4View& view, ChecksumCheck check)
{
    if (view.version() != 4)
        return failure(WireError::bad_version);
    if (check == ChecksumCheck::verify && !view.checksum_valid())
        return failure(WireError::bad_checksum);
    Ipv4Repr repr;
    repr.source = view.source();
    repr.destination = view.destination();
    repr.protocol = IpProtocol(view.protocol());
    repr.ttl = view.ttl();
    repr.dscp = view.dscp();
    repr.ecn = view.ecn();
    repr.identification = view.identification();
    repr.dont_fragment = view.dont_fragment();
    repr.more_fragments = view.more_fragments();
    repr.fragment_offset = view.fragment_offset();
    repr.payload_len = u16(view.total_length() - view.header_len());
    // A fragment may claim an offset near 64 KiB and a payload that reaches past it (the
    // "ping of death"); no datagram can be that long.
    if (usize(repr.fragment_offset) + repr.payload_len > ipv4_max_datagram_len - ipv4_header_len)
        return failure(WireError::malformed);
    return repr;
}

void Ipv4Repr::emit(std::span<std::byte> out) const
{
    VERIFY(out.size() >= buffer_len(), "IPv4 header does not fit");
    VERIFY(payload_len <= ipv4_max_datagram_len - ipv4_header_len, "IPv4 payload too long");
    VERIFY(fragment_offset % 8 == 0, "fragment offset not a multiple of 8");
    VERIFY(dscp < 64 && ecn < 4);
    Ipv4Header header;
    header.version_ihl = 0x45;
    header.dscp_ecn = u8(dscp << 2 | ecn);
    header.total_length = u16(ipv4_header_len + payload_len);
    header.identification = identification;
    header.flags_fragment = u16((dont_fragment ? ipv4_flag_dont_fragment : 0) | (more_fragments ? ipv4_flag_more_fragments : 0)
        | fragment_offset / 8);
    header.ttl = ttl;
    header.protocol = u8(protocol);
    header.checksum = 0;
    header.source = source;
    header.destination = destination;
    store_header(out, header);
    write_be16(out, offsetof(Ipv4Header, checksum), internet_checksum(out.first(ipv4_header_len)));
}

void Ipv4Repr::emit(platform::Frame& frame) const
{
    VERIFY(frame.size() == payload_len, "IPv4 payload_len differs from the frame's payload");
    emit(frame.prepend(buffer_len()));
}

} // namespace sarab::net::wire
