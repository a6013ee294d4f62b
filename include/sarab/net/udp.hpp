// UDP (RFC 768) over Sarab's own IPv4: ports, and a bounded queue of datagrams per socket.
//
// receive() checks a datagram (length, checksum with the pseudo-header) and queues it, frame
// and all, for the socket bound to its port, dropping it when that queue is full; a datagram
// for a port nobody has bound is answered with ICMP port unreachable by the caller, to whom
// receive() says so. Sockets are net::UdpSocket implementations (detail::UdpImpl): the
// application's receive() copies the datagram out of its frame into the caller's buffer.
#pragma once

#include <sarab/net/ipv4.hpp>
#include <sarab/net/socket.hpp>
#include <sarab/net/wire/udp.hpp>
#include <sarab/runtime/sync.hpp>

#include <cstring>
#include <deque>
#include <unordered_map>

namespace sarab::net {

struct UdpCounters {
    u64 received = 0;
    u64 malformed = 0;
    u64 no_socket = 0;
    u64 queue_full = 0;
    u64 sent = 0;
};

template<class Ip>
class UdpLayer {
public:
    static constexpr usize queue_limit = 256;

    UdpLayer(Ip& ip, std::function<Instant()> clock)
        : m_ip(ip)
        , m_clock(std::move(clock))
    {
    }

    enum class Delivery : u8 { queued, dropped, no_socket };

    // Takes the packet's payload when it is queued; leaves it otherwise (for an ICMP error).
    Delivery receive(Ipv4Packet& packet)
    {
        auto view = wire::UdpView::parse(packet.payload.bytes());
        if (!view) {
            ++m_counters.malformed;
            return Delivery::dropped;
        }
        auto udp = wire::UdpRepr::parse(*view, packet.header.source, packet.header.destination,
            packet.payload.transport_checksum_ok() ? wire::ChecksumCheck::skip : wire::ChecksumCheck::verify);
        if (!udp) {
            ++m_counters.malformed;
            return Delivery::dropped;
        }
        ++m_counters.received;
        auto it = m_sockets.find(udp->destination_port);
        if (it == m_sockets.end()) {
            ++m_counters.no_socket;
            return Delivery::no_socket;
        }
        Socket& socket = *it->second;
        if (socket.queue.size() >= queue_limit) {
            ++m_counters.queue_full;
            return Delivery::dropped;
        }
        usize length = view->length();
        packet.payload.truncate(length);
        packet.payload.trim_front(wire::udp_header_len);
        socket.queue.push_back({ Endpoint { packet.header.source, udp->source_port }, std::move(packet.payload) });
        socket.readable.notify_one();
        return Delivery::queued;
    }

    ErrorOr<UdpSocket, SocketError> bind(u16 port)
    {
        if (port == 0) {
            for (u32 tries = 0; tries < 16384; ++tries) {
                u16 candidate = u16(49152 + (m_next_ephemeral++ % 16384));
                if (!m_sockets.contains(candidate)) {
                    port = candidate;
                    break;
                }
            }
            if (port == 0)
                return failure(SocketError::address_in_use);
        }
        if (m_sockets.contains(port))
            return failure(SocketError::address_in_use);
        auto impl = std::make_unique<SocketImpl>(*this, port);
        m_sockets[port] = &impl->socket;
        return UdpSocket(std::move(impl));
    }

    ErrorOr<void, SocketError> send(u16 source_port, Endpoint to, std::span<const std::byte> data)
    {
        usize total = wire::udp_header_len + data.size();
        if (total > 65535 - wire::ipv4_header_len)
            return failure(SocketError::message_too_big);
        Instant now = m_clock();
        wire::UdpRepr header { .source_port = source_port, .destination_port = to.port };
        if (total <= m_ip.max_payload()) {
            auto frame = m_ip.allocate();
            if (!frame)
                return failure(SocketError::no_buffers);
            if (!data.empty())
                std::memcpy(frame->append(data.size()).data(), data.data(), data.size());
            header.emit(*frame, m_ip.address(), to.address);
            TRY(m_ip.send(std::move(*frame), to.address, wire::IpProtocol::udp, now));
        } else {
            std::unique_ptr<std::byte[]> buffer(new (std::nothrow) std::byte[total]);
            if (!buffer)
                return failure(SocketError::no_buffers);
            std::memcpy(buffer.get() + wire::udp_header_len, data.data(), data.size());
            header.emit(std::span(buffer.get(), total), m_ip.address(), to.address);
            TRY(m_ip.send_fragmented(std::span(buffer.get(), total), to.address, wire::IpProtocol::udp, now));
        }
        ++m_counters.sent;
        return {};
    }

    const UdpCounters& counters() const { return m_counters; }

private:
    struct Queued {
        Endpoint from;
        Payload payload;
    };
    struct Socket {
        u16 port = 0;
        std::deque<Queued> queue;
        Notifier readable;
    };

    class SocketImpl final : public detail::UdpImpl {
    public:
        SocketImpl(UdpLayer& layer, u16 port)
            : m_layer(layer)
        {
            socket.port = port;
        }
        ~SocketImpl() override { m_layer.m_sockets.erase(socket.port); }

        Task<ErrorOr<Received, SocketError>> receive(std::span<std::byte> buffer) override
        {
            while (socket.queue.empty()) {
                moderation.before_wait();
                co_await socket.readable.wait();
            }
            moderation.received();
            Queued datagram = std::move(socket.queue.front());
            socket.queue.pop_front();
            usize n = std::min(buffer.size(), datagram.payload.size());
            if (n)
                std::memcpy(buffer.data(), datagram.payload.bytes().data(), n);
            co_return Received { datagram.from, n, n < datagram.payload.size() };
        }

        ErrorOr<void, SocketError> send_to(Endpoint to, std::span<const std::byte> data) override
        {
            return m_layer.send(socket.port, to, data);
        }

        Endpoint local() const override { return { m_layer.m_ip.address(), socket.port }; }

        Socket socket;

    private:
        UdpLayer& m_layer;
    };

    Ip& m_ip;
    std::function<Instant()> m_clock;
    std::unordered_map<u16, Socket*> m_sockets;
    u32 m_next_ephemeral = 0;
    UdpCounters m_counters;
};

} // namespace sarab::net
