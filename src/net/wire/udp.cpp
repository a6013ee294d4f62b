#include <sarab/net/wire/ipv4.hpp>
#include <sarab/net/wire/udp.hpp>

#include <cstddef>

namespace sarab::net::wire {

WireResult<UdpView> UdpView::parse(std::span<const std::byte> bytes)
{
    if (bytes.size() < udp_header_len)
        return failure(WireError::truncated);
    u16 length = load_header<UdpHeader>(bytes).length.get();
    if (length < udp_header_len)
        return failure(WireError::bad_length);
    if (length > bytes.size())
        return failure(WireError::truncated);
    return UdpView(bytes.first(length));
}

bool UdpView::checksum_valid(Ipv4Address source, Ipv4Address destination) const
{
    if (checksum() == 0)
        return true;
    Checksum sum;
    sum.add_pseudo_header(source, destination, u8(IpProtocol::udp), length());
    sum.add(m_bytes);
    return sum.value() == 0;
}

WireResult<UdpRepr> UdpRepr::parse(const UdpView& view, Ipv4Address source, Ipv4Address destination, ChecksumCheck check)
{
    if (check == ChecksumCheck::verify && !view.checksum_valid(source, destination))
        return failure(WireError::bad_checksum);
    return UdpRepr { view.source_port(), view.destination_port() };
}

void UdpRepr::emit_header(std::span<std::byte> datagram) const
{
    VERIFY(datagram.size() >= udp_header_len && datagram.size() <= 0xffff, "UDP datagram size out of range");
    UdpHeader header;
    header.source_port = source_port;
    header.destination_port = destination_port;
    header.length = u16(datagram.size());
    header.checksum = 0;
    store_header(datagram, header);
}

void UdpRepr::emit(std::span<std::byte> datagram, Ipv4Address source, Ipv4Address destination) const
{
    emit_header(datagram);
    write_transport_checksum(datagram, source, destination, u8(IpProtocol::udp), offsetof(UdpHeader, checksum), true);
}

void UdpRepr::emit(platform::Frame& frame, Ipv4Address source, Ipv4Address destination) const
{
    frame.prepend(buffer_len());
    emit_header(frame.bytes());
    fill_transport_checksum(frame, source, destination, u8(IpProtocol::udp), offsetof(UdpHeader, checksum), true);
}

} // namespace sarab::net::wire
