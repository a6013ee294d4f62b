// tcp_sink: the Discard Protocol (RFC 863) over TCP on --port (9 by default): reads and
// throws away whatever each connection sends, and when it closes prints how many bytes came
// and at what rate, for throughput measurements (bench/net/tcp_throughput.sh).
#include <sarab/app.hpp>
#include <sarab/net/interface.hpp>

using namespace sarab;

namespace {

net::Interface service { "service", "the interface to listen on" };
BootArg<u16> port { "port", 9, "TCP port to discard on" };

Task<void> discard(net::TcpStream stream)
{
    static std::array<std::byte, 256 * 1024> buffer; // never read: one for all connections
    u64 total = 0;
    Instant start = MonotonicClock::now();
    for (;;) {
        auto n = co_await stream.read(buffer);
        if (!n || *n == 0)
            break;
        total += *n;
    }
    double seconds = std::chrono::duration<double>(MonotonicClock::now() - start).count();
    print("received {} bytes in {:.3} s: {:.3} Gbit/s\n", total, seconds, seconds > 0 ? double(total) * 8 / seconds / 1e9 : 0.0);
}

} // namespace

Task<int> sarab::app_main()
{
    auto listener = service.stack().tcp_listen(port.value());
    if (!listener) {
        print("cannot listen on {}: {}\n", port.value(), net::error_name(listener.error()));
        co_return 1;
    }
    print("discarding on TCP port {} ({} stack)\n", port.value(), service.stack().kind());
    for (;;) {
        auto stream = co_await listener->accept();
        if (stream)
            spawn(discard(stream.release_value()));
    }
}
