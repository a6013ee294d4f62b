// TCP over Sarab's own IPv4: demultiplexing, listeners, initial sequence numbers, SYN
// cookies, timers, and the application's TcpListener/TcpStream over tcp::Connection.
//
// receive() checks a segment (length, checksum with the pseudo-header, options) and hands it
// to the connection of its four-tuple; a SYN for a listening port makes a connection in
// SYN-RECEIVED, counted against the listener's SYN queue; anything else gets a RST (RFC 9293
// 3.10.7.1). Initial sequence numbers follow RFC 6528: a 4-microsecond clock plus SipHash of
// the four-tuple under a key drawn at start. When a listener's SYN queue is full (a SYN flood)
// it answers SYNs statelessly with SYN cookies, as Linux does: the initial sequence number
// carries a 64-second time slot, an index into a table of MSS values and 24 bits of keyed
// hash; the window scale and SACK-permitted choices ride in the low bits of the timestamp and
// come back in the ACK's echo. Established connections are unaffected by the flood.
//
// The connections' timers live in one heap ordered by deadline; an entry is checked against
// the connection's current deadline when it comes due, so a deadline that moves later costs
// nothing and one that moves earlier costs a push. A closed connection is freed once the
// application has let go of it; until then its TcpStream keeps it and reads what is left.
#pragma once

#include <sarab/base/siphash.hpp>
#include <sarab/net/ipv4.hpp>
#include <sarab/net/tcp/connection.hpp>
#include <sarab/net/wire/icmp.hpp>

#include <cstring>
#include <deque>
#include <unordered_map>
#include <vector>

namespace sarab::net {

struct TcpCounters {
    u64 received = 0;
    u64 malformed = 0;
    u64 resets_sent = 0;
    u64 syns_received = 0;
    u64 syn_cookies_sent = 0;
    u64 syn_cookies_accepted = 0;
    u64 syn_cookies_rejected = 0;
    u64 listen_overflows = 0;  // SYNs dropped because the accept queue was full
    u64 no_buffers = 0;        // segments not sent for want of a frame
    u64 send_failures = 0;     // segments IPv4 refused (no route, too big)
    u64 established = 0;
    u64 time_wait_reused = 0;
    u64 time_wait_overflows = 0; // connections closed at once: max_time_wait were in TIME_WAIT
    u64 path_mtu_updates = 0;
    u64 segmentation_offloads = 0;  // frames sent for the NIC to cut into segments (TSO)
    u64 held_back = 0;              // times a connection waited for room in the NIC's ring
};

template<class Ip>
class TcpLayer final : public tcp::Port {
public:
    static constexpr u32 syn_queue_limit = 256;      // half-open connections per listener
    static constexpr u32 challenge_acks_per_second = 1000; // RFC 5961 7, across connections
    // How soon a NIC found full is asked again when no segment arrives in between: a 64 KiB
    // frame's time at 10 Gbit/s.
    static constexpr Duration room_check_interval = std::chrono::microseconds(50);

    TcpLayer(Ip& ip, tcp::Config config = {})
        : m_ip(ip)
        , m_config(config)
    {
        std::array<u64, 4> key;
        platform::random_fill(std::as_writable_bytes(std::span(key)));
        m_isn_key = { key[0], key[1] };
        m_cookie_key = { key[2], key[3] };
    }
    TcpLayer(const TcpLayer&) = delete;
    TcpLayer& operator=(const TcpLayer&) = delete;
    ~TcpLayer() override
    {
        // Streams the application still holds keep their connections; tell them apart.
        for (auto& [key, c] : m_connections)
            if (c->user)
                static_cast<StreamImpl*>(c->user)->owned = std::move(c);
    }

    // Called when a connection's timer moves earlier than what the caller last saw.
    std::function<void()> on_deadline_change;

    tcp::Config& config() { return m_config; }
    const TcpCounters& counters() const { return m_counters; }
    usize connection_count() const { return m_connections.size(); }
    u16 local_mss() const { return u16(m_ip.max_payload() - wire::tcp_header_len); }

    // The connection for a four-tuple, for tests and diagnostics.
    tcp::Connection* find(Endpoint remote, u16 local_port)
    {
        auto it = m_connections.find(key_of(remote, local_port));
        return it == m_connections.end() ? nullptr : it->second.get();
    }

