// The DHCP client against a small scripted server on the simulated wire, in virtual time.
#include <sarab/net/dhcp.hpp>
#include <sarab/net/stack.hpp>
#include <sarab/platform/simulated.hpp>

#include "../coroutine_assert.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace sarab;
using namespace sarab::net;
using namespace std::chrono_literals;
namespace sim = sarab::platform::sim;

namespace {

const Ipv4Address server_ip { 198, 18, 0, 1 };
const Ipv4Address offered { 198, 18, 0, 50 };

struct Seen {
    wire::DhcpMessageType type;
    Ipv4Address client_ip;
    Duration at;
};

// Answers DISCOVER with an OFFER of 198.18.0.50/24 and REQUEST with an ACK (or a NAK once
// `refuse` is set), leases of 120 s; stops answering once `silent` is set.
struct Server {
    bool refuse = false;
    bool silent = false;
    std::vector<Seen> seen;

    Task<void> run(Stack& stack)
    {
        auto socket = stack.udp_bind(wire::dhcp_server_port);
        std::array<std::byte, 1500> buffer;
        for (;;) {
            auto got = co_await socket->receive(buffer);
            auto view = wire::DhcpView::parse(std::span(buffer).first(got->size));
            auto request = wire::DhcpRepr::parse(*view);
            CO_ASSERT_TRUE(request);
            seen.push_back({ request->message_type, request->client_ip, MonotonicClock::now().time_since_epoch() });
            if (silent)
                continue;
            wire::DhcpRepr reply;
            reply.operation = wire::DhcpOperation::reply;
            reply.transaction_id = request->transaction_id;
            reply.client_hardware_address = request->client_hardware_address;
            reply.your_ip = offered;
            reply.server_identifier = server_ip;
            reply.subnet_mask = Ipv4Address(255, 255, 255, 0);
            reply.routers.push(server_ip);
            reply.lease_time = 120;
            if (request->message_type == wire::DhcpMessageType::discover)
                reply.message_type = wire::DhcpMessageType::offer;
            else
                reply.message_type = refuse ? wire::DhcpMessageType::nak : wire::DhcpMessageType::ack;
            std::vector<std::byte> bytes(reply.buffer_len());
            reply.emit(bytes);
            Ipv4Address to = request->client_ip.is_any() ? Ipv4Address::broadcast() : request->client_ip;
            (void)socket->send_to({ to, wire::dhcp_client_port }, bytes);
        }
    }
};

struct Net {
    Net()
    {
        sim::add_nic("client", { 2, 0, 0, 0, 0, 0xc });
        sim::add_nic("server", { 2, 0, 0, 0, 0, 0x5 });
        sim::connect("client", "server");
        client_nic.emplace(platform::net_acquire("client").release_value());
        server_nic.emplace(platform::net_acquire("server").release_value());
        client.emplace(*client_nic, StackConfig {});
        server.emplace(*server_nic, StackConfig { { server_ip, 24 }, std::nullopt });
        dhcp.emplace(*client, 42);
    }
    // Runs `body` with both stacks up, the scripted server answering and the client leasing.
    template<class Body>
    void run(Server& dhcp_server, Body&& body)
    {
        Scheduler s;
        client->start();
        server->start();
        s.run(drive(dhcp_server, body));
    }
    template<class Body>
    Task<void> drive(Server& dhcp_server, Body& body)
    {
        TaskHandle serving = spawn(dhcp_server.run(*server));
        TaskHandle leasing = spawn(dhcp->run());
        co_await body();
    }
    std::optional<PlatformNic> client_nic, server_nic;
    std::optional<DirectStack<PlatformNic>> client, server;
    std::optional<DhcpClient<DirectStack<PlatformNic>>> dhcp;
};

} // namespace

class DhcpTest : public ::testing::Test {
protected:
    void SetUp() override { sim::reset(11); }
};

