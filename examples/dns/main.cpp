// dns: an authoritative DNS server. It serves every zone file in the read-only store `zones`
// (one zone per file; `./sarab run examples/dns --kv zones=DIR`) over UDP and TCP on the boot
// argument --port (53 by default), from the interface `service`. A zone file that does not
// parse stops the image with status 1 and a message naming the file and line: a server that
// answers from half its zones is worse than one that does not start.
#include <sarab/app.hpp>
#include <sarab/net/interface.hpp>
#include <sarab/services/dns/loader.hpp>
#include <sarab/storage/store.hpp>

#include <cstring>
#include <vector>

using namespace sarab;
using namespace std::chrono_literals;

namespace {

net::Interface service { "service", "the interface queries arrive on" };
storage::ReadOnlyStore zones { "zones", "the zone files to serve, one zone per file (NAME.zone or NAME)" };
BootArg<u16> port { "port", 53, "UDP and TCP port to answer on" };
BootArg<bool> minimal_responses { "minimal-responses", false,
    "leave the zone's NS and extra addresses out of positive answers" };
BootArg<Duration> tcp_idle { "tcp-idle", Duration(10s), "close a TCP connection idle for this long" };
BootArg<u32> tcp_connections { "tcp-connections", 256, "most TCP connections served at once" };
BootArg<u32> memo_slots { "memo-slots", 4096, "memoised answers kept (0: none)" };
BootArg<Duration> udp_moderation { "udp-moderation", Duration(100us),
    "under load, let queries gather this long between batches: less CPU per query, at most this much more latency (0: off)" };
log::Source dns_log { "dns" };

u32 g_open_connections = 0;

ErrorOr<void, Errc> load(dns::Server& server)
{
    Instant start = MonotonicClock::now();
    auto loaded = dns::load_zones(zones, server);
    if (!loaded) {
        log::error(dns_log, "{}", loaded.error());
        return failure(Errc::invalid_argument);
    }
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(MonotonicClock::now() - start);
    log::info(dns_log, "loaded {} zones, {} records in {} ms", loaded->zones, loaded->records, double(took.count()) / 1000.0);
    return {};
}

Task<void> serve_udp(net::UdpSocket& socket, dns::Server& server)
{
    std::array<std::byte, 2048> query;
    std::array<u8, 4096> response;
    for (;;) {
        auto got = co_await socket.receive(query);
        if (!got || got->truncated)
            continue; // a query longer than 2 KiB is not one this server answers
        auto bytes = std::span(reinterpret_cast<const u8*>(query.data()), got->size);
        usize n = server.answer(bytes, dns::Transport::udp, response);
        if (n > 0)
            (void)socket.queue_to(got->from, std::as_bytes(std::span(response).first(n))); // leaves with the next receive
    }
}

// One TCP connection (RFC 7766): queries framed by a two-byte length, answered in order,
// until the client closes or stays quiet for --tcp-idle.
Task<void> serve_connection(net::TcpStream stream, dns::Server& server)
{
    ++g_open_connections;
    struct Release {
        ~Release() { --g_open_connections; }
    } release;
    std::vector<u8> in(2 + dns::max_message);
    std::vector<u8> out(2 + dns::max_message);
    usize have = 0;
    dns::Transfer transfer;
    for (;;) {
        while (have >= 2) {
            usize length = dns::load_u16(in.data());
            if (have < 2 + length)
                break;
            usize n = server.answer({ in.data() + 2, length }, dns::Transport::tcp, std::span(out).subspan(2), &transfer);
            while (n > 0) {
                dns::store_u16(out.data(), u16(n));
                auto written = co_await stream.write(std::as_bytes(std::span(out).first(2 + n)));
                if (!written)
                    co_return;
                n = transfer.active() ? transfer.next(std::span(out).subspan(2)) : 0;
            }
            std::memmove(in.data(), in.data() + 2 + length, have - 2 - length);
            have -= 2 + length;
        }
        auto got = co_await with_timeout(tcp_idle.value(), stream.read(std::as_writable_bytes(std::span(in).subspan(have))));
        if (!got || !*got || **got == 0)
            co_return; // idle, failed or closed: closing the stream ends our side
        have += **got;
    }
}

Task<void> serve_tcp(net::TcpListener& listener, dns::Server& server)
{
    for (;;) {
        auto stream = co_await listener.accept();
        if (!stream) {
            log::warn(dns_log, "accept: {}", net::error_name(stream.error()));
            continue;
        }
        if (g_open_connections >= tcp_connections.value())
            continue; // dropping the stream closes it: the client retries later
        stream->set_no_delay(true);
        spawn(serve_connection(stream.release_value(), server));
    }
}

} // namespace

Task<int> sarab::app_main()
{
    dns::ServerOptions options;
    options.minimal_responses = minimal_responses.value();
    options.cache_slots = memo_slots.value();
    dns::Server server(options);
    if (!load(server))
        co_return 1;
    if (server.zone_count() == 0)
        log::warn(dns_log, "the store has no zone files: every query will be refused");
    net::Stack& stack = service.stack();
    auto udp = stack.udp_bind(port.value());
    if (!udp) {
        log::error(dns_log, "cannot bind UDP port {}: {}", port.value(), net::error_name(udp.error()));
        co_return 1;
    }
    udp->set_receive_moderation(udp_moderation.value());
    // A stack without TCP yet (Sarab's own, for now) still gets UDP service: truncated
    // answers then cannot be retried, which the log says.
    auto tcp = stack.tcp_listen(port.value());
    if (!tcp && tcp.error() != net::SocketError::unsupported) {
        log::error(dns_log, "cannot listen on TCP port {}: {}", port.value(), net::error_name(tcp.error()));
        co_return 1;
    }
    log::info(dns_log, "answering on UDP {}port {} ({} stack{})", tcp ? "and TCP " : "", port.value(), stack.kind(),
        options.minimal_responses ? ", minimal responses" : "");
    if (!tcp) {
        log::warn(dns_log, "the {} stack has no TCP: UDP only, no zone transfers", stack.kind());
        co_await serve_udp(*udp, server);
    } else {
        co_await when_all(serve_udp(*udp, server), serve_tcp(*tcp, server));
    }
    co_return 0;
}
