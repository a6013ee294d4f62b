// The application's view of the network: UDP sockets, TCP listeners and streams, and the
// Stack that makes them.
//
// Two stacks implement this interface: the socket stack, over the host's sockets (hosted
// only, `--net socket`), and Sarab's own stack over a NIC (`--net tap:IF` on hosted,
// virtio-net on virtio). An application is written once against these classes and runs on
// either; which one it gets is decided when its net::Interface is opened (see
// interface.hpp).
//
// Everything that waits is a coroutine, and cancelling the task that waits (a timeout, a
// when_any) leaves the socket usable. Errors are SocketError values that say what a caller
// can act on: connection_refused, connection_reset, timed_out, closed, ...
#pragma once

#include <sarab/base/error.hpp>
#include <sarab/base/time.hpp>
#include <sarab/net/address.hpp>
#include <sarab/runtime/task.hpp>

#include <memory>
#include <span>

namespace sarab::net {

enum class SocketError : u8 {
    address_in_use,
    address_unavailable, // no such local address
    permission_denied,   // e.g. a port below 1024 without the right to bind it
    connection_refused,
    connection_reset,
    connection_aborted,
    timed_out,
    host_unreachable,
    network_unreachable,
    message_too_big,     // a datagram larger than the stack can send
    closed,              // the socket was closed, or the write side was shut down
    no_buffers,          // out of buffers or memory right now
    invalid_argument,
    unsupported,         // not offered by this stack
    io,
};
const char* error_name(SocketError);

struct Received {
    Endpoint from;
    usize size = 0;         // bytes written into the caller's buffer
    bool truncated = false; // the datagram was larger than the buffer
};

namespace detail {

// Interrupt moderation for a receiving socket (see Scheduler::moderate_devices): when the
// socket is about to wait after a burst of at least `burst` datagrams since its last wait,
// the devices are left alone for `quiet`, so the next burst is read, and answered, in one
// batch. A socket that sees one datagram at a time never delays anything.
class ReceiveModeration {
public:
    static constexpr usize burst = 4;
    void set(Duration quiet) { m_quiet = quiet; }
    void received() { ++m_since_wait; }
    void before_wait();

private:
    Duration m_quiet { 0 };
    usize m_since_wait = 0;
};

class UdpImpl {
public:
    virtual ~UdpImpl() = default;
    virtual Task<ErrorOr<Received, SocketError>> receive(std::span<std::byte> buffer) = 0;
    virtual ErrorOr<void, SocketError> send_to(Endpoint to, std::span<const std::byte> data) = 0;
    // A stack that can send several datagrams at once overrides these two.
    virtual ErrorOr<void, SocketError> queue_to(Endpoint to, std::span<const std::byte> data) { return send_to(to, data); }
    virtual ErrorOr<void, SocketError> flush() { return {}; }
    virtual Endpoint local() const = 0;

    ReceiveModeration moderation; // receive() calls received() and before_wait()
};

class TcpStreamImpl {
public:
    virtual ~TcpStreamImpl() = default;
    virtual Task<ErrorOr<usize, SocketError>> read(std::span<std::byte> buffer) = 0;
    virtual Task<ErrorOr<void, SocketError>> write(std::span<const std::byte> data) = 0;
    virtual ErrorOr<void, SocketError> shutdown_write() = 0;
    virtual void set_no_delay(bool) = 0;
    virtual void abort() = 0;
    virtual Endpoint local() const = 0;
    virtual Endpoint remote() const = 0;
};

class TcpListenerImpl;

} // namespace detail

// A UDP socket bound to a local port.
class UdpSocket {
public:
    UdpSocket() = default;
    explicit UdpSocket(std::unique_ptr<detail::UdpImpl> impl)
        : m_impl(std::move(impl))
    {
    }
    bool is_open() const { return m_impl != nullptr; }

