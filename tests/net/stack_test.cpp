// Two of Sarab's own stacks on the simulated wire: ARP, ICMP, UDP, fragments, routing.
#include "stack_pair.hpp"

#include "../coroutine_assert.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace sarab;
using namespace sarab::net;
using namespace std::chrono_literals;
namespace sim = sarab::platform::sim;

using namespace sarab::net::testing;

class DirectStackTest : public ::testing::Test {
protected:
    void SetUp() override { sim::reset(3); }
};

TEST_F(DirectStackTest, PingResolvesTheNeighbourAndGetsAnAnswer)
{
    Pair p;
    Scheduler s;
    p.start();
    std::vector<u16> replies;
    p.a->icmp().on_echo_reply = [&](Ipv4Address from, u16 id, u16 seq, std::span<const std::byte> data) {
        EXPECT_EQ(from, ip_b);
        EXPECT_EQ(id, 77);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(data.data()), data.size()), "ping " + std::to_string(seq));
        replies.push_back(seq);
    };
    s.run([&]() -> Task<void> {
        for (u16 seq = 1; seq <= 3; ++seq) {
            std::string data = "ping " + std::to_string(seq);
            p.a->icmp().send_echo_request(ip_b, 77, seq, bytes_of(data), MonotonicClock::now());
            co_await sleep_for(10ms);
        }
    }());
    EXPECT_EQ(replies, (std::vector<u16> { 1, 2, 3 }));
    // One ARP exchange, not one per ping; both sides learnt each other.
    EXPECT_EQ(p.a->arp().counters().requests_sent, 1u + 1); // the announcement, then the question
    EXPECT_EQ(p.a->arp().lookup(ip_b, MonotonicClock::now()), mac_b);
    EXPECT_EQ(p.b->arp().lookup(ip_a, MonotonicClock::now()), mac_a);
    EXPECT_EQ(p.b->icmp().counters().echo_replies_sent, 3u);
}

TEST_F(DirectStackTest, UdpBothWays)
{
    Pair p;
    Scheduler s;
    p.start();
    s.run([&]() -> Task<void> {
        auto server = p.b->udp_bind(7);
        auto client = p.a->udp_bind(0);
        CO_ASSERT_TRUE(server && client);
        EXPECT_EQ(client->local().address, ip_a);
        EXPECT_GE(client->local().port, 49152);
        CO_ASSERT_TRUE(client->send_to({ ip_b, 7 }, bytes_of("question")));
        std::array<std::byte, 64> buffer;
        auto got = co_await server->receive(buffer);
        CO_ASSERT_TRUE(got);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer.data()), got->size), "question");
        EXPECT_EQ(got->from, client->local());
        CO_ASSERT_TRUE(server->send_to(got->from, bytes_of("answer")));
        auto back = co_await client->receive(buffer);
        CO_ASSERT_TRUE(back);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer.data()), back->size), "answer");
        EXPECT_EQ(back->from, (Endpoint { ip_b, 7 }));
        EXPECT_EQ(p.b->udp_bind(7).error(), SocketError::address_in_use);
    }());
}

TEST_F(DirectStackTest, ReceiveModerationLetsDatagramsGatherAfterABurst)
{
    Pair p;
    Scheduler s;
    p.start();
    s.run([&]() -> Task<void> {
        auto server = p.b->udp_bind(7);
        auto client = p.a->udp_bind(0);
        CO_ASSERT_TRUE(server && client);
        server->set_receive_moderation(5ms);
        std::array<std::byte, 64> buffer;
        // Resolve the neighbours first, so that what follows is timed by the wire alone.
        CO_ASSERT_TRUE(client->send_to({ ip_b, 7 }, bytes_of("hello")));
        CO_ASSERT_TRUE(co_await server->receive(buffer));
        auto send_later = [&](Duration after) -> Task<void> {
            co_await sleep_for(after);
            (void)client->send_to({ ip_b, 7 }, bytes_of("later"));
        };
        Instant start = MonotonicClock::now();
        CO_ASSERT_TRUE(std::get<0>(co_await when_all(server->receive(buffer), send_later(1ms))));
        Duration single = MonotonicClock::now() - start;
        EXPECT_LT(single, 2ms); // one at a time: no delay
        for (int i = 0; i < 6; ++i)
            CO_ASSERT_TRUE(client->send_to({ ip_b, 7 }, bytes_of("burst")));
        for (int i = 0; i < 6; ++i)
            CO_ASSERT_TRUE(co_await server->receive(buffer));
        u64 quiet_before = s.stats().quiet_yields;
        start = MonotonicClock::now();
        CO_ASSERT_TRUE(std::get<0>(co_await when_all(server->receive(buffer), send_later(1ms))));
        EXPECT_GE(MonotonicClock::now() - start, 5ms); // gathered for the quiet time
        EXPECT_LT(MonotonicClock::now() - start, 5ms + single);
        EXPECT_GT(s.stats().quiet_yields, quiet_before);
    }());
}

