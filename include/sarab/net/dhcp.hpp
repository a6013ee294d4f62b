// The DHCP client (RFC 2131) of Sarab's own stack.
//
// With no --ipv4, an interface asks the link for an address: DISCOVER (broadcast, asking the
// server to broadcast its answers, since we cannot receive unicast yet), the first OFFER,
// REQUEST, ACK. Then the stack is configured (address, prefix, gateway) and the address is
// announced. At T1 the client renews with the server that gave the lease (unicast), at T2 it
// rebinds with any server (broadcast), and when the lease runs out it stops using the address
// and starts again. A NAK starts again a second later. Retransmissions back off exponentially from
// 4 s to 64 s with up to a second of jitter (RFC 2131 4.1). It is one coroutine over a UDP
// socket on port 68; the stack's virtual or real clock is the only clock it reads.
#pragma once

#include <sarab/base/log.hpp>
#include <sarab/net/socket.hpp>
#include <sarab/net/wire/dhcp.hpp>
#include <sarab/runtime/sync.hpp>
#include <sarab/runtime/when.hpp>

#include <algorithm>
#include <bit>
#include <vector>

namespace sarab::net {

extern log::Source dhcp_log;

struct DhcpLease {
    Ipv4Cidr address;
    std::optional<Ipv4Address> gateway;
    Ipv4Address server;
    Duration lease;
    Duration renew_after;  // T1
    Duration rebind_after; // T2
    Instant obtained;
};

struct DhcpCounters {
    u64 discovers = 0;
    u64 requests = 0;
    u64 offers = 0;
    u64 acks = 0;
    u64 naks = 0;
    u64 leases_lost = 0;
};

// StackT is a DirectStack: the client binds a UDP socket on it and configures its IPv4
// layer.
template<class StackT>
class DhcpClient {
public:
    explicit DhcpClient(StackT& stack, u32 seed)
        : m_stack(stack)
        , m_random(seed | 1)
    {
    }

    // Set when the stack has an address, reset when the lease is lost.
    Event& bound() { return m_bound; }
    const std::optional<DhcpLease>& lease() const { return m_lease; }
    const DhcpCounters& counters() const { return m_counters; }

    Task<void> run()
    {
        auto socket = m_stack.udp_bind(wire::dhcp_client_port);
        if (!socket) {
            log::error(dhcp_log, "cannot bind UDP port 68: {}", error_name(socket.error()));
            co_return;
        }
        m_socket = &*socket;
        for (;;) {
            // INIT and SELECTING: any server's first offer.
            auto offer = co_await exchange(wire::DhcpMessageType::discover, {}, {}, Ipv4Address::broadcast(), never);
            if (!offer)
                continue;
            // REQUESTING.
            auto ack = co_await exchange(wire::DhcpMessageType::request, offer->your_ip, offer->server_identifier, Ipv4Address::broadcast(), MonotonicClock::now() + std::chrono::seconds(60));
            if (!ack || ack->message_type != wire::DhcpMessageType::ack) {
                // Refused, or the server went quiet: start over, but not in a tight loop.
                co_await sleep_for(std::chrono::seconds(1));
                continue;
            }
            bind(*ack);
            // BOUND, RENEWING, REBINDING, until the lease is lost.
            while (m_lease) {
                DhcpLease lease = *m_lease;
                co_await sleep_until(lease.obtained + lease.renew_after);
                auto renewed = co_await exchange(wire::DhcpMessageType::request, {}, {}, lease.server, lease.obtained + lease.rebind_after, lease.address.address);
                if (!renewed)
                    renewed = co_await exchange(wire::DhcpMessageType::request, {}, {}, Ipv4Address::broadcast(), lease.obtained + lease.lease, lease.address.address);
                if (renewed && renewed->message_type == wire::DhcpMessageType::ack) {
                    bind(*renewed);
                    continue;
                }
                lose(renewed ? "refused (NAK)" : "expired");
            }
        }
    }

private:
    // Sends a message of `type` until an answer of the matching transaction arrives (an OFFER
    // to a DISCOVER, an ACK or NAK to a REQUEST) or `give_up` passes.
    Task<std::optional<wire::DhcpRepr>> exchange(wire::DhcpMessageType type, std::optional<Ipv4Address> requested, std::optional<Ipv4Address> server, Ipv4Address to, Instant give_up, Ipv4Address client_ip = {})
    {
        u32 xid = u32(next_random());
        Duration backoff = std::chrono::seconds(4);
        Instant started = MonotonicClock::now();
        for (;;) {
            Instant now = MonotonicClock::now();
            if (now >= give_up)
                co_return std::nullopt;
            send(type, xid, requested, server, to, client_ip, now - started);
            // Wait for an answer, at most until the next retransmission.
            Duration jitter = std::chrono::milliseconds(i64(next_random() % 2001) - 1000);
            Instant retry = std::min(now + backoff + jitter, give_up);
            backoff = std::min<Duration>(backoff * 2, std::chrono::seconds(64));
            for (;;) {
                auto answer = co_await with_timeout(retry - MonotonicClock::now(), receive());
                if (!answer)
                    break; // time to send again
                const wire::DhcpRepr& reply = answer->message;
                if (reply.transaction_id != xid || reply.client_hardware_address != m_stack.ethernet().mac())
                    continue;
                bool wanted = type == wire::DhcpMessageType::discover
                    ? reply.message_type == wire::DhcpMessageType::offer
                    : reply.message_type == wire::DhcpMessageType::ack || reply.message_type == wire::DhcpMessageType::nak;
                if (!wanted)
                    continue;
                if (reply.message_type == wire::DhcpMessageType::offer)
                    ++m_counters.offers;
                if (reply.message_type == wire::DhcpMessageType::nak)
                    ++m_counters.naks;
                if (reply.message_type == wire::DhcpMessageType::offer && !reply.server_identifier)
                    continue; // RFC 2131 requires it; without it we cannot request
                co_return reply;
            }
        }
    }