    // Waits for the next datagram and copies it into `buffer`.
    Task<ErrorOr<Received, SocketError>> receive(std::span<std::byte> buffer);
    // Sends one datagram. Does not wait: when there is no room it fails with no_buffers
    // (UDP may drop anyway).
    ErrorOr<void, SocketError> send_to(Endpoint to, std::span<const std::byte> data);
    // The same, for servers that answer many small requests: the datagram is copied into a
    // batch that leaves in one go (one sendmmsg on the socket stack) when the batch is full,
    // on flush(), or when receive() finds nothing more to read and is about to wait. Answer
    // with queue_to between receives; call flush() before waiting on anything else.
    ErrorOr<void, SocketError> queue_to(Endpoint to, std::span<const std::byte> data);
    ErrorOr<void, SocketError> flush();
    // For servers under load (off by default): after a burst of datagrams, receive() lets
    // the devices rest for `quiet` before it reads again, so that requests are read and
    // answered in larger batches, for less CPU per request. Adds at most `quiet` to the
    // latency of a request that arrives during a burst; none when requests come one by one.
    void set_receive_moderation(Duration quiet);
    Endpoint local() const;
    void close() { m_impl.reset(); }

private:
    std::unique_ptr<detail::UdpImpl> m_impl;
};

// One TCP connection. Closing (or destroying) it sends what is queued and then a FIN.
class TcpStream {
public:
    TcpStream() = default;
    explicit TcpStream(std::unique_ptr<detail::TcpStreamImpl> impl)
        : m_impl(std::move(impl))
    {
    }
    bool is_open() const { return m_impl != nullptr; }

    // Waits until some bytes arrive and copies up to buffer.size() of them; 0 means the peer
    // has closed its side (end of stream).
    Task<ErrorOr<usize, SocketError>> read(std::span<std::byte> buffer);
    // Queues all of `data`, waiting while the send buffer is full (back-pressure).
    Task<ErrorOr<void, SocketError>> write(std::span<const std::byte> data);
    Task<ErrorOr<void, SocketError>> write(std::string_view text) { return write(std::as_bytes(std::span(text))); }
    // Half-close: no more writes; the peer reads end of stream, and this side can still read.
    ErrorOr<void, SocketError> shutdown_write();
    // Disables (true) or enables Nagle's algorithm.
    void set_no_delay(bool);
    // Graceful close.
    void close() { m_impl.reset(); }
    // Resets the connection (RST); queued data is thrown away.
    void abort();
    Endpoint local() const;
    Endpoint remote() const;

private:
    std::unique_ptr<detail::TcpStreamImpl> m_impl;
};

namespace detail {
class TcpListenerImpl {
public:
    virtual ~TcpListenerImpl() = default;
    virtual Task<ErrorOr<TcpStream, SocketError>> accept() = 0;
    virtual Endpoint local() const = 0;
};
} // namespace detail

class TcpListener {
public:
    TcpListener() = default;
    explicit TcpListener(std::unique_ptr<detail::TcpListenerImpl> impl)
        : m_impl(std::move(impl))
    {
    }
    bool is_open() const { return m_impl != nullptr; }
    // Waits for the next connection.
    Task<ErrorOr<TcpStream, SocketError>> accept();
    Endpoint local() const;
    void close() { m_impl.reset(); }

private:
    std::unique_ptr<detail::TcpListenerImpl> m_impl;
};

// A network stack, as the application sees it.
class Stack {
public:
    virtual ~Stack() = default;
    // "socket" or "sarab".
    virtual std::string_view kind() const = 0;
    // Port 0 picks a free one (see local()).
    virtual ErrorOr<UdpSocket, SocketError> udp_bind(u16 port) = 0;
    virtual ErrorOr<TcpListener, SocketError> tcp_listen(u16 port, u32 backlog = 1024) = 0;
    virtual Task<ErrorOr<TcpStream, SocketError>> tcp_connect(Endpoint to) = 0;
};

} // namespace sarab::net
