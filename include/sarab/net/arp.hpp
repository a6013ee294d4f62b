// ARP (RFC 826) for IPv4 over Ethernet: a cache of neighbours, and the packets waiting for
// one to answer.
//
// send() delivers an IPv4 packet to a next hop on the link: at once when its hardware address
// is known, else it queues the packet (at most queue_per_neighbour per neighbour and
// queue_total in all, so that packets for hosts that never answer cannot take every buffer),
// asks with a broadcast request, asks again every second, and gives up after three tries,
// dropping what waited. Answers and requests from others fill the cache (RFC 826's merge);
// entries expire after a minute and are then asked for again on next use. When the cache is
// full a new entry takes the place of an unanswered one before a resolved one: a flood of
// packets for made-up addresses (the SYN-ACKs of a SYN flood) then churns only the
// unanswered entries, and the neighbours carrying real traffic stay. A gratuitous request announces
// this station's address when it is configured. The layer is handed the time; on_timer() runs
// its retries and expiries, and next_deadline() says when it wants to run next.
#pragma once

#include <sarab/net/ethernet.hpp>
#include <sarab/net/wire/arp.hpp>

#include <array>
#include <chrono>
#include <functional>

namespace sarab::net {

struct ArpCounters {
    u64 requests_sent = 0;
    u64 replies_sent = 0;
    u64 received = 0;
    u64 malformed = 0;
    u64 queued = 0;
    u64 dropped_unresolved = 0; // queued packets dropped: no answer, or the queue was full
};

template<class Eth>
class ArpLayer {
public:
    static constexpr usize cache_size = 64;
    // Enough for the fragments of one 64 KiB datagram.
    static constexpr usize queue_per_neighbour = 48;
    static constexpr usize queue_total = 128;
    static constexpr Duration entry_lifetime = std::chrono::seconds(60);
    static constexpr Duration retry_interval = std::chrono::seconds(1);
    static constexpr u8 max_requests = 3;

    explicit ArpLayer(Eth& eth)
        : m_eth(eth)
    {
    }

    // Called when a retry is scheduled, so that whoever runs on_timer() knows to look.
    std::function<void()> on_deadline_change;

    void set_address(Ipv4Address address) { m_address = address; }
    Ipv4Address address() const { return m_address; }

    // A gratuitous request: tells the link which station has our address.
    void announce()
    {
        if (!m_address.is_any())
            send_arp(wire::ArpOperation::request, broadcast_mac, MacAddress {}, m_address);
    }

    std::optional<MacAddress> lookup(Ipv4Address ip, Instant now) const
    {
        for (const Entry& e : m_cache) {
            if (e.state == State::resolved && e.ip == ip && e.expires > now)
                return e.mac;
        }
        return std::nullopt;
    }

    // `frame` holds a whole IPv4 packet.
    ErrorOr<void, platform::NetError> send(platform::Frame&& frame, Ipv4Address next_hop, Instant now)
    {
        Entry* e = find(next_hop);
        if (e && e->state == State::resolved && e->expires > now)
            return m_eth.send(std::move(frame), e->mac, wire::EtherType::ipv4);
        if (!e || e->state == State::resolved) {
            // Unknown or expired: start asking.
            e = e ? e : take_entry(now);
            e->ip = next_hop;
            e->state = State::asking;
            e->requests = 0;
            e->next_try = now;
        }
        if (e->waiting_count == queue_per_neighbour || m_waiting_total == queue_total) {
            ++m_counters.dropped_unresolved;
            return failure(platform::NetError::full);
        }
        e->waiting[e->waiting_count++] = std::move(frame);
        ++m_waiting_total;
        ++m_counters.queued;
        if (e->next_try <= now)
            ask(*e, now);
        return {};
    }

    // `frame` holds an ARP packet (the Ethernet header already trimmed).
    void receive(const platform::Frame& frame, Instant now)
    {
        auto view = wire::ArpView::parse(frame.bytes());
        if (!view) {
            ++m_counters.malformed;
            return;
        }
        auto arp = wire::ArpRepr::parse(*view);
        if (!arp) {
            ++m_counters.malformed;
            return;
        }
        ++m_counters.received;
        Ipv4Address sender = arp->sender_protocol_address;
        if (sender.is_any() || sender.is_broadcast() || (arp->sender_hardware_address[0] & 1))
            return; // nothing to learn, nor to answer
        bool for_us = !m_address.is_any() && arp->target_protocol_address == m_address;
        // RFC 826: update a known sender; add it when the packet is for us.
        Entry* e = find(sender);
        if (e || for_us)
            learn(e ? *e : *take_entry(now), sender, arp->sender_hardware_address, now);
        if (for_us && arp->operation == wire::ArpOperation::request)
            send_arp(wire::ArpOperation::reply, arp->sender_hardware_address, arp->sender_hardware_address, sender);
    }