    void receive(Ipv4Packet& packet, Instant now)
    {
        receive_segment(packet, now);
        resume_held_back(now);
    }

    void receive_segment(Ipv4Packet& packet, Instant now)
    {
        auto view = wire::TcpView::parse(packet.payload.bytes());
        if (!view || packet.header.destination != m_ip.address()) {
            ++m_counters.malformed;
            return;
        }
        auto h = wire::TcpRepr::parse(*view, packet.header.source, packet.header.destination,
            packet.payload.transport_checksum_ok() ? wire::ChecksumCheck::skip : wire::ChecksumCheck::verify);
        if (!h) {
            ++m_counters.malformed;
            return;
        }
        ++m_counters.received;
        Endpoint remote { packet.header.source, h->source_port };
        auto payload = view->payload();
        u64 key = key_of(remote, h->destination_port);
        bool syn = h->flags.has(wire::TcpFlags::syn), ack = h->flags.has(wire::TcpFlags::ack), rst = h->flags.has(wire::TcpFlags::rst);
        if (auto it = m_connections.find(key); it != m_connections.end()) {
            tcp::Connection& c = *it->second;
            if (syn && !ack && !rst && c.may_reuse_for(*h) && m_listeners.contains(h->destination_port)) {
                // RFC 6191: a new incarnation may take over a TIME-WAIT four-tuple.
                ++m_counters.time_wait_reused;
                c.abort(now);
                reap();
            } else {
                c.on_segment(*h, payload, now);
                reap();
                return;
            }
        }
        auto listener = m_listeners.find(h->destination_port);
        if (listener == m_listeners.end()) {
            if (!rst)
                send_reset(*h, payload.size(), remote, now);
            return;
        }
        if (rst)
            return;
        Listener& l = *listener->second;
        if (ack) {
            if (!syn && accept_cookie(l, *h, payload, remote, now))
                return;
            send_reset(*h, payload.size(), remote, now);
            return;
        }
        if (!syn)
            return;
        ++m_counters.syns_received;
        if (l.ready.size() >= l.backlog) {
            ++m_counters.listen_overflows;
            return;
        }
        if (l.half_open >= syn_queue_limit) {
            send_cookie(*h, remote, now);
            return;
        }
        auto c = std::make_unique<tcp::Connection>(*this, Endpoint { m_ip.address(), h->destination_port }, remote, m_config, local_mss());
        c->serial = ++m_serial;
        c->listener = &l;
        ++l.half_open;
        tcp::Connection& conn = *c;
        m_connections[key] = std::move(c);
        auto [isn, ts_offset] = initial_numbers(remote, h->destination_port, now);
        conn.accept_syn(*h, isn, ts_offset, now);
        reap();
    }

    // An ICMP error quoting one of our segments. "Fragmentation needed" (RFC 1191) lowers the
    // connection's MSS to the next hop's MTU; it is believed only if the quoted sequence number
    // is one in flight (RFC 5927 4.1), and never below 576 bytes (RFC 1191's floor, close to
    // Linux's 552), so that a forged message cannot shrink segments to nothing.
    void on_icmp_error(wire::IcmpType type, u8 code, u16 mtu, const wire::Ipv4Repr& original, std::span<const std::byte> quoted, Instant now)
    {
        if (original.source != m_ip.address() || quoted.size() < 8)
            return;
        u16 local_port = u16((u16(quoted[0]) << 8) | u16(quoted[1]));
        u16 remote_port = u16((u16(quoted[2]) << 8) | u16(quoted[3]));
        u32 seq = (u32(quoted[4]) << 24) | (u32(quoted[5]) << 16) | (u32(quoted[6]) << 8) | u32(quoted[7]);
        tcp::Connection* c = find({ original.destination, remote_port }, local_port);
        if (!c || !c->in_flight(tcp::SeqNumber(seq)))
            return;
        if (type == wire::IcmpType::destination_unreachable && code == u8(wire::UnreachableCode::fragmentation_needed)) {
            ++m_counters.path_mtu_updates;
            u16 path_mtu = std::clamp<u16>(mtu ? mtu : u16(576), 576, m_ip.mtu());
            c->on_path_mtu(path_mtu, now);
            reap();
        }
    }

