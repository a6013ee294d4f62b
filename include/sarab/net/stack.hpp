// Sarab's own TCP/IP stack, assembled in one place over a Nic, as MirageOS assembles
// Ethernet, ARP, IPv4, ICMP, UDP and TCP over a netif.
//
// DirectStack<N> owns one instance of each layer, the task that moves received frames up
// through them (dispatch), and the task that runs the layers' timers. It is a net::Stack: the
// application makes sockets from it without knowing it is not the host's.
#pragma once

#include <sarab/base/log.hpp>
#include <sarab/net/icmp.hpp>
#include <sarab/net/tcp.hpp>
#include <sarab/net/udp.hpp>
#include <sarab/runtime/when.hpp>

namespace sarab::net {

extern log::Source stack_log;

struct StackConfig {
    Ipv4Cidr address;
    std::optional<Ipv4Address> gateway;
    tcp::Config tcp {};
};

template<Nic N>
class DirectStack final : public Stack {
public:
    using Ethernet = EthernetLayer<N>;
    using Arp = ArpLayer<Ethernet>;
    using Ip = Ipv4Layer<Ethernet, Arp>;
    using Icmp = IcmpLayer<Ip>;
    using Udp = UdpLayer<Ip>;
    using Tcp = TcpLayer<Ip>;

    DirectStack(N& nic, StackConfig config)
        : m_nic(nic)
        , m_eth(nic)
        , m_arp(m_eth)
        , m_ip(m_eth, m_arp)
        , m_icmp(m_ip)
        , m_udp(m_ip, [] { return MonotonicClock::now(); })
        , m_tcp(m_ip, config.tcp)
    {
        m_ip.configure(config.address, config.gateway);
        m_arp.on_deadline_change = [this] { timers_changed(); };
        m_ip.on_deadline_change = [this] { timers_changed(); };
        m_tcp.on_deadline_change = [this] { timers_changed(); };
        // ICMP errors about TCP segments go to TCP: path MTU discovery (RFC 1191).
        m_icmp.on_error = [this](wire::IcmpType type, u8 code, u16 mtu, const wire::Ipv4Repr& original, std::span<const std::byte> quoted) {
            if (original.protocol == wire::IpProtocol::tcp)
                m_tcp.on_icmp_error(type, code, mtu, original, quoted, MonotonicClock::now());
            if (on_icmp_error)
                on_icmp_error(type, code, mtu, original, quoted);
        };
    }
    DirectStack(const DirectStack&) = delete;
    DirectStack& operator=(const DirectStack&) = delete;

    std::string_view kind() const override { return "sarab"; }
    ErrorOr<UdpSocket, SocketError> udp_bind(u16 port) override { return m_udp.bind(port); }
    ErrorOr<TcpListener, SocketError> tcp_listen(u16 port, u32 backlog = 1024) override { return m_tcp.listen(port, backlog); }
    Task<ErrorOr<TcpStream, SocketError>> tcp_connect(Endpoint to) override { return m_tcp.connect(to); }

    // Starts moving frames and running timers on the current scheduler, and announces the
    // address. The tasks end with the scheduler.
    void start()
    {
        spawn(receive_loop());
        spawn(timer_loop());
        m_arp.announce();
    }

    Ethernet& ethernet() { return m_eth; }
    Arp& arp() { return m_arp; }
    Ip& ip() { return m_ip; }
    Icmp& icmp() { return m_icmp; }
    Udp& udp() { return m_udp; }
    Tcp& tcp() { return m_tcp; }
    // Also told of every ICMP error that quotes one of our packets (after TCP has seen it).
    std::function<void(wire::IcmpType, u8, u16, const wire::Ipv4Repr&, std::span<const std::byte>)> on_icmp_error;

    // A layer set a new deadline (the layers call this): have the timer task look.
    void timers_changed()
    {
        if (next_deadline() < m_armed)
            m_timers_changed.notify_one();
    }

private:
    static constexpr usize burst = 64; // frames handled before letting other tasks run

    Instant next_deadline() const { return std::min({ m_arp.next_deadline(), m_ip.next_deadline(), m_tcp.next_deadline() }); }

    Task<void> receive_loop()
    {
        usize handled = 0;
        for (;;) {
            auto frame = m_nic.try_receive();
            if (!frame) {
                if (frame.error() != platform::NetError::empty)
                    log::warn(stack_log, "receive: {}", platform::error_name(frame.error()));
                handled = 0;
                co_await m_nic.readable();
                continue;
            }
            dispatch(std::move(*frame), MonotonicClock::now());
            if (++handled == burst) {
                handled = 0;
                co_await yield_now();
            }
        }
    }

    void dispatch(platform::Frame&& frame, Instant now)
    {
        auto ethernet = m_eth.receive(frame);
        if (!ethernet)
            return;
        switch (ethernet->type) {
        case wire::EtherType::arp:
            m_arp.receive(frame, now);
            break;
        case wire::EtherType::ipv4: {
            auto packet = m_ip.receive(std::move(frame), now);
            if (!packet)
                break;
            switch (packet->header.protocol) {
            case wire::IpProtocol::icmp:
                m_icmp.receive(*packet, now);
                break;
            case wire::IpProtocol::tcp:
                m_tcp.receive(*packet, now);
                break;
            case wire::IpProtocol::udp:
                if (m_udp.receive(*packet) == Udp::Delivery::no_socket)
                    m_icmp.send_port_unreachable(*packet, now);
                break;
            default:
                m_ip.count_unknown_protocol();
                break;
            }
            break;
        }
        default:
            m_eth.count_unknown_type();
            break;
        }
    }

    Task<void> timer_loop()
    {
        for (;;) {
            m_armed = next_deadline();
            if (m_armed == never)
                co_await m_timers_changed.wait();
            else
                (void)co_await when_any(sleep_until_task(m_armed), wait_task(m_timers_changed));
            Instant now = MonotonicClock::now();
            m_arp.on_timer(now);
            m_ip.on_timer(now);
            m_tcp.on_timer(now);
        }
    }

    static Task<void> sleep_until_task(Instant deadline) { co_await sleep_until(deadline); }
    static Task<void> wait_task(Notifier& n) { co_await n.wait(); }

    N& m_nic;
    Ethernet m_eth;
    Arp m_arp;
    Ip m_ip;
    Icmp m_icmp;
    Udp m_udp;
    Tcp m_tcp;
    Notifier m_timers_changed;
    Instant m_armed = never;
};

} // namespace sarab::net
