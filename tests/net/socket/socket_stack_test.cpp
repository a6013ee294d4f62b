// The socket stack against the host's own TCP/IP, over loopback.
#include <sarab/net/interface.hpp>
#include <sarab/runtime/scheduler.hpp>
#include <sarab/runtime/when.hpp>

#include "../../coroutine_assert.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace sarab;
using namespace sarab::net;
using namespace std::chrono_literals;

namespace {

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s)); }

std::string text_of(std::span<const std::byte> b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

Endpoint loopback(u16 port) { return { Ipv4Address::loopback(), port }; }

// Reads until end of stream; everything read, or the error.
Task<ErrorOr<std::string, SocketError>> read_all(TcpStream& s)
{
    std::string out;
    std::array<std::byte, 4096> buffer;
    for (;;) {
        auto n = co_await s.read(buffer);
        if (!n)
            co_return failure(n.error());
        if (*n == 0)
            co_return out;
        out += text_of(std::span(buffer).first(*n));
    }
}

} // namespace

class SocketStackTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_NE(net::detail::socket_stack_factory, nullptr) << "the socket stack is not linked in";
        m_stack = net::detail::socket_stack_factory();
    }
    Stack& stack() { return *m_stack; }

private:
    std::unique_ptr<Stack> m_stack;
};

TEST_F(SocketStackTest, UdpRoundTrip)
{
    Scheduler s;
    s.run([&]() -> Task<void> {
        auto a = stack().udp_bind(0);
        auto b = stack().udp_bind(0);
        CO_ASSERT_TRUE(a && b);
        EXPECT_NE(a->local().port, 0);
        CO_ASSERT_TRUE(a->send_to(loopback(b->local().port), bytes_of("ping")));
        std::array<std::byte, 64> buffer;
        auto got = co_await b->receive(buffer);
        CO_ASSERT_TRUE(got);
        EXPECT_EQ(text_of(std::span(buffer).first(got->size)), "ping");
        EXPECT_EQ(got->from.port, a->local().port);
        EXPECT_FALSE(got->truncated);
        // A datagram larger than the buffer is cut and says so.
        CO_ASSERT_TRUE(a->send_to(loopback(b->local().port), bytes_of(std::string(100, 'x'))));
        auto cut = co_await b->receive(std::span(buffer).first(10));
        CO_ASSERT_TRUE(cut);
        EXPECT_EQ(cut->size, 10u);
        EXPECT_TRUE(cut->truncated);
    }());
}

TEST_F(SocketStackTest, UdpBurstIsReceivedInOrder)
{
    Scheduler s;
    s.run([&]() -> Task<void> {
        auto a = stack().udp_bind(0);
        auto b = stack().udp_bind(0);
        for (int i = 0; i < 100; ++i)
            CO_ASSERT_TRUE(a->send_to(loopback(b->local().port), bytes_of(std::to_string(i))));
        std::array<std::byte, 64> buffer;
        for (int i = 0; i < 100; ++i) {
            auto got = co_await b->receive(buffer);
            CO_ASSERT_TRUE(got);
            EXPECT_EQ(text_of(std::span(buffer).first(got->size)), std::to_string(i));
        }
    }());
}

TEST_F(SocketStackTest, QueuedDatagramsLeaveTogether)
{
    Scheduler s;
    s.run([&]() -> Task<void> {
        auto a = stack().udp_bind(0);
        auto b = stack().udp_bind(0);
        // More than one batch: the first 64 leave when the 65th is queued.
        for (int i = 0; i < 72; ++i)
            CO_ASSERT_TRUE(a->queue_to(loopback(b->local().port), bytes_of(std::to_string(i))));
        std::array<std::byte, 64> buffer;
        for (int i = 0; i < 64; ++i) {
            auto got = co_await b->receive(buffer);
            CO_ASSERT_TRUE(got);
            EXPECT_EQ(text_of(std::span(buffer).first(got->size)), std::to_string(i));
        }
        // The other 8 wait in a's batch until a finds nothing to read and is about to wait.
        auto nothing = co_await with_timeout(20ms, b->receive(buffer));
        EXPECT_FALSE(nothing);
        auto a_waits = co_await with_timeout(1ms, a->receive(buffer));
        EXPECT_FALSE(a_waits);
        for (int i = 64; i < 72; ++i) {
            auto got = co_await b->receive(buffer);
            CO_ASSERT_TRUE(got);
            EXPECT_EQ(text_of(std::span(buffer).first(got->size)), std::to_string(i));
        }
        // An explicit flush sends at once.
        CO_ASSERT_TRUE(a->queue_to(loopback(b->local().port), bytes_of("now")));
        CO_ASSERT_TRUE(a->flush());
        auto now = co_await with_timeout(1s, b->receive(buffer));
        CO_ASSERT_TRUE(now && *now);
        EXPECT_EQ(text_of(std::span(buffer).first((*now)->size)), "now");
    }());
}