    ErrorOr<TcpListener, SocketError> listen(u16 port, u32 backlog)
    {
        if (port == 0)
            return failure(SocketError::invalid_argument);
        if (m_listeners.contains(port))
            return failure(SocketError::address_in_use);
        auto impl = std::make_unique<ListenerImpl>(*this, port, backlog ? backlog : 1);
        m_listeners[port] = &impl->state;
        return TcpListener(std::move(impl));
    }

    Task<ErrorOr<TcpStream, SocketError>> connect(Endpoint to)
    {
        if (to.address.is_any() || to.address.is_broadcast() || to.port == 0)
            co_return failure(SocketError::invalid_argument);
        u16 port = 0;
        for (u32 tries = 0; tries < 16384 && port == 0; ++tries) {
            u16 candidate = u16(49152 + (m_next_ephemeral++ % 16384));
            if (!m_connections.contains(key_of(to, candidate)) && !m_listeners.contains(candidate))
                port = candidate;
        }
        if (port == 0)
            co_return failure(SocketError::address_in_use);
        Instant now = MonotonicClock::now();
        auto c = std::make_unique<tcp::Connection>(*this, Endpoint { m_ip.address(), port }, to, m_config, local_mss());
        c->serial = ++m_serial;
        tcp::Connection& conn = *c;
        m_connections[key_of(to, port)] = std::move(c);
        // The stream owns the attempt from here: if this task is cancelled, it aborts it.
        auto stream = std::make_unique<StreamImpl>(*this, conn);
        auto [isn, ts_offset] = initial_numbers(to, port, now);
        conn.connect(isn, ts_offset, now);
        while (conn.state() == tcp::State::syn_sent || conn.state() == tcp::State::syn_received)
            co_await conn.state_event().wait();
        if (conn.error())
            co_return failure(*conn.error());
        co_return TcpStream(std::move(stream));
    }

    Instant next_deadline() const { return std::min(m_heap.empty() ? never : m_heap.front().at, m_room_check); }

    void on_timer(Instant now)
    {
        while (!m_heap.empty() && m_heap.front().at <= now) {
            std::pop_heap(m_heap.begin(), m_heap.end(), std::greater<> {});
            TimerEntry e = m_heap.back();
            m_heap.pop_back();
            auto it = m_connections.find(e.key);
            if (it == m_connections.end() || it->second->serial != e.serial || it->second->scheduled != e.at)
                continue; // stale: the connection is gone, or has an earlier entry
            tcp::Connection& c = *it->second;
            c.scheduled = never;
            if (c.next_deadline() <= now)
                c.on_timer(now);
            deadline_changed(c);
        }
        reap();
        if (m_room_check <= now) {
            m_room_check = never;
            resume_held_back(now);
        }
    }

    // ---- tcp::Port --------------------------------------------------------------------------

    void transmit(tcp::Connection& c, const wire::TcpRepr& h, std::span<const std::byte> a, std::span<const std::byte> b, Instant now) override
    {
        if (a.size() + b.size() > c.mss())
            send_burst(c.remote().address, h, a, b, u16(c.mss()), now);
        else
            send_segment(c.remote().address, h, a, b, now);
    }

    bool can_transmit(tcp::Connection& c) override
    {
        // Once the NIC was found full it is not asked again (a driver may reclaim and kick
        // each time) until resume_held_back finds room.
        if (!m_nic_full && m_ip.transmit_room() > 0)
            return true;
        m_nic_full = true;
        check_room_soon(MonotonicClock::now());
        if (!c.waiting_for_room) {
            c.waiting_for_room = true;
            m_held_back.push_back({ key_of(c.remote(), c.local().port), c.serial });
            ++m_counters.held_back;
        }
        return false;
    }

    u32 max_transmit(u32 mss) override
    {
        // Room for the longest header (60 bytes); whole segments only; and a frame for them,
        // taken now and kept for the burst (none free: one segment at a time).
        usize limit = m_ip.max_segmented_payload();
        usize data = limit > wire::tcp_max_header_len ? limit - wire::tcp_max_header_len : 0;
        if (data <= mss)
            return mss;
        if (!m_burst_frame)
            m_burst_frame = m_ip.allocate_segmented();
        return m_burst_frame ? u32(data - data % mss) : mss;
    }

