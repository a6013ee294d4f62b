// IPv4 (RFC 791, RFC 1122): addressing, routing to the link or the gateway, fragmentation and
// reassembly.
//
// Going up, receive() checks a packet (version, lengths, checksum; options are skipped),
// keeps only what is addressed to this station (its address, the subnet broadcast, the
// limited broadcast) and reassembles fragments: at most max_reassemblies datagrams at once,
// each at most 64 KiB, each given up after reassembly_timeout. Going down, send() adds the
// header and chooses the next hop (on the subnet: the destination; else the gateway); a
// packet larger than the MTU is fragmented, unless it says don't-fragment, which is then an
// error the caller sees (message_too_big). The layer is handed the time.
#pragma once

#include <sarab/net/arp.hpp>
#include <sarab/net/socket.hpp>
#include <sarab/net/wire/ipv4.hpp>

#include <bitset>
#include <cstring>
#include <functional>

namespace sarab::net {

struct Ipv4Counters {
    u64 received = 0;
    u64 delivered = 0;
    u64 malformed = 0;
    u64 not_for_us = 0;
    u64 unknown_protocol = 0; // counted by whoever dispatches on the protocol
    u64 fragments_received = 0;
    u64 reassembled = 0;
    u64 reassembly_failed = 0; // timed out, too big, or no slot free
    u64 sent = 0;
    u64 fragments_sent = 0;
    u64 no_route = 0;
};

struct Ipv4Packet {
    wire::Ipv4Repr header;
    Payload payload; // the transport's bytes
};

template<class Eth, class Arp>
class Ipv4Layer {
public:
    static constexpr usize max_reassemblies = 8;
    static constexpr Duration reassembly_timeout = std::chrono::seconds(30);
    static constexpr u8 default_ttl = 64;

    Ipv4Layer(Eth& eth, Arp& arp)
        : m_eth(eth)
        , m_arp(arp)
    {
    }

    // Called when a reassembly starts (and with it a timeout), so that whoever runs
    // on_timer() knows to look.
    std::function<void()> on_deadline_change;

    void configure(Ipv4Cidr address, std::optional<Ipv4Address> gateway)
    {
        m_cidr = address;
        m_gateway = gateway;
        m_arp.set_address(address.address);
    }
    Ipv4Cidr cidr() const { return m_cidr; }
    Ipv4Address address() const { return m_cidr.address; }
    std::optional<Ipv4Address> gateway() const { return m_gateway; }
    u16 mtu() const { return m_eth.mtu(); }

    // A frame for a transport packet, with room for every header below.
    std::optional<platform::Frame> allocate() { return m_eth.allocate(); }

    // Largest transport payload that fits one packet.
    usize max_payload() const { return usize(mtu()) - wire::ipv4_header_len; }

    // TCP segmentation offload (platform/frame.hpp): a frame for a TCP segment the NIC cuts
    // into MTU-sized ones, and how long that segment may be (header included; 0: the NIC cuts
    // none). An IPv4 packet is 64 KiB at most.
    std::optional<platform::Frame> allocate_segmented() { return m_eth.allocate_segmented(); }
    // How many frames the NIC takes now without refusing one (packets waiting for ARP aside).
    usize transmit_room() { return m_eth.transmit_room(); }
    usize max_segmented_payload() const
    {
        usize limit = std::min<usize>(m_eth.max_segmented_payload(), 65535);
        return limit > wire::ipv4_header_len ? limit - wire::ipv4_header_len : 0;
    }

