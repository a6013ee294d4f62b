// Ethernet: the first layer of Sarab's own stack, over any Nic.
//
// Going down it prepends the Ethernet header and hands the frame to the NIC; going up it
// parses and trims the header of a received frame and says what it carries, dropping (and
// counting) frames that are malformed or addressed to another station.
#pragma once

#include <sarab/net/nic.hpp>
#include <sarab/net/packet.hpp>
#include <sarab/net/wire/ethernet.hpp>

namespace sarab::net {

struct EthernetCounters {
    u64 received = 0;
    u64 sent = 0;
    u64 malformed = 0;
    u64 not_for_us = 0;
    u64 unknown_type = 0; // counted by whoever dispatches on the type
    u64 send_failed = 0;
};

template<Nic N>
class EthernetLayer {
public:
    explicit EthernetLayer(N& nic)
        : m_nic(nic)
    {
    }

    N& nic() { return m_nic; }
    MacAddress mac() const { return m_nic.mac(); }
    u16 mtu() const { return m_nic.mtu(); }

    // A frame to fill from the top, with room for every header below.
    std::optional<platform::Frame> allocate() { return m_nic.allocate(tx_headroom); }
    // The same for a TCP segment the NIC cuts up (platform/frame.hpp): none if it cuts none.
    std::optional<platform::Frame> allocate_segmented() { return m_nic.allocate_segmented(tx_headroom); }
    // How many frames the NIC takes now without refusing one.
    usize transmit_room() { return m_nic.transmit_room(); }
    // The longest payload the NIC takes in such a frame; 0 if it cuts none.
    usize max_segmented_payload() const
    {
        usize limit = m_nic.segmentation_limit();
        return limit > wire::ethernet_header_len ? limit - wire::ethernet_header_len : 0;
    }

    ErrorOr<void, platform::NetError> send(platform::Frame&& frame, MacAddress destination, wire::EtherType type)
    {
        wire::EthernetRepr header { .source = mac(), .destination = destination, .ethertype = type, .vlan = std::nullopt };
        header.emit(frame);
        auto sent = m_nic.transmit(std::move(frame));
        if (sent)
            ++m_counters.sent;
        else
            ++m_counters.send_failed;
        return sent;
    }

    struct Received {
        MacAddress source;
        MacAddress destination;
        wire::EtherType type;
    };

    // Parses and trims the header of a received frame: nullopt when the frame is malformed,
    // not Ethernet II, or addressed to neither this station, nor broadcast, nor multicast.
    std::optional<Received> receive(platform::Frame& frame)
    {
        auto view = wire::EthernetView::parse(frame.bytes());
        if (!view) {
            ++m_counters.malformed;
            return std::nullopt;
        }
        auto repr = wire::EthernetRepr::parse(*view);
        if (!repr) {
            ++m_counters.malformed;
            return std::nullopt;
        }
        MacAddress destination = repr->destination;
        bool group = (destination[0] & 1) != 0; // broadcast or multicast
        if (destination != mac() && !group) {
            ++m_counters.not_for_us;
            return std::nullopt;
        }
        ++m_counters.received;
        frame.trim_front(view->header_len());
        return Received { repr->source, destination, repr->ethertype };
    }

    const EthernetCounters& counters() const { return m_counters; }
    void count_unknown_type() { ++m_counters.unknown_type; }

private:
    N& m_nic;
    EthernetCounters m_counters;
};

} // namespace sarab::net