    void deadline_changed(tcp::Connection& c) override
    {
        Instant d = c.next_deadline();
        if (d >= c.scheduled)
            return;
        c.scheduled = d;
        m_heap.push_back({ d, key_of(c.remote(), c.local().port), c.serial });
        std::push_heap(m_heap.begin(), m_heap.end(), std::greater<> {});
        if (on_deadline_change)
            on_deadline_change();
    }

    void state_changed(tcp::Connection& c, tcp::State from) override
    {
        auto* l = static_cast<Listener*>(c.listener);
        if (from == tcp::State::syn_received && l && c.state() != tcp::State::syn_received)
            --l->half_open;
        if (c.state() == tcp::State::established && from != tcp::State::established) {
            ++m_counters.established;
            if (l) {
                if (l->ready.size() < l->backlog) {
                    l->ready.push_back(&c);
                    l->incoming.notify_one();
                } else {
                    ++m_counters.listen_overflows;
                    c.listener = nullptr;
                    m_pending_aborts.push_back(&c);
                }
            }
        }
        if (from == tcp::State::time_wait)
            --m_time_wait;
        // Over the limit, a connection the application has let go of skips TIME_WAIT: it
        // closes without a segment (the peer has everything), as Linux does past
        // tcp_max_tw_buckets. One still held waits for its 2 MSL: it may have bytes unread.
        if (c.state() == tcp::State::time_wait && ++m_time_wait > m_config.max_time_wait && !c.user) {
            ++m_counters.time_wait_overflows;
            m_pending_aborts.push_back(&c);
        }
        if (c.state() == tcp::State::closed)
            m_reap.push_back(&c);
    }

    bool allow_challenge_ack(Instant now) override
    {
        if (now - m_challenge_window >= std::chrono::seconds(1)) {
            m_challenge_window = now;
            m_challenge_count = 0;
        }
        return m_challenge_count++ < challenge_acks_per_second;
    }

private:
    struct Listener {
        u16 port = 0;
        u32 backlog = 0;
        u32 half_open = 0;
        std::deque<tcp::Connection*> ready; // established, waiting for accept()
        Notifier incoming;
    };

    struct TimerEntry {
        Instant at;
        u64 key;
        u64 serial;
        bool operator>(const TimerEntry& o) const { return at > o.at; }
    };

    class StreamImpl final : public detail::TcpStreamImpl {
    public:
        StreamImpl(TcpLayer& layer, tcp::Connection& c)
            : m_layer(layer)
            , m_c(c)
        {
            c.user = this;
        }
        ~StreamImpl() override
        {
            if (owned)
                return; // closed and handed to us: freed with us
            m_c.user = nullptr;
            m_c.close(MonotonicClock::now());
            m_layer.reap();
        }

        Task<ErrorOr<usize, SocketError>> read(std::span<std::byte> buffer) override
        {
            while (m_c.readable_bytes() == 0 && !m_c.end_of_stream() && !m_c.error() && m_c.state() != tcp::State::closed)
                co_await m_c.readable().wait();
            auto n = m_c.read(buffer, MonotonicClock::now());
            m_layer.reap();
            co_return n;
        }

        Task<ErrorOr<void, SocketError>> write(std::span<const std::byte> data) override
        {
            while (!data.empty()) {
                auto n = m_c.write(data, MonotonicClock::now());
                if (!n) {
                    m_layer.reap();
                    co_return failure(n.error());
                }
                data = data.subspan(*n);
                if (!data.empty() && *n == 0)
                    co_await m_c.writable().wait();
            }
            m_layer.reap();
            co_return ErrorOr<void, SocketError> {};
        }

        ErrorOr<void, SocketError> shutdown_write() override
        {
            auto r = m_c.shutdown_write(MonotonicClock::now());
            m_layer.reap();
            return r;
        }
        void set_no_delay(bool on) override { m_c.set_no_delay(on, MonotonicClock::now()); }
        void abort() override
        {
            m_c.abort(MonotonicClock::now());
            m_layer.reap();
        }
        Endpoint local() const override { return m_c.local(); }
        Endpoint remote() const override { return m_c.remote(); }