    std::optional<Ipv4Packet> receive(platform::Frame&& frame, Instant now)
    {
        auto view = wire::Ipv4View::parse(frame.bytes());
        if (!view) {
            ++m_counters.malformed;
            return std::nullopt;
        }
        auto header = wire::Ipv4Repr::parse(*view);
        if (!header) {
            ++m_counters.malformed;
            return std::nullopt;
        }
        ++m_counters.received;
        Ipv4Address to = header->destination;
        bool for_us = to == address() || to.is_broadcast() || (m_cidr.prefix < 31 && to == m_cidr.subnet_broadcast());
        if (!for_us) {
            ++m_counters.not_for_us;
            return std::nullopt;
        }
        usize header_len = view->header_len();
        usize payload_len = view->payload().size();
        if (!header->more_fragments && header->fragment_offset == 0) {
            frame.trim_front(header_len);
            frame.resize(payload_len); // Ethernet padding is not payload
            ++m_counters.delivered;
            return Ipv4Packet { *header, Payload(std::move(frame)) };
        }
        ++m_counters.fragments_received;
        return reassemble(*header, view->payload(), now);
    }

    // Sends the transport packet in `frame` (its bytes, headers included) to `destination`.
    ErrorOr<void, SocketError> send(platform::Frame&& frame, Ipv4Address destination, wire::IpProtocol protocol, Instant now, bool dont_fragment = false)
    {
        if (frame.segment_size()) {
            // The NIC cuts it up, and gives each piece this header with its own length and
            // identification: never fragmented (RFC 6864's atomic datagrams).
            VERIFY(protocol == wire::IpProtocol::tcp && frame.size() <= max_segmented_payload());
            wire::Ipv4Repr header = make_header(destination, protocol, u16(frame.size()), true);
            header.emit(frame);
            return route(std::move(frame), destination, now);
        }
        if (frame.size() > max_payload()) {
            if (dont_fragment)
                return failure(SocketError::message_too_big);
            wire::complete_device_checksum(frame); // the fragments are copies
            return send_fragmented(frame.bytes(), destination, protocol, now);
        }
        wire::Ipv4Repr header = make_header(destination, protocol, u16(frame.size()), dont_fragment);
        header.emit(frame);
        return route(std::move(frame), destination, now);
    }

    // Sends a transport packet of any size up to 64 KiB, copying it into as many fragments as
    // the MTU needs.
    ErrorOr<void, SocketError> send_fragmented(std::span<const std::byte> packet, Ipv4Address destination, wire::IpProtocol protocol, Instant now)
    {
        if (packet.size() > 65535 - wire::ipv4_header_len)
            return failure(SocketError::message_too_big);
        usize chunk = max_payload() & ~usize(7); // fragment offsets count 8-byte units
        u16 id = m_next_id++;
        for (usize offset = 0; offset < packet.size() || offset == 0; offset += chunk) {
            usize n = packet.size() - offset < chunk ? packet.size() - offset : chunk;
            auto frame = m_eth.allocate();
            if (!frame)
                return failure(SocketError::no_buffers);
            std::memcpy(frame->append(n).data(), packet.data() + offset, n);
            wire::Ipv4Repr header = make_header(destination, protocol, u16(n), false);
            header.identification = id;
            header.fragment_offset = u16(offset);
            header.more_fragments = offset + n < packet.size();
            header.emit(*frame);
            TRY(route(std::move(*frame), destination, now));
            ++m_counters.fragments_sent;
            if (packet.empty())
                break;
        }
        return {};
    }

    Instant next_deadline() const
    {
        Instant next = never;
        for (const Reassembly& r : m_reassemblies) {
            if (r.buffer && r.expires < next)
                next = r.expires;
        }
        return next;
    }

    void on_timer(Instant now)
    {
        for (Reassembly& r : m_reassemblies) {
            if (r.buffer && r.expires <= now) {
                ++m_counters.reassembly_failed;
                r = Reassembly {};
            }
        }
    }

    const Ipv4Counters& counters() const { return m_counters; }
    void count_unknown_protocol() { ++m_counters.unknown_protocol; }

private:
    struct Reassembly {
        Ipv4Address source;
        Ipv4Address destination;
        wire::IpProtocol protocol {};
        u16 identification = 0;
        std::unique_ptr<std::byte[]> buffer; // 64 KiB while in use
        std::bitset<8192> have;              // which 8-byte blocks have arrived
        usize total = 0;                     // known once the last fragment has arrived
        wire::Ipv4Repr first_header;         // from the fragment at offset 0
        bool have_first = false;
        Instant expires {};
    };