TEST_F(DhcpTest, GetsALeaseConfiguresTheStackAndRenewsAtT1)
{
    Net n;
    Server server;
    n.run(server, [&]() -> Task<void> {
        co_await n.dhcp->bound().wait();
        EXPECT_EQ(n.client->ip().cidr(), (Ipv4Cidr { offered, 24 }));
        EXPECT_EQ(n.client->ip().gateway(), server_ip);
        // Configured: it now answers ping at its new address.
        bool answered = false;
        n.server->icmp().on_echo_reply = [&](Ipv4Address from, u16, u16, std::span<const std::byte>) { answered = from == offered; };
        n.server->icmp().send_echo_request(offered, 1, 1, {}, MonotonicClock::now());
        co_await sleep_for(10ms);
        EXPECT_TRUE(answered);
        co_await sleep_for(200s); // past T1 (60 s) of the first lease and of the renewed one
        EXPECT_TRUE(n.dhcp->bound().is_set());
    });
    ASSERT_GE(server.seen.size(), 4u);
    EXPECT_EQ(server.seen[0].type, wire::DhcpMessageType::discover);
    EXPECT_EQ(server.seen[1].type, wire::DhcpMessageType::request);
    EXPECT_TRUE(server.seen[1].client_ip.is_any());
    // Renewals come at T1 from the leased address, unicast to the server.
    EXPECT_EQ(server.seen[2].type, wire::DhcpMessageType::request);
    EXPECT_EQ(server.seen[2].client_ip, offered);
    EXPECT_NEAR(std::chrono::duration<double>(server.seen[2].at - server.seen[1].at).count(), 60.0, 0.01);
    EXPECT_EQ(n.dhcp->counters().leases_lost, 0u);
}

TEST_F(DhcpTest, RetransmitsWithBackoffWhileNobodyAnswers)
{
    Net n;
    Server server;
    server.silent = true;
    n.run(server, [&]() -> Task<void> {
        co_await sleep_for(100s);
    });
    ASSERT_GE(server.seen.size(), 4u);
    // 4 s, 8 s, 16 s, 32 s apart, each within a second.
    for (usize i = 1; i < 4; ++i) {
        double gap = std::chrono::duration<double>(server.seen[i].at - server.seen[i - 1].at).count();
        double expected = 4.0 * double(1 << (i - 1));
        EXPECT_NEAR(gap, expected, 1.0) << i;
    }
    EXPECT_FALSE(n.dhcp->bound().is_set());
}

TEST_F(DhcpTest, ALeaseThatCannotBeRenewedIsGivenUp)
{
    Net n;
    Server server;
    n.run(server, [&]() -> Task<void> {
        co_await n.dhcp->bound().wait();
        server.silent = true; // the server goes away: renewing and rebinding fail
        co_await sleep_for(125s);
        EXPECT_FALSE(n.dhcp->bound().is_set());
        EXPECT_TRUE(n.client->ip().address().is_any());
        server.silent = false; // it comes back: a new lease
        co_await n.dhcp->bound().wait();
        EXPECT_EQ(n.client->ip().address(), offered);
    });
    EXPECT_EQ(n.dhcp->counters().leases_lost, 1u);
    bool rebound_by_broadcast = false;
    for (const Seen& seen : server.seen)
        rebound_by_broadcast = rebound_by_broadcast || (seen.type == wire::DhcpMessageType::request && seen.client_ip == offered && seen.at > 105s);
    EXPECT_TRUE(rebound_by_broadcast);
}

TEST_F(DhcpTest, ANakStartsAgain)
{
    Net n;
    Server server;
    server.refuse = true;
    n.run(server, [&]() -> Task<void> {
        co_await sleep_for(1s);
        server.refuse = false;
        co_await n.dhcp->bound().wait();
    });
    EXPECT_GE(n.dhcp->counters().naks, 1u);
    EXPECT_GE(n.dhcp->counters().discovers, 2u);
}