        std::unique_ptr<tcp::Connection> owned;

    private:
        TcpLayer& m_layer;
        tcp::Connection& m_c;
    };

    class ListenerImpl final : public detail::TcpListenerImpl {
    public:
        ListenerImpl(TcpLayer& layer, u16 port, u32 backlog)
            : m_layer(layer)
        {
            state.port = port;
            state.backlog = backlog;
        }
        ~ListenerImpl() override
        {
            m_layer.m_listeners.erase(state.port);
            Instant now = MonotonicClock::now();
            // Connections nobody accepted, and handshakes under way, are reset.
            for (auto& [key, c] : m_layer.m_connections) {
                if (c->listener == &state) {
                    c->listener = nullptr;
                    c->abort(now);
                }
            }
            m_layer.reap();
        }

        Task<ErrorOr<TcpStream, SocketError>> accept() override
        {
            while (state.ready.empty())
                co_await state.incoming.wait();
            tcp::Connection* c = state.ready.front();
            state.ready.pop_front();
            c->listener = nullptr;
            co_return TcpStream(std::make_unique<StreamImpl>(m_layer, *c));
        }
        Endpoint local() const override { return { m_layer.m_ip.address(), state.port }; }

        Listener state;

    private:
        TcpLayer& m_layer;
    };

    static u64 key_of(Endpoint remote, u16 local_port)
    {
        return (u64(remote.address.to_host()) << 32) | (u64(remote.port) << 16) | local_port;
    }

    SipHash tuple_hash(SipKey key, Endpoint remote, u16 local_port) const
    {
        SipHash h(key);
        h.update_u32(m_ip.address().to_host());
        h.update_u32(remote.address.to_host());
        h.update_u32((u32(local_port) << 16) | remote.port);
        return h;
    }

    // RFC 6528: ISN = M + F(four-tuple, secret), M a 4-microsecond clock. The hash's other
    // half offsets the connection's timestamps (RFC 7323 7.1: not a global clock).
    std::pair<u32, u32> initial_numbers(Endpoint remote, u16 local_port, Instant now) const
    {
        u64 f = tuple_hash(m_isn_key, remote, local_port).finish();
        u32 m = u32(u64(now.time_since_epoch().count()) / 4000);
        return { m + u32(f), u32(f >> 32) };
    }

    // ---- SYN cookies ------------------------------------------------------------------------

    static constexpr std::array<u16, 8> cookie_mss { 536, 1220, 1360, 1400, 1440, 1452, 1460, 8960 };