    struct Answer {
        wire::DhcpRepr message;
    };

    // The next DHCP message from a server; its spans point into m_buffer until the next call.
    Task<Answer> receive()
    {
        for (;;) {
            auto got = co_await m_socket->receive(m_buffer);
            if (!got || got->from.port != wire::dhcp_server_port)
                continue;
            auto view = wire::DhcpView::parse(std::span(m_buffer).first(got->size));
            if (!view)
                continue;
            auto repr = wire::DhcpRepr::parse(*view);
            if (!repr || repr->operation != wire::DhcpOperation::reply)
                continue;
            co_return Answer { *repr };
        }
    }

    void send(wire::DhcpMessageType type, u32 xid, std::optional<Ipv4Address> requested, std::optional<Ipv4Address> server, Ipv4Address to, Ipv4Address client_ip, Duration elapsed)
    {
        static constexpr std::byte wanted_options[] = { std::byte(1), std::byte(3), std::byte(6), std::byte(51), std::byte(58), std::byte(59) };
        wire::DhcpRepr message;
        message.operation = wire::DhcpOperation::request;
        message.message_type = type;
        message.transaction_id = xid;
        message.seconds = u16(std::min<i64>(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count(), 65535));
        message.broadcast = client_ip.is_any(); // until we have an address, answers must be broadcast
        message.client_hardware_address = m_stack.ethernet().mac();
        message.client_ip = client_ip;
        message.requested_ip = requested;
        message.server_identifier = server;
        message.parameter_request_list = wanted_options;
        std::vector<std::byte> bytes(message.buffer_len());
        message.emit(bytes);
        (void)m_socket->send_to({ to, wire::dhcp_server_port }, bytes);
        if (type == wire::DhcpMessageType::discover)
            ++m_counters.discovers;
        else
            ++m_counters.requests;
    }

    void bind(const wire::DhcpRepr& ack)
    {
        ++m_counters.acks;
        Instant now = MonotonicClock::now();
        Duration lease = std::chrono::seconds(ack.lease_time.value_or(3600));
        DhcpLease l {
            .address = { ack.your_ip, prefix_of(ack.subnet_mask.value_or(Ipv4Address(255, 255, 255, 0))) },
            .gateway = ack.routers.empty() ? std::nullopt : std::optional<Ipv4Address>(ack.routers.addresses()[0]),
            .server = ack.server_identifier.value_or(ack.server_ip),
            .lease = lease,
            .renew_after = ack.renewal_time ? Duration(std::chrono::seconds(*ack.renewal_time)) : lease / 2,
            .rebind_after = ack.rebinding_time ? Duration(std::chrono::seconds(*ack.rebinding_time)) : lease * 7 / 8,
            .obtained = now,
        };
        bool changed = !m_lease || m_lease->address != l.address || m_lease->gateway != l.gateway;
        m_lease = l;
        if (changed) {
            m_stack.ip().configure(l.address, l.gateway);
            m_stack.arp().announce();
            if (l.gateway)
                log::info(dhcp_log, "bound to {} with gateway {} for {}", l.address, *l.gateway, l.lease);
            else
                log::info(dhcp_log, "bound to {} for {}", l.address, l.lease);
        }
        m_bound.set();
    }

    void lose(const char* why)
    {
        ++m_counters.leases_lost;
        log::warn(dhcp_log, "lease of {} {}: asking again", m_lease->address, why);
        m_lease.reset();
        m_bound.reset();
        m_stack.ip().configure({}, std::nullopt);
    }

    static u8 prefix_of(Ipv4Address mask) { return u8(std::popcount(mask.to_host())); }

    u64 next_random()
    {
        m_random ^= m_random << 13;
        m_random ^= m_random >> 7;
        m_random ^= m_random << 17;
        return m_random;
    }

    StackT& m_stack;
    UdpSocket* m_socket = nullptr;
    std::array<std::byte, 1500> m_buffer;
    std::optional<DhcpLease> m_lease;
    Event m_bound;
    u64 m_random;
    DhcpCounters m_counters;
};

} // namespace sarab::net