TEST_F(SocketStackTest, ReceiveModerationDelaysOnlyAfterABurst)
{
    Scheduler s;
    s.run([&]() -> Task<void> {
        auto a = stack().udp_bind(0);
        auto b = stack().udp_bind(0);
        CO_ASSERT_TRUE(a && b);
        b->set_receive_moderation(300ms);
        std::array<std::byte, 64> buffer;
        auto send_soon = [&](std::string text) -> Task<void> {
            co_await sleep_for(1ms);
            (void)a->send_to(loopback(b->local().port), bytes_of(text));
        };
        // One datagram at a time: no delay.
        CO_ASSERT_TRUE(a->send_to(loopback(b->local().port), bytes_of("one")));
        CO_ASSERT_TRUE(co_await b->receive(buffer));
        Instant start = MonotonicClock::now();
        auto got = std::get<0>(co_await when_all(b->receive(buffer), send_soon("two")));
        CO_ASSERT_TRUE(got);
        EXPECT_EQ(text_of(std::span(buffer).first(got->size)), "two");
        EXPECT_LT(MonotonicClock::now() - start, 250ms);
        // After a burst of 4 the socket lets the next datagrams gather for the quiet time.
        for (int i = 0; i < 4; ++i)
            CO_ASSERT_TRUE(a->send_to(loopback(b->local().port), bytes_of("burst")));
        for (int i = 0; i < 4; ++i)
            CO_ASSERT_TRUE(co_await b->receive(buffer));
        start = MonotonicClock::now();
        auto late = std::get<0>(co_await when_all(b->receive(buffer), send_soon("three")));
        CO_ASSERT_TRUE(late);
        EXPECT_EQ(text_of(std::span(buffer).first(late->size)), "three");
        EXPECT_GE(MonotonicClock::now() - start, 300ms);
        EXPECT_GE(s.stats().quiet_yields, 1u);
    }());
}

TEST_F(SocketStackTest, TcpBothWaysWithHalfClose)
{
    Scheduler s;
    auto server = [&](TcpListener& listener) -> Task<void> {
        auto conn = co_await listener.accept();
        CO_ASSERT_TRUE(conn);
        auto request = co_await read_all(*conn); // until the client's half-close
        CO_ASSERT_TRUE(request);
        EXPECT_EQ(*request, "request");
        CO_ASSERT_TRUE(co_await conn->write("reply to " + *request));
    };
    s.run([&]() -> Task<void> {
        auto listener = stack().tcp_listen(0);
        CO_ASSERT_TRUE(listener);
        TaskHandle serving = spawn(server(*listener));
        auto client = co_await stack().tcp_connect(loopback(listener->local().port));
        CO_ASSERT_TRUE(client);
        EXPECT_EQ(client->remote().port, listener->local().port);
        CO_ASSERT_TRUE(co_await client->write("request"));
        CO_ASSERT_TRUE(client->shutdown_write());
        auto reply = co_await read_all(*client);
        CO_ASSERT_TRUE(reply);
        EXPECT_EQ(*reply, "reply to request");
        (void)co_await serving.join();
    }());
}

TEST_F(SocketStackTest, ConnectionRefused)
{
    Scheduler s;
    s.run([&]() -> Task<void> {
        u16 port;
        {
            auto listener = stack().tcp_listen(0);
            port = listener->local().port;
        } // closed again: nobody listens there now
        auto client = co_await stack().tcp_connect(loopback(port));
        CO_ASSERT_FALSE(client);
        EXPECT_EQ(client.error(), SocketError::connection_refused);
    }());
}