TEST_F(DirectStackTest, AClosedPortAnswersWithPortUnreachable)
{
    Pair p;
    Scheduler s;
    p.start();
    int errors = 0;
    p.a->icmp().on_error = [&](wire::IcmpType type, u8 code, u16, const wire::Ipv4Repr& original, std::span<const std::byte>) {
        EXPECT_EQ(type, wire::IcmpType::destination_unreachable);
        EXPECT_EQ(code, u8(wire::UnreachableCode::port));
        EXPECT_EQ(original.destination, ip_b);
        ++errors;
    };
    s.run([&]() -> Task<void> {
        auto client = p.a->udp_bind(0);
        CO_ASSERT_TRUE(client->send_to({ ip_b, 9999 }, bytes_of("anyone?")));
        co_await sleep_for(10ms);
    }());
    EXPECT_EQ(errors, 1);
    EXPECT_EQ(p.b->udp().counters().no_socket, 1u);
}

TEST_F(DirectStackTest, LargeDatagramsAreFragmentedAndReassembled)
{
    Pair p({}, 1500);
    Scheduler s;
    p.start();
    auto big = pattern(20000, 5);
    s.run([&]() -> Task<void> {
        auto server = p.b->udp_bind(5000);
        auto client = p.a->udp_bind(0);
        CO_ASSERT_TRUE(client->send_to({ ip_b, 5000 }, big));
        std::vector<std::byte> buffer(65536);
        auto got = co_await server->receive(buffer);
        CO_ASSERT_TRUE(got);
        CO_ASSERT_TRUE(got->size == big.size());
        EXPECT_TRUE(std::equal(big.begin(), big.end(), buffer.begin()));
    }());
    EXPECT_EQ(p.a->ip().counters().fragments_sent, 14u); // 20008 bytes in 1480-byte pieces
    EXPECT_EQ(p.b->ip().counters().reassembled, 1u);
}

TEST_F(DirectStackTest, ReassemblyCopesWithReorderingAndDuplicates)
{
    sim::LinkConfig messy;
    messy.reorder = 0.3;
    messy.reorder_delay = 300us;
    messy.duplicate = 0.2;
    Pair p(messy);
    Scheduler s;
    p.start();
    s.run([&]() -> Task<void> {
        auto server = p.b->udp_bind(5000);
        auto client = p.a->udp_bind(0);
        std::vector<std::byte> buffer(65536);
        for (u8 round = 0; round < 5; ++round) {
            auto data = pattern(9000 + round * 100, round);
            CO_ASSERT_TRUE(client->send_to({ ip_b, 5000 }, data));
            auto got = co_await server->receive(buffer);
            CO_ASSERT_TRUE(got && got->size == data.size());
            EXPECT_TRUE(std::equal(data.begin(), data.end(), buffer.begin())) << int(round);
            co_await sleep_for(5ms); // let the duplicates of this round go by
        }
    }());
}

TEST_F(DirectStackTest, AnIncompleteDatagramIsGivenUpAfterTheTimeout)
{
    Pair p;
    int sent_fragments = 0;
    // Lose the second fragment of the first datagram.
    sim::link("a").hook = [&](std::span<const std::byte> frame, Instant, sim::FaultAction& action) {
        if (frame.size() > 1000 && ++sent_fragments == 2)
            action.drop = true;
    };
    Scheduler s;
    p.start();
    s.run([&]() -> Task<void> {
        auto server = p.b->udp_bind(5000);
        auto client = p.a->udp_bind(0);
        CO_ASSERT_TRUE(client->send_to({ ip_b, 5000 }, pattern(4000, 1)));
        co_await sleep_for(29s);
        EXPECT_EQ(p.b->ip().counters().reassembly_failed, 0u);
        co_await sleep_for(2s);
        EXPECT_EQ(p.b->ip().counters().reassembly_failed, 1u);
        // And the next one arrives whole.
        CO_ASSERT_TRUE(client->send_to({ ip_b, 5000 }, pattern(4000, 2)));
        std::vector<std::byte> buffer(8192);
        auto got = co_await with_timeout(1s, server->receive(buffer));
        CO_ASSERT_TRUE(got && *got && (*got)->size == 4000);
    }());
}

TEST_F(DirectStackTest, BigPingsAreAnsweredInFragments)
{
    Pair p;
    Scheduler s;
    p.start();
    auto data = pattern(8000, 9);
    bool answered = false;
    p.a->icmp().on_echo_reply = [&](Ipv4Address, u16, u16 seq, std::span<const std::byte> reply) {
        answered = seq == 1 && std::equal(reply.begin(), reply.end(), data.begin(), data.end());
    };
    s.run([&]() -> Task<void> {
        // The request itself must be fragmented too: send it the way a peer would.
        auto request = wire::IcmpRepr::echo_request(1, 1, data);
        std::vector<std::byte> packet(request.buffer_len());
        request.emit(packet);
        CO_ASSERT_TRUE(p.a->ip().send_fragmented(packet, ip_b, wire::IpProtocol::icmp, MonotonicClock::now()));
        co_await sleep_for(50ms);
    }());
    EXPECT_TRUE(answered);
    EXPECT_GE(p.b->ip().counters().fragments_sent, 6u);
}