    Instant next_deadline() const
    {
        Instant next = never;
        for (const Entry& e : m_cache) {
            if (e.state == State::asking && e.next_try < next)
                next = e.next_try;
        }
        return next;
    }

    void on_timer(Instant now)
    {
        for (Entry& e : m_cache) {
            if (e.state != State::asking || e.next_try > now)
                continue;
            if (e.requests >= max_requests) {
                // Nobody answered: drop what waited.
                m_counters.dropped_unresolved += e.waiting_count;
                clear(e);
                continue;
            }
            ask(e, now);
        }
    }

    const ArpCounters& counters() const { return m_counters; }
    // Packets waiting for an answer right now, in all entries.
    usize waiting() const { return m_waiting_total; }

private:
    enum class State : u8 { empty, asking, resolved };

    struct Entry {
        Ipv4Address ip;
        MacAddress mac {};
        State state = State::empty;
        u8 requests = 0;
        Instant expires {};
        Instant next_try {};
        std::array<platform::Frame, queue_per_neighbour> waiting;
        u8 waiting_count = 0;
    };

    Entry* find(Ipv4Address ip)
    {
        for (Entry& e : m_cache) {
            if (e.state != State::empty && e.ip == ip)
                return &e;
        }
        return nullptr;
    }

    // A free entry, or else the resolved one that expires first (never one that is asking,
    // unless all are).
    Entry* take_entry(Instant now)
    {
        Entry* asking = nullptr;   // the unanswered entry asked longest ago
        Entry* resolved = nullptr; // the resolved entry that expires first
        for (Entry& e : m_cache) {
            if (e.state == State::empty)
                return &e;
            if (e.state == State::resolved && e.expires <= now)
                return &e;
            if (e.state == State::asking && (!asking || e.next_try < asking->next_try))
                asking = &e;
            if (e.state == State::resolved && (!resolved || e.expires < resolved->expires))
                resolved = &e;
        }
        Entry* victim = asking ? asking : resolved;
        m_counters.dropped_unresolved += victim->waiting_count;
        clear(*victim);
        return victim;
    }

    void clear(Entry& e)
    {
        for (u8 i = 0; i < e.waiting_count; ++i)
            e.waiting[i] = platform::Frame();
        m_waiting_total -= e.waiting_count;
        e.waiting_count = 0;
        e.state = State::empty;
    }

    void learn(Entry& e, Ipv4Address ip, MacAddress mac, Instant now)
    {
        e.ip = ip;
        e.mac = mac;
        e.expires = now + entry_lifetime;
        e.state = State::resolved;
        // Send what waited for this answer, in order.
        for (u8 i = 0; i < e.waiting_count; ++i)
            (void)m_eth.send(std::move(e.waiting[i]), mac, wire::EtherType::ipv4);
        m_waiting_total -= e.waiting_count;
        e.waiting_count = 0;
    }

    void ask(Entry& e, Instant now)
    {
        ++e.requests;
        e.next_try = now + retry_interval;
        send_arp(wire::ArpOperation::request, broadcast_mac, MacAddress {}, e.ip);
        if (on_deadline_change)
            on_deadline_change();
    }

    void send_arp(wire::ArpOperation op, MacAddress to, MacAddress target_mac, Ipv4Address target_ip)
    {
        auto frame = m_eth.allocate();
        if (!frame)
            return;
        wire::ArpRepr arp {
            .operation = op,
            .sender_hardware_address = m_eth.mac(),
            .sender_protocol_address = m_address,
            .target_hardware_address = target_mac,
            .target_protocol_address = target_ip,
        };
        arp.emit(*frame);
        if (m_eth.send(std::move(*frame), to, wire::EtherType::arp)) {
            if (op == wire::ArpOperation::request)
                ++m_counters.requests_sent;
            else
                ++m_counters.replies_sent;
        }
    }

    Eth& m_eth;
    Ipv4Address m_address;
    std::array<Entry, cache_size> m_cache;
    usize m_waiting_total = 0; // packets queued in all entries
    ArpCounters m_counters;
};

} // namespace sarab::net