TEST_F(SocketStackTest, WritesWaitForARoomyBufferAndAllBytesArrive)
{
    // 16 MB through a reader that is slower at first: the writer must wait, not fail.
    constexpr usize total = 16 << 20;
    Scheduler s;
    usize received = 0;
    u64 sum = 0;
    auto reader = [&](TcpListener& listener) -> Task<void> {
        auto conn = co_await listener.accept();
        co_await sleep_for(50ms);
        std::array<std::byte, 65536> buffer;
        for (;;) {
            auto n = co_await conn->read(buffer);
            if (!n || *n == 0)
                break;
            for (usize i = 0; i < *n; ++i)
                sum += u8(buffer[i]);
            received += *n;
        }
    };
    s.run([&]() -> Task<void> {
        auto listener = stack().tcp_listen(0);
        TaskHandle reading = spawn(reader(*listener));
        auto client = co_await stack().tcp_connect(loopback(listener->local().port));
        std::vector<std::byte> data(total);
        u64 expected = 0;
        for (usize i = 0; i < total; ++i) {
            data[i] = std::byte(i * 31 + 7);
            expected += u8(data[i]);
        }
        CO_ASSERT_TRUE(co_await client->write(data));
        client->close();
        (void)co_await reading.join();
        EXPECT_EQ(received, total);
        EXPECT_EQ(sum, expected);
    }());
}

TEST_F(SocketStackTest, AbortResetsThePeer)
{
    Scheduler s;
    s.run([&]() -> Task<void> {
        auto listener = stack().tcp_listen(0);
        auto client = co_await stack().tcp_connect(loopback(listener->local().port));
        auto conn = co_await listener->accept();
        CO_ASSERT_TRUE(client && conn);
        conn->abort();
        std::array<std::byte, 16> buffer;
        auto n = co_await client->read(buffer);
        CO_ASSERT_FALSE(n);
        EXPECT_EQ(n.error(), SocketError::connection_reset);
    }());
}

TEST_F(SocketStackTest, ATimedOutReadLeavesTheStreamUsable)
{
    Scheduler s;
    s.run([&]() -> Task<void> {
        auto listener = stack().tcp_listen(0);
        auto client = co_await stack().tcp_connect(loopback(listener->local().port));
        auto conn = co_await listener->accept();
        std::array<std::byte, 16> buffer;
        auto timed_out = co_await with_timeout(20ms, client->read(buffer));
        CO_ASSERT_FALSE(timed_out);
        EXPECT_EQ(timed_out.error(), Errc::timed_out);
        CO_ASSERT_TRUE(co_await conn->write("late"));
        auto n = co_await client->read(buffer);
        CO_ASSERT_TRUE(n);
        EXPECT_EQ(text_of(std::span(buffer).first(*n)), "late");
    }());
}

TEST_F(SocketStackTest, ManyConnectionsAtOnce)
{
    constexpr int count = 300;
    Scheduler s;
    int echoed = 0;
    auto serve = [&](TcpStream conn) -> Task<void> {
        std::array<std::byte, 64> buffer;
        auto n = co_await conn.read(buffer);
        if (n && *n > 0)
            (void)co_await conn.write(std::span(buffer).first(*n));
    };
    auto accept_all = [&](TcpListener& listener) -> Task<void> {
        for (int i = 0; i < count; ++i) {
            auto conn = co_await listener.accept();
            CO_ASSERT_TRUE(conn);
            spawn(serve(conn.release_value()));
        }
    };
    auto client = [&](u16 port, int i) -> Task<void> {
        auto c = co_await stack().tcp_connect(loopback(port));
        CO_ASSERT_TRUE(c);
        std::string message = "client " + std::to_string(i);
        CO_ASSERT_TRUE(co_await c->write(message));
        std::array<std::byte, 64> buffer;
        auto n = co_await c->read(buffer);
        CO_ASSERT_TRUE(n);
        if (text_of(std::span(buffer).first(*n)) == message)
            ++echoed;
    };
    s.run([&]() -> Task<void> {
        auto listener = stack().tcp_listen(0, 512);
        TaskHandle accepting = spawn(accept_all(*listener));
        std::vector<Task<void>> clients;
        for (int i = 0; i < count; ++i)
            clients.push_back(client(listener->local().port, i));
        co_await when_all(std::move(clients));
        (void)co_await accepting.join();
    }());
    EXPECT_EQ(echoed, count);
}

TEST_F(SocketStackTest, PortInUse)
{
    Scheduler s; // sockets belong to a scheduler, even when made outside a task
    auto a = stack().tcp_listen(0);
    ASSERT_TRUE(a);
    auto b = stack().tcp_listen(a->local().port);
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error(), SocketError::address_in_use);
}
