#include <sarab/net/wire/arp.hpp>
#include <sarab/net/wire/ethernet.hpp>

namespace sarab::net::wire {

WireResult<ArpView> ArpView::parse(std::span<const std::byte> bytes)
{
    if (bytes.size() < sizeof(ArpHeader))
        return failure(WireError::truncated);
    ArpView view(bytes);
    if (bytes.size() < view.packet_len())
        return failure(WireError::truncated);
    return view;
}

WireResult<ArpRepr> ArpRepr::parse(const ArpView& view)
{
    if (view.hardware_type() != arp_hardware_ethernet || view.protocol_type() != u16(EtherType::ipv4)
        || view.hardware_len() != 6 || view.protocol_len() != 4)
        return failure(WireError::unsupported);
    if (view.operation() != u16(ArpOperation::request) && view.operation() != u16(ArpOperation::reply))
        return failure(WireError::unsupported);
    // The lengths are now those of the struct, which parse has checked fit.
    auto packet = load_header<ArpEthernetIpv4Packet>(view.bytes());
    ArpRepr repr;
    repr.operation = ArpOperation(view.operation());
    repr.sender_hardware_address = packet.sender_hardware_address;
    repr.sender_protocol_address = packet.sender_protocol_address;
    repr.target_hardware_address = packet.target_hardware_address;
    repr.target_protocol_address = packet.target_protocol_address;
    return repr;
}

void ArpRepr::emit(std::span<std::byte> out) const
{
    VERIFY(out.size() >= buffer_len(), "ARP packet does not fit");
    ArpEthernetIpv4Packet packet;
    packet.header.hardware_type = arp_hardware_ethernet;
    packet.header.protocol_type = u16(EtherType::ipv4);
    packet.header.hardware_len = 6;
    packet.header.protocol_len = 4;
    packet.header.operation = u16(operation);
    packet.sender_hardware_address = sender_hardware_address;
    packet.sender_protocol_address = sender_protocol_address;
    packet.target_hardware_address = target_hardware_address;
    packet.target_protocol_address = target_protocol_address;
    store_header(out, packet);
}

} // namespace sarab::net::wire