    static u32 cookie_slot(Instant now) { return u32(u64(now.time_since_epoch().count()) / 64'000'000'000ull) & 31; }

    u32 cookie_hash(Endpoint remote, u16 local_port, u32 irs, u32 slot) const
    {
        SipHash h = tuple_hash(m_cookie_key, remote, local_port);
        h.update_u32(irs);
        h.update_u32(slot);
        return u32(h.finish()) & 0xffffff;
    }

    void send_cookie(const wire::TcpRepr& syn, Endpoint remote, Instant now)
    {
        u16 peer_mss = syn.mss.value_or(536);
        u32 index = 0;
        for (u32 i = 0; i < cookie_mss.size(); ++i)
            if (cookie_mss[i] <= peer_mss)
                index = i;
        u32 slot = cookie_slot(now);
        u32 cookie = (slot << 27) | (index << 24) | cookie_hash(remote, syn.destination_port, syn.sequence, slot);
        wire::TcpRepr h;
        h.source_port = syn.destination_port;
        h.destination_port = syn.source_port;
        h.sequence = cookie;
        h.acknowledgment = syn.sequence + 1;
        h.flags.bits = wire::TcpFlags::syn | wire::TcpFlags::ack;
        h.window = u16(std::min<u32>(m_config.receive_buffer, 65535));
        h.mss = local_mss();
        if (syn.timestamps && m_config.timestamps) {
            // Without timestamps there is nowhere to keep the other options: none, as Linux.
            bool scale = m_config.window_scale && syn.window_scale;
            bool sack = m_config.sack && syn.sack_permitted;
            u32 bits = (scale ? std::min<u8>(*syn.window_scale, 14) : 0xf) | (sack ? 0x10 : 0);
            auto [isn, ts_offset] = initial_numbers(remote, syn.destination_port, now);
            (void)isn;
            u32 clock = u32(u64(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count())) + ts_offset;
            h.timestamps = wire::TcpTimestamps { (((clock >> 5) - 1) << 5) | bits, syn.timestamps->value };
            if (scale)
                h.window_scale = receive_shift();
            h.sack_permitted = sack;
        }
        ++m_counters.syn_cookies_sent;
        send_segment(remote.address, h, {}, {}, now);
    }

    bool accept_cookie(Listener& l, const wire::TcpRepr& ack, std::span<const std::byte> payload, Endpoint remote, Instant now)
    {
        u32 cookie = ack.acknowledgment - 1;
        u32 irs = ack.sequence - 1;
        u32 slot = cookie >> 27;
        u32 age = (cookie_slot(now) - slot) & 31;
        if (age > 1 || (cookie & 0xffffff) != cookie_hash(remote, ack.destination_port, irs, slot)) {
            ++m_counters.syn_cookies_rejected;
            return false;
        }
        if (l.ready.size() >= l.backlog) {
            ++m_counters.listen_overflows;
            return true; // valid, but no room: the peer will retransmit
        }
        ++m_counters.syn_cookies_accepted;
        tcp::Negotiated options;
        options.peer_mss = cookie_mss[(cookie >> 24) & 7];
        if (ack.timestamps && m_config.timestamps) {
            u32 bits = ack.timestamps->echo_reply & 0x1f;
            options.timestamps = true;
            options.sack = bits & 0x10;
            if ((bits & 0xf) != 0xf) {
                options.window_scale = true;
                options.send_shift = u8(bits & 0xf);
                options.receive_shift = receive_shift();
            }
        }
        auto c = std::make_unique<tcp::Connection>(*this, Endpoint { m_ip.address(), ack.destination_port }, remote, m_config, local_mss());
        c->serial = ++m_serial;
        c->listener = &l;
        tcp::Connection& conn = *c;
        m_connections[key_of(remote, ack.destination_port)] = std::move(c);
        auto [isn, ts_offset] = initial_numbers(remote, ack.destination_port, now);
        (void)isn;
        conn.accept_cookie(ack, payload, cookie, irs, options, ts_offset, now);
        reap();
        return true;
    }

    u8 receive_shift() const
    {
        u8 shift = 0;
        while ((m_config.receive_buffer >> shift) > 65535 && shift < 14)
            ++shift;
        return shift;
    }

    // ---- sending ----------------------------------------------------------------------------

    void send_segment(Ipv4Address to, const wire::TcpRepr& h, std::span<const std::byte> a, std::span<const std::byte> b, Instant now)
    {
        auto frame = m_ip.allocate();
        if (!frame || frame->tailroom() < a.size() + b.size()) {
            ++m_counters.no_buffers;
            return;
        }
        if (!a.empty())
            std::memcpy(frame->append(a.size()).data(), a.data(), a.size());
        if (!b.empty())
            std::memcpy(frame->append(b.size()).data(), b.data(), b.size());
        h.emit(*frame, m_ip.address(), to);
        if (!m_ip.send(std::move(*frame), to, wire::IpProtocol::tcp, now, true))
            ++m_counters.send_failures;
    }

    // Payload of more than one segment, which max_transmit allowed and kept a frame for: one
    // frame that the NIC cuts into segments of `mss` bytes.
    void send_burst(Ipv4Address to, const wire::TcpRepr& h, std::span<const std::byte> a, std::span<const std::byte> b, u16 mss, Instant now)
    {
        std::optional<platform::Frame> frame = std::exchange(m_burst_frame, std::nullopt);
        if (!frame || frame->tailroom() < a.size() + b.size()) {
            ++m_counters.no_buffers; // a port used without max_transmit: as a loss
            return;
        }
        std::memcpy(frame->append(a.size()).data(), a.data(), a.size());
        std::memcpy(frame->append(b.size()).data(), b.data(), b.size());
        h.emit(*frame, m_ip.address(), to);
        frame->request_segmentation(mss, u16(h.buffer_len()));
        ++m_counters.segmentation_offloads;
        if (!m_ip.send(std::move(*frame), to, wire::IpProtocol::tcp, now, true))
            ++m_counters.send_failures;
    }

    // Connections that found the NIC full send again once it has room: after every segment
    // received and every timer run (the ACKs of what the full ring held bring both).
    void resume_held_back(Instant now)
    {
        if (m_held_back.empty())
            return;
        if (m_ip.transmit_room() == 0) {
            check_room_soon(now);
            return;
        }
        m_nic_full = false;
        auto held = std::move(m_held_back);
        m_held_back.clear();
        for (auto [key, serial] : held) {
            auto it = m_connections.find(key);
            if (it == m_connections.end() || it->second->serial != serial)
                continue; // gone
            it->second->waiting_for_room = false;
            it->second->resume_output(now);
        }
        reap();
    }

    // Looks at the NIC again soon even if nothing arrives: a ring drains without telling.
    void check_room_soon(Instant now)
    {
        if (m_room_check != never)
            return;
        m_room_check = now + room_check_interval;
        if (on_deadline_change)
            on_deadline_change();
    }

    // RFC 9293 3.10.7.1: the answer to a segment that belongs to no connection.
    void send_reset(const wire::TcpRepr& in, usize payload_len, Endpoint remote, Instant now)
    {
        wire::TcpRepr h;
        h.source_port = in.destination_port;
        h.destination_port = in.source_port;
        if (in.flags.has(wire::TcpFlags::ack)) {
            h.sequence = in.acknowledgment;
            h.flags.bits = wire::TcpFlags::rst;
        } else {
            u32 length = u32(payload_len) + (in.flags.has(wire::TcpFlags::syn) ? 1 : 0) + (in.flags.has(wire::TcpFlags::fin) ? 1 : 0);
            h.acknowledgment = in.sequence + length;
            h.flags.bits = wire::TcpFlags::rst | wire::TcpFlags::ack;
        }
        ++m_counters.resets_sent;
        send_segment(remote.address, h, {}, {}, now);
    }

    // Frees closed connections nobody holds, and hands the others to their streams.
    void reap()
    {
        while (!m_pending_aborts.empty()) {
            tcp::Connection* c = m_pending_aborts.back();
            m_pending_aborts.pop_back();
            c->abort(MonotonicClock::now());
        }
        while (!m_reap.empty()) {
            tcp::Connection* c = m_reap.back();
            m_reap.pop_back();
            if (c->state() != tcp::State::closed)
                continue;
            auto it = m_connections.find(key_of(c->remote(), c->local().port));
            if (it == m_connections.end() || it->second.get() != c)
                continue; // already handed over
            if (auto* l = static_cast<Listener*>(c->listener)) {
                auto pos = std::find(l->ready.begin(), l->ready.end(), c);
                if (pos != l->ready.end())
                    l->ready.erase(pos);
            }
            std::unique_ptr<tcp::Connection> owned = std::move(it->second);
            m_connections.erase(it);
            if (c->user)
                static_cast<StreamImpl*>(c->user)->owned = std::move(owned);
        }
    }

    Ip& m_ip;
    tcp::Config m_config;
    u32 m_time_wait = 0; // connections in TIME_WAIT
    SipKey m_isn_key;
    SipKey m_cookie_key;
    std::unordered_map<u64, std::unique_ptr<tcp::Connection>> m_connections;
    std::unordered_map<u16, Listener*> m_listeners;
    std::vector<TimerEntry> m_heap;
    std::vector<tcp::Connection*> m_reap;
    std::vector<tcp::Connection*> m_pending_aborts;
    std::vector<std::pair<u64, u64>> m_held_back; // (key, serial): the NIC was full (can_transmit)
    std::optional<platform::Frame> m_burst_frame; // taken by max_transmit for the next burst
    bool m_nic_full = false;                      // can_transmit found no room; m_held_back waits
    Instant m_room_check = never;                 // when to ask the NIC for room again
    u64 m_serial = 0;
    u32 m_next_ephemeral = 0;
    Instant m_challenge_window {};
    u32 m_challenge_count = 0;
    TcpCounters m_counters;
};

} // namespace sarab::net
