// HTTP service: the HTTP/1.1 server (RFC 9110, RFC 9112) over net::TcpStream.
//
// Server::serve accepts connections and serves each in its own task; serve_connection serves
// one stream (tests hand it an in-memory one). A connection reads into a buffer of its own,
// parses requests from it in place (RequestParser), and hands each to the route the Router
// finds for it, one at a time, so responses leave in the order the requests came even when a
// client pipelines them; responses to pipelined requests that are already in the buffer are
// gathered and sent with one write. Connections persist unless the client or the response
// says otherwise. Small bodies are copied behind their header into one write; large ones go
// from where they are (a store's bytes) straight to the stream. Buffers belong to the
// connection and are reused, so the steady state does not allocate per request, and a
// closed connection's buffers go to the next one. Gathered responses are written at most a
// send buffer at a time. TCP_NODELAY is set once a response takes more than one write.
//
// The server answers by itself: malformed or over-limit requests (400, 413, 414, 431, 501,
// 505, 417; the connection then closes, after reading what the client still sends for a
// moment so that the answer is not lost to a reset), unknown methods (501), paths without a
// route (404), methods without a route (405 with Allow; OPTIONS gets 204 with Allow).
// Expect: 100-continue gets its 100 before the body is read.
//
// Time limits, each enforced by a watchdog task per connection that races the connection's
// work in a when_any: a new connection must complete its first request's header block within
// header_timeout, an idle persistent connection is closed after keep_alive_timeout, a request
// whose header block has started must complete it within header_timeout of its first byte
// (slowloris; answered 408), each read of a body may wait body_timeout, and each write may
// wait write_timeout for a client that does not read.
#pragma once

#include <sarab/net/socket.hpp>
#include <sarab/services/http/date.hpp>
#include <sarab/services/http/parser.hpp>
#include <sarab/services/http/router.hpp>

#include <chrono>
#include <memory>

namespace sarab::http {

namespace detail {
struct ConnectionPools;
}

struct ServerOptions {
    Limits limits;
    Duration header_timeout = std::chrono::seconds(10);
    Duration keep_alive_timeout = std::chrono::seconds(30);
    Duration body_timeout = std::chrono::seconds(30);
    Duration write_timeout = std::chrono::seconds(30);
    Duration linger_timeout = std::chrono::seconds(2); // reading after an error answer, before closing
    std::string_view server_name = "sarab";            // the Server field; "" for none
    usize max_connections = 10000;                      // more are closed as soon as accepted
    usize receive_buffer = 4096;                        // per connection at first; grows to what limits allow
    usize send_buffer = 16 * 1024;                      // responses are gathered up to this before a write
};

struct ServerStats {
    u64 connections = 0;    // accepted
    u64 open = 0;           // being served now
    u64 requests = 0;       // complete requests handled
    u64 responses[6] = {};  // by class: [1] 1xx ... [5] 5xx
    u64 rejected = 0;       // requests refused by the parser (400, 413, ...)
    u64 timeouts = 0;       // connections closed by a time limit
};

class Server {
public:
    explicit Server(const Router& router, ServerOptions options = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Accepts connections and serves each in a task of its own, for ever; returns only when
    // accepting fails for good. The server must outlive the tasks it spawns.
    Task<ErrorOr<void, net::SocketError>> serve(net::TcpListener& listener);
    // Serves one connection until it closes.
    Task<void> serve_connection(net::TcpStream stream);

    const ServerStats& stats() const { return m_stats; }
    const ServerOptions& options() const { return m_options; }

private:
    friend class detail::Connection;
    // "Server: ...\r\nDate: ...\r\n", made once a second.
    std::string_view common_fields();

    const Router& m_router;
    ServerOptions m_options;
    ServerStats m_stats;
    DateCache m_date;
    std::array<char, 160> m_common;
    usize m_common_size = 0;
    i64 m_common_second = -1;
    std::unique_ptr<detail::ConnectionPools> m_pools; // buffers of closed connections, for the next ones
};

} // namespace sarab::http
