// echo: the Echo Protocol (RFC 862) over TCP and UDP on the boot argument --port (7 by
// default). Every TCP connection gets back what it sends until it closes; every UDP datagram
// is sent back to where it came from. The same source runs on the host's sockets
// (`./sarab run examples/echo`) and on Sarab's own stack (`--net tap:IF`, and on virtio).
#include <sarab/app.hpp>
#include <sarab/net/interface.hpp>

using namespace sarab;

namespace {

net::Interface service { "service", "the interface echo answers on" };
BootArg<u16> port { "port", 7, "TCP and UDP port to echo on" };
log::Source echo_log { "echo" };

Task<void> echo_connection(net::TcpStream stream)
{
    std::array<std::byte, 16 * 1024> buffer;
    for (;;) {
        auto n = co_await stream.read(buffer);
        if (!n) {
            log::debug(echo_log, "read from {}: {}", stream.remote(), net::error_name(n.error()));
            co_return;
        }
        if (*n == 0)
            co_return; // the peer is done; closing the stream closes our side
        auto written = co_await stream.write(std::span(buffer).first(*n));
        if (!written)
            co_return;
    }
}

Task<int> serve_tcp(net::Stack& stack)
{
    auto listener = stack.tcp_listen(port.value());
    if (!listener) {
        log::error(echo_log, "cannot listen on TCP port {}: {}", port.value(), net::error_name(listener.error()));
        co_return 1;
    }
    for (;;) {
        auto stream = co_await listener->accept();
        if (!stream) {
            log::warn(echo_log, "accept: {}", net::error_name(stream.error()));
            continue;
        }
        spawn(echo_connection(stream.release_value()));
    }
}

Task<int> serve_udp(net::Stack& stack)
{
    auto socket = stack.udp_bind(port.value());
    if (!socket) {
        log::error(echo_log, "cannot bind UDP port {}: {}", port.value(), net::error_name(socket.error()));
        co_return 1;
    }
    static std::array<std::byte, 65536> buffer; // the largest datagram
    for (;;) {
        auto got = co_await socket->receive(buffer);
        if (!got)
            continue;
        (void)socket->send_to(got->from, std::span(buffer).first(got->size));
    }
}

} // namespace

Task<int> sarab::app_main()
{
    net::Stack& stack = service.stack();
    log::info(echo_log, "echoing on TCP and UDP port {} ({} stack)", port.value(), stack.kind());
    // Both run for ever; either ends only if it cannot start.
    auto ended = co_await when_any(serve_tcp(stack), serve_udp(stack));
    co_return ended.index() == 0 ? std::get<0>(ended) : std::get<1>(ended);
}
