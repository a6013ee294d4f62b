// TCP through Sarab's whole stack on the simulated wire: listeners and accept, connect,
// refusal, half-close, abort, timeouts by cancellation, the accept backlog, and SYN cookies
// keeping a listener open under a SYN flood while established connections carry on.
#include "../stack_pair.hpp"

#include "../../coroutine_assert.hpp"

#include <sarab/net/wire/ethernet.hpp>
#include <sarab/runtime/when.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace sarab;
using namespace sarab::net;
using namespace sarab::net::testing;
using namespace std::chrono_literals;

namespace {

std::string text_of(std::span<const std::byte> b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

Task<std::string> read_to_end(TcpStream& stream)
{
    std::string all;
    std::array<std::byte, 4096> buffer;
    for (;;) {
        auto n = co_await stream.read(buffer);
        if (!n || *n == 0)
            break;
        all += text_of(std::span(buffer).first(*n));
    }
    co_return all;
}

// Puts an IPv4 header (source -> destination) and an Ethernet header in front of the
// transport bytes already in `frame` and sends it from `nic` straight onto its wire.
void transmit_ipv4(PlatformNic& nic, platform::Frame frame, MacAddress from_mac, MacAddress to_mac, Ipv4Address from,
    Ipv4Address to, wire::IpProtocol protocol)
{
    wire::Ipv4Repr ip;
    ip.source = from;
    ip.destination = to;
    ip.protocol = protocol;
    ip.payload_len = u16(frame.size());
    ip.emit(frame);
    wire::EthernetRepr eth { .source = from_mac, .destination = to_mac, .ethertype = wire::EtherType::ipv4, .vlan = std::nullopt };
    eth.emit(frame);
    ASSERT_TRUE(nic.transmit(std::move(frame)));
}

// Sends a SYN from a made-up address on the subnet, straight onto A's wire, as a flood does.
void spoofed_syn(PlatformNic& nic, Ipv4Address from, u16 port, u32 seq)
{
    auto frame = nic.allocate(tx_headroom);
    ASSERT_TRUE(frame);
    wire::TcpRepr syn;
    syn.source_port = port;
    syn.destination_port = 7;
    syn.sequence = seq;
    syn.flags.bits = wire::TcpFlags::syn;
    syn.window = 65535;
    syn.mss = 1460;
    syn.emit(*frame, from, ip_b);
    transmit_ipv4(nic, std::move(*frame), mac_a, mac_b, from, ip_b, wire::IpProtocol::tcp);
}

// A connects to B's listener on port 7; both ends, once both are done.
Task<std::tuple<ErrorOr<TcpStream, SocketError>, ErrorOr<TcpStream, SocketError>>> connect_pair(Pair& p, TcpListener& listener)
{
    auto accepting = [&]() -> Task<ErrorOr<TcpStream, SocketError>> { co_return co_await listener.accept(); };
    auto connecting = [&]() -> Task<ErrorOr<TcpStream, SocketError>> { co_return co_await p.a->tcp_connect({ ip_b, 7 }); };
    co_return co_await when_all(accepting(), connecting());
}

} // namespace

class TcpLayerTest : public ::testing::Test {
protected:
    void SetUp() override { sim::reset(5); }
};

TEST_F(TcpLayerTest, EchoServerAndClient)
{
    Pair p;
    Scheduler s;
    p.start();
    auto listener = p.b->tcp_listen(7);
    ASSERT_TRUE(listener);
    EXPECT_EQ(listener->local(), (Endpoint { ip_b, 7 }));
    auto server = [&]() -> Task<void> {
        auto stream = co_await listener->accept();
        CO_ASSERT_TRUE(stream);
        EXPECT_EQ(stream->remote().address, ip_a);
        std::array<std::byte, 1024> buffer;
        for (;;) {
            auto n = co_await stream->read(buffer);
            CO_ASSERT_TRUE(n);
            if (*n == 0)
                break;
            CO_ASSERT_TRUE(co_await stream->write(std::span(buffer).first(*n)));
        }
    };
    std::string echoed;
    auto client = [&]() -> Task<void> {
        auto stream = co_await p.a->tcp_connect({ ip_b, 7 });
        CO_ASSERT_TRUE(stream);
        EXPECT_EQ(stream->local().address, ip_a);
        EXPECT_EQ(stream->remote(), (Endpoint { ip_b, 7 }));
        CO_ASSERT_TRUE(co_await stream->write("hello, "));
        CO_ASSERT_TRUE(co_await stream->write("world"));
        CO_ASSERT_TRUE(stream->shutdown_write());
        echoed = co_await read_to_end(*stream);
    };
    s.run([&]() -> Task<void> { co_await when_all(server(), client()); }());
    EXPECT_EQ(echoed, "hello, world");
    EXPECT_EQ(p.b->tcp().counters().established, 1u);
}

TEST_F(TcpLayerTest, ConnectingToAClosedPortIsRefused)
{
    Pair p;
    Scheduler s;
    p.start();
    s.run([&]() -> Task<void> {
        auto stream = co_await p.a->tcp_connect({ ip_b, 9 });
        CO_ASSERT_FALSE(stream);
        EXPECT_EQ(stream.error(), SocketError::connection_refused);
    }());
    EXPECT_EQ(p.b->tcp().counters().resets_sent, 1u);
    EXPECT_EQ(p.a->tcp().connection_count(), 0u);
}

TEST_F(TcpLayerTest, ConnectingToNobodyTimesOutOrIsCancelled)
{
    Pair p;
    Scheduler s;
    p.start();
    sim::link("a").up = false;
    s.run([&]() -> Task<void> {
        auto bounded = co_await with_timeout(5s, p.a->tcp_connect({ ip_b, 7 }));
        EXPECT_FALSE(bounded); // cancelled by the timeout
        auto stream = co_await p.a->tcp_connect({ ip_b, 7 });
        CO_ASSERT_FALSE(stream);
        EXPECT_EQ(stream.error(), SocketError::timed_out);
    }());
    // 1 + 2 + 4 + ... + 64 s of SYN retransmissions, and nothing left behind.
    EXPECT_GE(MonotonicClock::now().time_since_epoch(), 127s);
    EXPECT_EQ(p.a->tcp().connection_count(), 0u);
}

TEST_F(TcpLayerTest, AbortResetsThePeerAndAReadTimeoutLeavesTheStreamUsable)
{
    Pair p;
    Scheduler s;
    p.start();
    auto listener = p.b->tcp_listen(7);
    ASSERT_TRUE(listener);
    s.run([&]() -> Task<void> {
        auto [server, client] = co_await connect_pair(p, *listener);
        CO_ASSERT_TRUE(server && client);
        std::array<std::byte, 16> buffer;
        auto early = co_await with_timeout(100ms, server->read(buffer));
        EXPECT_FALSE(early); // nothing came: timed out
        CO_ASSERT_TRUE(co_await client->write("late"));
        auto n = co_await server->read(buffer);
        CO_ASSERT_TRUE(n);
        EXPECT_EQ(text_of(std::span(buffer).first(*n)), "late");
        client->abort();
        auto after = co_await server->read(buffer);
        CO_ASSERT_FALSE(after);
        EXPECT_EQ(after.error(), SocketError::connection_reset);
    }());
}

// Twenty connections closed first by A, so A keeps them in TIME-WAIT, at most
// max_time_wait of them; they are freed 2 MSL later.
void close_twenty_from_a(tcp::Config config, usize expect_time_wait)
{
    Pair p({}, 1500, 0, config);
    Scheduler s;
    p.start();
    auto listener = p.b->tcp_listen(7);
    ASSERT_TRUE(listener);
    s.run([&]() -> Task<void> {
        for (int i = 0; i < 20; ++i) {
            auto [server, client] = co_await connect_pair(p, *listener);
            CO_ASSERT_TRUE(server && client);
            client->close(); // the client closes first: its side keeps TIME-WAIT
            std::array<std::byte, 4> buffer;
            auto n = co_await server->read(buffer);
            CO_ASSERT_TRUE(n && *n == 0);
            server->close();
        }
        co_await sleep_for(1s);
        EXPECT_EQ(p.b->tcp().connection_count(), 0u);
        EXPECT_EQ(p.a->tcp().connection_count(), expect_time_wait); // in TIME-WAIT
        EXPECT_EQ(p.a->tcp().counters().time_wait_overflows, 20 - expect_time_wait);
        co_await sleep_for(60s);
        EXPECT_EQ(p.a->tcp().connection_count(), 0u);
        // Closing for ever more keeps working once the slots are free again.
        auto [server, client] = co_await connect_pair(p, *listener);
        EXPECT_TRUE(server && client);
    }());
}

TEST_F(TcpLayerTest, ClosedConnectionsAreFreedAfterTimeWait) { close_twenty_from_a({}, 20); }

TEST_F(TcpLayerTest, TimeWaitIsBoundedAndTheRestCloseAtOnce)
{
    tcp::Config config;
    config.max_time_wait = 5;
    close_twenty_from_a(config, 5);
}

TEST_F(TcpLayerTest, SynFloodIsAnsweredWithCookiesAndEstablishedConnectionsCarryOn)
{
    Pair p;
    Scheduler s;
    p.start();
    auto listener = p.b->tcp_listen(7);
    ASSERT_TRUE(listener);
    std::vector<TcpStream> accepted;
    auto acceptor = [&]() -> Task<void> {
        for (;;) {
            auto stream = co_await listener->accept();
            if (!stream)
                co_return;
            accepted.push_back(std::move(*stream));
        }
    };
    bool flood_over = false;
    s.run([&]() -> Task<void> {
        auto accepting = spawn(acceptor());
        auto before = co_await p.a->tcp_connect({ ip_b, 7 });
        CO_ASSERT_TRUE(before);
        // 2000 SYNs from 2000 made-up hosts that never answer.
        auto flood = [&]() -> Task<void> {
            for (u32 i = 0; i < 2000; ++i) {
                spoofed_syn(*p.nic_a, Ipv4Address(198, 18, 1 + i / 250, u8(i % 250 + 1)), u16(1024 + i), i * 7919);
                if (i % 50 == 49)
                    co_await sleep_for(1ms);
            }
            flood_over = true;
        };
        auto flooding = spawn(flood());
        co_await sleep_for(10ms); // in the middle of it
        EXPECT_FALSE(flood_over);
        EXPECT_GT(p.b->tcp().counters().syn_cookies_sent, 0u);
        // The connection from before still works, and a new one gets in by cookie.
        CO_ASSERT_TRUE(co_await before->write("still here"));
        auto during = co_await p.a->tcp_connect({ ip_b, 7 });
        CO_ASSERT_TRUE(during);
        CO_ASSERT_TRUE(co_await during->write("new"));
        co_await sleep_for(50ms);
        EXPECT_GE(p.b->tcp().counters().syn_cookies_accepted, 1u);
        CO_ASSERT_TRUE(accepted.size() == 2);
        std::array<std::byte, 32> buffer;
        auto n = co_await accepted[0].read(buffer);
        CO_ASSERT_TRUE(n);
        EXPECT_EQ(text_of(std::span(buffer).first(*n)), "still here");
        n = co_await accepted[1].read(buffer);
        CO_ASSERT_TRUE(n);
        EXPECT_EQ(text_of(std::span(buffer).first(*n)), "new");
        (void)co_await flooding.join();
        accepting.cancel();
    }());
    // Half-open connections are bounded whatever the flood's size.
    EXPECT_LE(p.b->tcp().connection_count(), 2u + 256);
}

TEST_F(TcpLayerTest, ABacklogThatIsFullDropsSynsUntilAcceptCatchesUp)
{
    Pair p;
    Scheduler s;
    p.start();
    auto listener = p.b->tcp_listen(7, 2);
    ASSERT_TRUE(listener);
    s.run([&]() -> Task<void> {
        auto connect = [&]() -> Task<ErrorOr<TcpStream, SocketError>> { co_return co_await p.a->tcp_connect({ ip_b, 7 }); };
        auto first = co_await connect();
        auto second = co_await connect();
        CO_ASSERT_TRUE(first && second);
        std::optional<ErrorOr<TcpStream, SocketError>> third_result;
        auto third_task = [&]() -> Task<void> { third_result.emplace(co_await connect()); };
        auto third = spawn(third_task());
        co_await sleep_for(500ms);
        EXPECT_GE(p.b->tcp().counters().listen_overflows, 1u);
        EXPECT_FALSE(third.is_done());
        auto a1 = co_await listener->accept();
        CO_ASSERT_TRUE(a1);
        (void)co_await third.join(); // its SYN, sent again, now finds room
        CO_ASSERT_TRUE(third_result && *third_result);
    }());
}

// A router on the way with a 1000-byte MTU drops A's bigger packets and says so with ICMP
// "fragmentation needed" (RFC 1191): A's TCP lowers its MSS and the transfer completes.
TEST_F(TcpLayerTest, PathMtuDiscoveryShrinksSegmentsToTheRoutersMtu)
{
    Pair p;
    Scheduler s;
    p.start();
    constexpr usize router_mtu = 1000;
    std::vector<std::vector<std::byte>> too_big; // what the router dropped, to answer
    sim::link("a").hook = [&](std::span<const std::byte> frame, Instant, sim::FaultAction& action) {
        if (frame.size() > wire::ethernet_header_len + router_mtu) {
            action.drop = true;
            too_big.emplace_back(frame.begin(), frame.end());
        }
    };
    auto listener = p.b->tcp_listen(7);
    ASSERT_TRUE(listener);
    auto data = pattern(200'000, 9);
    std::vector<std::byte> received;
    auto router = [&]() -> Task<void> {
        for (;;) {
            co_await sleep_for(1ms);
            for (auto& frame : too_big) {
                // The ICMP error quotes the dropped packet's header and 8 bytes after it.
                auto quoted = std::span<const std::byte>(frame).subspan(wire::ethernet_header_len, wire::ipv4_header_len + 8);
                auto view = wire::Ipv4View::parse(std::span<const std::byte>(frame).subspan(wire::ethernet_header_len));
                auto original = wire::Ipv4Repr::parse(*view);
                auto icmp = wire::IcmpRepr::destination_unreachable(wire::UnreachableCode::fragmentation_needed, *original,
                    quoted.subspan(wire::ipv4_header_len), u16(router_mtu));
                auto out = p.nic_b->allocate(tx_headroom);
                icmp.emit(out->append(icmp.buffer_len()));
                Ipv4Address router_address(198, 18, 0, 1);
                transmit_ipv4(*p.nic_b, std::move(*out), mac_b, mac_a, router_address, ip_a, wire::IpProtocol::icmp);
            }
            too_big.clear();
        }
    };
    s.run([&]() -> Task<void> {
        auto routing = spawn(router());
        auto accepting = [&]() -> Task<void> {
            auto stream = co_await listener->accept();
            CO_ASSERT_TRUE(stream);
            std::array<std::byte, 8192> buffer;
            for (;;) {
                auto n = co_await stream->read(buffer);
                CO_ASSERT_TRUE(n);
                if (*n == 0)
                    break;
                received.insert(received.end(), buffer.begin(), buffer.begin() + *n);
            }
        };
        auto sending = [&]() -> Task<void> {
            auto stream = co_await p.a->tcp_connect({ ip_b, 7 });
            CO_ASSERT_TRUE(stream);
            CO_ASSERT_TRUE(co_await stream->write(data));
            CO_ASSERT_TRUE(stream->shutdown_write());
            std::array<std::byte, 16> sink;
            (void)co_await stream->read(sink); // the server's end of stream: all was received
            auto* c = p.a->tcp().find({ ip_b, 7 }, stream->local().port);
            CO_ASSERT_TRUE(c);
            EXPECT_EQ(c->mss(), router_mtu - 40 - 12);
        };
        (void)co_await with_timeout(60s, [&]() -> Task<void> { co_await when_all(accepting(), sending()); }());
        routing.cancel();
    }());
    EXPECT_EQ(received, data);
    EXPECT_GE(p.a->tcp().counters().path_mtu_updates, 1u);
}
