// ICMPv4 (RFC 792): answers echo requests, reports unreachable ports, and sends echo requests
// of its own (for tests and diagnostics). Errors that concern this station's own packets
// (fragmentation needed, for path MTU discovery) are counted here and passed to whoever
// registered for them.
#pragma once

#include <sarab/net/ipv4.hpp>
#include <sarab/net/wire/icmp.hpp>

#include <functional>

namespace sarab::net {

struct IcmpCounters {
    u64 received = 0;
    u64 malformed = 0;
    u64 echo_replies_sent = 0;
    u64 unreachables_sent = 0;
    u64 errors_received = 0;
};

template<class Ip>
class IcmpLayer {
public:
    explicit IcmpLayer(Ip& ip)
        : m_ip(ip)
    {
    }

    // Called with every echo reply that arrives: (from, identifier, sequence, data).
    std::function<void(Ipv4Address, u16, u16, std::span<const std::byte>)> on_echo_reply;
    // Called with every error that quotes one of our packets: (type, code, next-hop MTU, quoted
    // header, the quoted bytes after it: normally the first 8 of the transport header).
    std::function<void(wire::IcmpType, u8, u16, const wire::Ipv4Repr&, std::span<const std::byte>)> on_error;

    void receive(const Ipv4Packet& packet, Instant now)
    {
        auto view = wire::IcmpView::parse(packet.payload.bytes());
        if (!view) {
            ++m_counters.malformed;
            return;
        }
        auto icmp = wire::IcmpRepr::parse(*view);
        if (!icmp) {
            ++m_counters.malformed;
            return;
        }
        ++m_counters.received;
        switch (icmp->type) {
        case wire::IcmpType::echo_request:
            // Not to broadcasts (RFC 1122 allows silence, and it is no amplifier then).
            if (packet.header.destination == m_ip.address()) {
                reply(packet.header.source, wire::IcmpRepr::echo_reply(icmp->identifier, icmp->sequence, icmp->data), now);
                ++m_counters.echo_replies_sent;
            }
            break;
        case wire::IcmpType::echo_reply:
            if (on_echo_reply)
                on_echo_reply(packet.header.source, icmp->identifier, icmp->sequence, icmp->data);
            break;
        case wire::IcmpType::destination_unreachable:
        case wire::IcmpType::time_exceeded:
            ++m_counters.errors_received;
            if (on_error)
                on_error(icmp->type, icmp->code, icmp->next_hop_mtu, icmp->original, icmp->data);
            break;
        }
    }

    void send_echo_request(Ipv4Address to, u16 identifier, u16 sequence, std::span<const std::byte> data, Instant now)
    {
        reply(to, wire::IcmpRepr::echo_request(identifier, sequence, data), now);
    }

    // Tells the sender of `packet` that nothing listens on its port (never about a broadcast,
    // RFC 1122 3.2.2).
    void send_port_unreachable(const Ipv4Packet& packet, Instant now)
    {
        if (packet.header.destination != m_ip.address())
            return;
        auto original = packet.payload.bytes().first(std::min<usize>(8, packet.payload.size()));
        reply(packet.header.source, wire::IcmpRepr::destination_unreachable(wire::UnreachableCode::port, packet.header, original), now);
        ++m_counters.unreachables_sent;
    }

    const IcmpCounters& counters() const { return m_counters; }

private:
    void reply(Ipv4Address to, const wire::IcmpRepr& message, Instant now)
    {
        usize len = message.buffer_len();
        if (len <= m_ip.max_payload()) {
            auto frame = m_ip.allocate();
            if (!frame)
                return;
            message.emit(frame->append(len));
            (void)m_ip.send(std::move(*frame), to, wire::IpProtocol::icmp, now);
            return;
        }
        // A large echo (ping -s 8000) goes back in fragments.
        std::unique_ptr<std::byte[]> buffer(new (std::nothrow) std::byte[len]);
        if (!buffer)
            return;
        message.emit(std::span(buffer.get(), len));
        (void)m_ip.send_fragmented(std::span(buffer.get(), len), to, wire::IpProtocol::icmp, now);
    }

    Ip& m_ip;
    IcmpCounters m_counters;
};

} // namespace sarab::net
