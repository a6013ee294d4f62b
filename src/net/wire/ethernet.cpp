#include <sarab/net/wire/ethernet.hpp>

namespace sarab::net::wire {

WireResult<EthernetView> EthernetView::parse(std::span<const std::byte> bytes)
{
    if (bytes.size() < ethernet_header_len)
        return failure(WireError::truncated);
    auto header = load_header<EthernetHeader>(bytes);
    if (header.ethertype.get() != u16(EtherType::vlan))
        return EthernetView(bytes, ethernet_header_len);
    if (bytes.size() < ethernet_vlan_header_len)
        return failure(WireError::truncated);
    return EthernetView(bytes, ethernet_vlan_header_len);
}

EtherType EthernetView::ethertype() const
{
    if (m_header_len == ethernet_header_len)
        return EtherType(header().ethertype.get());
    return EtherType(load_header<VlanHeader>(m_bytes, ethernet_header_len).ethertype.get());
}

std::optional<VlanTag> EthernetView::vlan() const
{
    if (m_header_len == ethernet_header_len)
        return std::nullopt;
    u16 tci = load_header<VlanHeader>(m_bytes, ethernet_header_len).tci.get();
    return VlanTag { u8(tci >> 13), (tci & 0x1000) != 0, u16(tci & 0x0fff) };
}

WireResult<EthernetRepr> EthernetRepr::parse(const EthernetView& view)
{
    EthernetRepr repr;
    repr.source = view.source();
    repr.destination = view.destination();
    repr.ethertype = view.ethertype();
    repr.vlan = view.vlan();
    if (u16(repr.ethertype) < ethertype_min)
        return failure(WireError::unsupported);
    // A second tag (Q-in-Q) would need a second header; no Sarab link uses one.
    if (repr.vlan && repr.ethertype == EtherType::vlan)
        return failure(WireError::unsupported);
    return repr;
}

void EthernetRepr::emit(std::span<std::byte> out) const
{
    VERIFY(out.size() >= buffer_len(), "Ethernet header does not fit");
    VERIFY(u16(ethertype) >= ethertype_min && ethertype != EtherType::vlan, "not an EtherType for a payload");
    EthernetHeader header;
    header.destination = destination;
    header.source = source;
    if (!vlan) {
        header.ethertype = u16(ethertype);
        store_header(out, header);
        return;
    }
    VERIFY(vlan->priority < 8 && vlan->id < 4096, "VLAN tag out of range");
    header.ethertype = u16(EtherType::vlan);
    store_header(out, header);
    VlanHeader tag;
    tag.tci = u16(vlan->priority << 13 | (vlan->drop_eligible ? 0x1000 : 0) | vlan->id);
    tag.ethertype = u16(ethertype);
    store_header(out, tag, ethernet_header_len);
}

} // namespace sarab::net::wire