    wire::Ipv4Repr make_header(Ipv4Address destination, wire::IpProtocol protocol, u16 payload_len, bool dont_fragment)
    {
        return wire::Ipv4Repr {
            .source = address(),
            .destination = destination,
            .protocol = protocol,
            .ttl = default_ttl,
            .identification = dont_fragment ? u16(0) : m_next_id++,
            .dont_fragment = dont_fragment,
            .payload_len = payload_len,
        };
    }

    ErrorOr<void, SocketError> route(platform::Frame&& frame, Ipv4Address destination, Instant now)
    {
        ++m_counters.sent;
        if (destination.is_broadcast() || (m_cidr.prefix < 31 && destination == m_cidr.subnet_broadcast())) {
            (void)m_eth.send(std::move(frame), broadcast_mac, wire::EtherType::ipv4);
            return {};
        }
        Ipv4Address next_hop = destination;
        if (!m_cidr.contains(destination)) {
            if (!m_gateway) {
                ++m_counters.no_route;
                return failure(SocketError::network_unreachable);
            }
            next_hop = *m_gateway;
        }
        // A full queue is a loss on the link, as on any NIC: not the caller's error.
        (void)m_arp.send(std::move(frame), next_hop, now);
        return {};
    }

    std::optional<Ipv4Packet> reassemble(const wire::Ipv4Repr& header, std::span<const std::byte> data, Instant now)
    {
        usize offset = header.fragment_offset;
        usize end = offset + data.size();
        if (end > 65535 - wire::ipv4_header_len || (header.more_fragments && data.size() % 8 != 0)) {
            ++m_counters.reassembly_failed;
            return std::nullopt;
        }
        Reassembly* r = nullptr;
        Reassembly* free_slot = nullptr;
        for (Reassembly& candidate : m_reassemblies) {
            if (candidate.buffer && candidate.source == header.source && candidate.destination == header.destination
                && candidate.protocol == header.protocol && candidate.identification == header.identification)
                r = &candidate;
            if (!candidate.buffer && !free_slot)
                free_slot = &candidate;
        }
        if (!r) {
            if (!free_slot) {
                ++m_counters.reassembly_failed;
                return std::nullopt;
            }
            r = free_slot;
            r->buffer.reset(new (std::nothrow) std::byte[65536]);
            if (!r->buffer) {
                ++m_counters.reassembly_failed;
                return std::nullopt;
            }
            r->source = header.source;
            r->destination = header.destination;
            r->protocol = header.protocol;
            r->identification = header.identification;
            r->have.reset();
            r->total = 0;
            r->have_first = false;
            r->expires = now + reassembly_timeout;
            if (on_deadline_change)
                on_deadline_change();
        }
        std::memcpy(r->buffer.get() + offset, data.data(), data.size());
        for (usize block = offset / 8; block < (end + 7) / 8; ++block)
            r->have.set(block);
        if (!header.more_fragments)
            r->total = end;
        if (offset == 0) {
            r->first_header = header;
            r->have_first = true;
        }
        if (r->total == 0 || !r->have_first)
            return std::nullopt;
        for (usize block = 0; block < (r->total + 7) / 8; ++block) {
            if (!r->have.test(block))
                return std::nullopt;
        }
        ++m_counters.reassembled;
        ++m_counters.delivered;
        wire::Ipv4Repr whole = r->first_header;
        whole.more_fragments = false;
        whole.payload_len = u16(r->total);
        Ipv4Packet packet { whole, Payload(std::move(r->buffer), r->total) };
        *r = Reassembly {};
        return packet;
    }

    Eth& m_eth;
    Arp& m_arp;
    Ipv4Cidr m_cidr;
    std::optional<Ipv4Address> m_gateway;
    u16 m_next_id = 1;
    std::array<Reassembly, max_reassemblies> m_reassemblies;
    Ipv4Counters m_counters;
};

} // namespace sarab::net
