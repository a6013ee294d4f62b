// TCP connections: memory per idle connection and connections opened per second, with two of
// Sarab's stacks on the simulated wire (so what is measured is the stack, not a NIC).
//
//     build/bench/bench/sarab_tcp_connections_bench [CONNECTIONS (default 10000)]
//
// Opens CONNECTIONS connections from A to a listener on B, one after another, keeps them all
// open and idle, and reports the heap both stacks use for them (mallinfo2's in-use bytes
// before and after, divided by the count), and the wall-clock rate of the opening. Then it
// closes them all and checks the heap comes back. Idle connections hold no buffer: their
// send and receive rings are allocated on first use.
#include <sarab/net/stack.hpp>
#include <sarab/platform/simulated.hpp>

#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace sarab;
using namespace sarab::net;
namespace sim = sarab::platform::sim;

namespace {

usize heap_in_use() { return mallinfo2().uordblks; }

} // namespace

int main(int argc, char** argv)
{
    usize count = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10000;
    sim::reset(1);
    sim::keep_trace(false); // the simulator's own memory is not the stack's
    sim::add_nic("a", { 0x02, 0, 0, 0, 0, 0x0a });
    sim::add_nic("b", { 0x02, 0, 0, 0, 0, 0x0b });
    sim::connect("a", "b");
    PlatformNic nic_a(platform::net_acquire("a").release_value());
    PlatformNic nic_b(platform::net_acquire("b").release_value());
    const Ipv4Address ip_b(198, 18, 0, 11);
    DirectStack<PlatformNic> a(nic_a, StackConfig { { Ipv4Address(198, 18, 0, 10), 24 }, std::nullopt });
    DirectStack<PlatformNic> b(nic_b, StackConfig { { ip_b, 24 }, std::nullopt });
    Scheduler s;
    a.start();
    b.start();
    auto listener = b.tcp_listen(7, u32(count));
    if (!listener)
        return 1;
    std::vector<TcpStream> clients, servers;
    clients.reserve(count);
    servers.reserve(count);
    usize before = 0, after = 0;
    double seconds = 0;
    int status = 0;
    s.run([&]() -> Task<void> {
        co_await sleep_for(std::chrono::milliseconds(1)); // ARP, the announcements
        before = heap_in_use();
        auto start = std::chrono::steady_clock::now();
        for (usize i = 0; i < count; ++i) {
            auto client = co_await a.tcp_connect({ ip_b, 7 });
            auto server = co_await listener->accept();
            if (!client || !server) {
                std::fprintf(stderr, "connection %zu failed\n", i);
                status = 1;
                co_return;
            }
            clients.push_back(std::move(*client));
            servers.push_back(std::move(*server));
        }
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        co_await sleep_for(std::chrono::seconds(1)); // every delayed ACK sent: truly idle
        after = heap_in_use();
    }());
    if (status)
        return status;
    double per_connection = double(after - before) / double(count) / 2; // both ends
    std::printf("connections: %zu held open (both ends on one heap)\n", count);
    std::printf("heap per connection end: %.0f bytes (sizeof(tcp::Connection) = %zu)\n", per_connection, sizeof(tcp::Connection));
    std::printf("opened: %.0f connections/s (handshake, accept, both stacks on one core)\n", double(count) / seconds);
    clients.clear();
    servers.clear();
    s.run([&]() -> Task<void> { co_await sleep_for(std::chrono::seconds(120)); }()); // past TIME-WAIT
    std::printf("after closing all and TIME-WAIT: %zu connections left, heap %+.0f bytes per connection\n",
        a.tcp().connection_count() + b.tcp().connection_count(), (double(heap_in_use()) - double(before)) / double(count));
    return 0;
}
