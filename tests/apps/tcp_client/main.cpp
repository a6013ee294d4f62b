// tcp_client: connects to --to=ADDR:PORT, sends --bytes of a known pattern while reading
// everything the server sends back, half-closes after sending, and prints how many bytes went
// each way with an FNV-1a hash of each, so that a test can compare them with what the server
// saw. Exits 0 when the exchange ended cleanly, 1 otherwise.
#include <sarab/app.hpp>
#include <sarab/net/interface.hpp>

using namespace sarab;

namespace {

net::Interface service { "service", "the interface to connect from" };
BootArg<net::Endpoint> to { "to", {}, "the server to connect to (ADDR:PORT)" };
BootArg<u64> bytes { "bytes", 1000000, "how many bytes to send" };
log::Source client_log { "client" };

struct Fnv {
    u64 hash = 1469598103934665603ull;
    void add(std::span<const std::byte> data)
    {
        for (std::byte b : data)
            hash = (hash ^ u64(b)) * 1099511628211ull;
    }
};

std::byte pattern_at(u64 i) { return std::byte(u8(i * 7 + (i >> 10))); }

} // namespace

Task<int> sarab::app_main()
{
    auto stream = co_await service.stack().tcp_connect(to.value());
    if (!stream) {
        log::error(client_log, "connect to {}: {}", to.value(), net::error_name(stream.error()));
        co_return 1;
    }
    log::info(client_log, "connected {} -> {}", stream->local(), stream->remote());
    Fnv sent_hash, received_hash;
    u64 received = 0;
    bool ok = true;
    auto writer = [&]() -> Task<void> {
        std::array<std::byte, 8192> chunk;
        for (u64 sent = 0; sent < bytes.value();) {
            usize n = usize(std::min<u64>(chunk.size(), bytes.value() - sent));
            for (usize i = 0; i < n; ++i)
                chunk[i] = pattern_at(sent + i);
            sent_hash.add(std::span(chunk).first(n));
            if (!co_await stream->write(std::span(chunk).first(n))) {
                ok = false;
                co_return;
            }
            sent += n;
        }
        ok = ok && stream->shutdown_write();
    };
    auto reader = [&]() -> Task<void> {
        std::array<std::byte, 16384> buffer;
        for (;;) {
            auto n = co_await stream->read(buffer);
            if (!n) {
                log::error(client_log, "read: {}", net::error_name(n.error()));
                ok = false;
                co_return;
            }
            if (*n == 0)
                co_return;
            received_hash.add(std::span(buffer).first(*n));
            received += *n;
        }
    };
    co_await when_all(writer(), reader());
    print("sent {} fnv {:016x}\n", bytes.value(), sent_hash.hash);
    print("received {} fnv {:016x}\n", received, received_hash.hash);
    co_return ok ? 0 : 1;
}