TEST_F(DirectStackTest, NobodyAnsweringArpDropsWhatWaitedAfterThreeTries)
{
    Pair p;
    Scheduler s;
    p.start();
    s.run([&]() -> Task<void> {
        auto client = p.a->udp_bind(0);
        for (int i = 0; i < 50; ++i) // more than the queue holds for one neighbour
            (void)client->send_to({ Ipv4Address(198, 18, 0, 99), 7 }, bytes_of("lost"));
        co_await sleep_for(10s);
    }());
    const ArpCounters& arp = p.a->arp().counters();
    EXPECT_EQ(arp.requests_sent, 1u + 3); // the announcement, then three questions
    EXPECT_EQ(arp.queued, 48u);
    EXPECT_EQ(arp.dropped_unresolved, 2u + 48); // two that did not fit, then those that waited
}

// Packets for many addresses that never answer (what a SYN flood's SYN-ACKs are) churn only
// unanswered cache entries and a bounded queue: the neighbour in use keeps its entry.
TEST_F(DirectStackTest, PacketsForSilentAddressesNeitherEvictNeighboursNorHoardBuffers)
{
    Pair p;
    Scheduler s;
    p.start();
    s.run([&]() -> Task<void> {
        auto client = p.a->udp_bind(0);
        auto server = p.b->udp_bind(7);
        CO_ASSERT_TRUE(client->send_to({ ip_b, 7 }, bytes_of("before")));
        co_await sleep_for(1ms);
        u64 answered = p.b->arp().counters().replies_sent;
        for (u32 i = 0; i < 1000; ++i)
            (void)client->send_to({ Ipv4Address(198, 18, 0, u8(20 + i % 200)), 7 }, bytes_of("nobody"));
        EXPECT_LE(p.a->arp().waiting(), ArpLayer<EthernetLayer<PlatformNic>>::queue_total);
        EXPECT_TRUE(p.a->arp().lookup(ip_b, MonotonicClock::now()));
        CO_ASSERT_TRUE(client->send_to({ ip_b, 7 }, bytes_of("after")));
        std::array<std::byte, 16> buffer;
        for (const char* want : { "before", "after" }) {
            auto got = co_await server->receive(buffer);
            CO_ASSERT_TRUE(got);
            EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer.data()), got->size), want);
        }
        // The neighbour was not asked for again: B answered no new request.
        EXPECT_EQ(p.b->arp().counters().replies_sent, answered);
    }());
}

TEST_F(DirectStackTest, OffLinkDestinationsGoThroughTheGateway)
{
    // B plays the gateway 198.18.0.1 as far as ARP is concerned: A must ask for the gateway,
    // not for the far destination.
    Pair p;
    Scheduler s;
    p.start();
    s.run([&]() -> Task<void> {
        auto client = p.a->udp_bind(0);
        CO_ASSERT_TRUE(client->send_to({ Ipv4Address(203, 0, 113, 5), 53 }, bytes_of("far")));
        co_await sleep_for(10ms);
        auto no_route = p.b->udp_bind(0);
        CO_ASSERT_TRUE(no_route);
        EXPECT_EQ(no_route->send_to({ Ipv4Address(203, 0, 113, 5), 53 }, bytes_of("far")).error(), SocketError::network_unreachable);
    }());
    bool asked_for_gateway = false;
    for (const std::string& line : sim::trace())
        asked_for_gateway = asked_for_gateway || line.find("a transmit 42B") != std::string::npos;
    EXPECT_TRUE(asked_for_gateway);
    EXPECT_EQ(p.b->arp().counters().received, 2u); // A's announcement and its question
}

TEST_F(DirectStackTest, CorruptFramesAreCountedAndDropped)
{
    Pair p;
    Scheduler s;
    p.start();
    u64 replies_before = 0;
    s.run([&]() -> Task<void> {
        // First a clean ping, so that ARP is settled; then every frame from A gets one bit
        // flipped somewhere.
        p.a->icmp().send_echo_request(ip_b, 1, 0, bytes_of("x"), MonotonicClock::now());
        co_await sleep_for(10ms);
        replies_before = p.b->icmp().counters().echo_replies_sent;
        sim::link("a").corrupt = 1.0;
        for (u16 i = 1; i <= 200; ++i) {
            p.a->icmp().send_echo_request(ip_b, 1, i, bytes_of("payload"), MonotonicClock::now());
            co_await sleep_for(1ms);
        }
    }());
    EXPECT_EQ(replies_before, 1u);
    const auto& eth = p.b->ethernet().counters();
    const auto& ip = p.b->ip().counters();
    const auto& icmp = p.b->icmp().counters();
    u64 replies = icmp.echo_replies_sent - replies_before;
    u64 caught = eth.malformed + eth.not_for_us + eth.unknown_type + ip.malformed + ip.not_for_us + ip.unknown_protocol + icmp.malformed;
    // Every frame is either caught by a check or, when the flipped bit was one that nothing
    // covers (the source MAC: there is no FCS here), answered as if nothing happened.
    EXPECT_EQ(replies + caught, 200u);
    EXPECT_GT(caught, 150u);
    EXPECT_GT(ip.malformed + icmp.malformed, 100u); // most flips land in a checksummed part
}
