// The socket stack: net::Stack over the host's sockets, for the hosted target.
//
// Every socket is non-blocking and registered, edge-triggered, with one epoll instance; the
// epoll descriptor is the one handle this stack gives the platform's yield. A poller task
// waits on that handle, collects the events and wakes the tasks waiting on each socket. A
// task always tries its system call first and waits only after EAGAIN, so a wake-up that
// finds nobody waiting is never lost. UDP receives are batched with recvmmsg.
#include <sarab/base/log.hpp>
#include <sarab/net/interface.hpp>
#include <sarab/net/socket.hpp>
#include <sarab/platform/hosted.hpp>
#include <sarab/runtime/scheduler.hpp>
#include <sarab/runtime/sync.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

namespace sarab::net {

namespace {

log::Source g_log { "socket" };

SocketError from_errno(int e)
{
    switch (e) {
    case EADDRINUSE: return SocketError::address_in_use;
    case EADDRNOTAVAIL: return SocketError::address_unavailable;
    case EACCES:
    case EPERM: return SocketError::permission_denied;
    case ECONNREFUSED: return SocketError::connection_refused;
    case ECONNRESET:
    case EPIPE: return SocketError::connection_reset;
    case ECONNABORTED: return SocketError::connection_aborted;
    case ETIMEDOUT: return SocketError::timed_out;
    case EHOSTUNREACH: return SocketError::host_unreachable;
    case ENETUNREACH: return SocketError::network_unreachable;
    case EMSGSIZE: return SocketError::message_too_big;
    case ENOBUFS:
    case ENOMEM:
    case EMFILE:
    case ENFILE: return SocketError::no_buffers;
    case EINVAL: return SocketError::invalid_argument;
    default: return SocketError::io;
    }
}

sockaddr_in to_sockaddr(Endpoint e)
{
    sockaddr_in sa {};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(e.port);
    std::memcpy(&sa.sin_addr, e.address.octets().data(), 4);
    return sa;
}

Endpoint from_sockaddr(const sockaddr_in& sa)
{
    const auto* b = reinterpret_cast<const u8*>(&sa.sin_addr);
    return { Ipv4Address(b[0], b[1], b[2], b[3]), ntohs(sa.sin_port) };
}

Endpoint local_of(int fd)
{
    sockaddr_in sa {};
    socklen_t len = sizeof sa;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    return from_sockaddr(sa);
}

// What the poller knows of a socket: where to wake its readers and writers.
struct Watched {
    int fd = -1;
    Notifier readable;
    Notifier writable;
};

class Poller {
public:
    static Poller& get()
    {
        static Poller poller;
        return poller;
    }

    ErrorOr<void, SocketError> add(Watched& w)
    {
        TRY(start());
        epoll_event ev {};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = &w;
        if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, w.fd, &ev) < 0)
            return failure(from_errno(errno));
        return {};
    }

    ErrorOr<void, SocketError> start()
    {
        if (m_epoll < 0) {
            m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
            if (m_epoll < 0)
                return failure(from_errno(errno));
            auto handle = platform::hosted::watch_fd(m_epoll);
            if (!handle)
                return failure(SocketError::no_buffers);
            m_handle = *handle;
        }
        // The poller task lives as long as its scheduler; a new scheduler needs a new one.
        Scheduler& scheduler = Scheduler::current();
        if (m_scheduler_id != scheduler.id()) {
            m_scheduler_id = scheduler.id();
            scheduler.spawn(run());
        }
        return {};
    }

    // Counts the epoll_wait calls: a socket that read all there was, with no harvest since,
    // knows that anything newer will be signalled to it (see SocketUdp::receive).
    u64 harvests() const { return m_harvests; }

private:
    Task<void> run()
    {
        std::array<epoll_event, 256> events;
        for (;;) {
            co_await wait_for_device(m_handle);
            for (;;) {
                ++m_harvests;
                int n = ::epoll_wait(m_epoll, events.data(), int(events.size()), 0);
                if (n < 0 && errno == EINTR)
                    continue;
                VERIFY(n >= 0, "epoll_wait failed");
                for (int i = 0; i < n; ++i) {
                    auto* w = static_cast<Watched*>(events[usize(i)].data.ptr);
                    u32 e = events[usize(i)].events;
                    if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                        w->readable.notify_all();
                    if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
                        w->writable.notify_all();
                }
                if (n < int(events.size()))
                    break;
            }
        }
    }

    int m_epoll = -1;
    u64 m_harvests = 0;
    platform::Handle m_handle = 0;
    u64 m_scheduler_id = 0; // the scheduler the poller task runs on
};

// A socket descriptor, closed (and so removed from epoll) when destroyed.
class Socket {
public:
    explicit Socket(int fd) { m_watched.fd = fd; }
    Socket(const Socket&) = delete;
    ~Socket()
    {
        if (m_watched.fd >= 0)
            ::close(m_watched.fd);
    }
    int fd() const { return m_watched.fd; }
    ErrorOr<void, SocketError> watch() { return Poller::get().add(m_watched); }
    Notifier& readable() { return m_watched.readable; }
    Notifier& writable() { return m_watched.writable; }

private:
    Watched m_watched;
};

ErrorOr<int, SocketError> open_socket(int type)
{
    int fd = ::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return failure(from_errno(errno));
    return fd;
}

ErrorOr<void, SocketError> bind_any(int fd, u16 port)
{
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa = to_sockaddr({ Ipv4Address::any(), port });
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
        return failure(from_errno(errno));
    return {};
}

// ---- UDP ---------------------------------------------------------------------------------

class SocketUdp final : public detail::UdpImpl {
public:
    explicit SocketUdp(int fd)
        : m_socket(fd)
    {
    }
    ~SocketUdp() override { (void)flush(); }
    ErrorOr<void, SocketError> init() { return m_socket.watch(); }

    Task<ErrorOr<Received, SocketError>> receive(std::span<std::byte> buffer) override
    {
        for (;;) {
            if (m_next < m_count)
                co_return take(buffer);
            // A short batch emptied the socket's queue; if the poller has not harvested since,
            // whatever came later is still to be signalled, and a read now would find nothing.
            if (!m_drained || m_drained_at != Poller::get().harvests()) {
                auto filled = fill();
                if (!filled)
                    co_return failure(filled.error());
                if (m_count > 0)
                    continue;
            }
            m_drained = false;
            // Nothing more to read: the answers queued meanwhile leave together (one
            // sendmmsg), so a busy peer is woken once per batch rather than once per answer.
            (void)flush();
            moderation.before_wait();
            co_await m_socket.readable().wait();
        }
    }

    ErrorOr<void, SocketError> send_to(Endpoint to, std::span<const std::byte> data) override
    {
        sockaddr_in sa = to_sockaddr(to);
        for (;;) {
            ssize_t n = ::sendto(m_socket.fd(), data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
            if (n >= 0)
                return {};
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return failure(SocketError::no_buffers);
            return failure(from_errno(errno));
        }
    }

    ErrorOr<void, SocketError> queue_to(Endpoint to, std::span<const std::byte> data) override
    {
        if (data.size() > send_slot_size)
            return send_to(to, data);
        if (m_queued == send_batch)
            TRY(flush());
        usize i = m_queued++;
        std::memcpy(m_send_slots[i].data(), data.data(), data.size());
        m_send_to[i] = to_sockaddr(to);
        m_send_iov[i] = { m_send_slots[i].data(), data.size() };
        m_send_headers[i] = {};
        m_send_headers[i].msg_hdr.msg_name = &m_send_to[i];
        m_send_headers[i].msg_hdr.msg_namelen = sizeof m_send_to[i];
        m_send_headers[i].msg_hdr.msg_iov = &m_send_iov[i];
        m_send_headers[i].msg_hdr.msg_iovlen = 1;
        return {};
    }

    ErrorOr<void, SocketError> flush() override
    {
        usize sent = 0;
        while (sent < m_queued) {
            int n = ::sendmmsg(m_socket.fd(), m_send_headers.data() + sent, unsigned(m_queued - sent), 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                // The rest is lost, as a full queue loses datagrams; say so.
                int e = errno;
                m_queued = 0;
                return failure(n < 0 && e != EAGAIN && e != EWOULDBLOCK ? from_errno(e) : SocketError::no_buffers);
            }
            sent += usize(n);
        }
        m_queued = 0;
        return {};
    }

    Endpoint local() const override { return local_of(m_socket.fd()); }

private:
    static constexpr usize send_batch = 64;
    static constexpr usize send_slot_size = 2048; // larger datagrams are sent on their own
    static constexpr usize batch = 32;
    static constexpr usize slot_size = 65536; // the largest datagram

    // Reads up to `batch` datagrams with one system call.
    ErrorOr<void, SocketError> fill()
    {
        m_next = m_count = 0;
        for (usize i = 0; i < batch; ++i) {
            m_iov[i] = { m_slots[i].data(), slot_size };
            m_headers[i] = {};
            m_headers[i].msg_hdr.msg_name = &m_from[i];
            m_headers[i].msg_hdr.msg_namelen = sizeof m_from[i];
            m_headers[i].msg_hdr.msg_iov = &m_iov[i];
            m_headers[i].msg_hdr.msg_iovlen = 1;
        }
        for (;;) {
            int n = ::recvmmsg(m_socket.fd(), m_headers.data(), unsigned(batch), MSG_DONTWAIT, nullptr);
            if (n >= 0) {
                m_count = usize(n);
                m_drained = m_count < batch;
                m_drained_at = Poller::get().harvests();
                return {};
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                m_drained = true;
                m_drained_at = Poller::get().harvests();
                return {};
            }
            // An ICMP error for an earlier send (e.g. port unreachable) surfaces here; it says
            // nothing about the next datagram.
            if (errno == ECONNREFUSED)
                continue;
            return failure(from_errno(errno));
        }
    }

    Received take(std::span<std::byte> buffer)
    {
        moderation.received();
        usize i = m_next++;
        usize length = m_headers[i].msg_len;
        bool truncated = (m_headers[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 || length > buffer.size();
        usize n = length < buffer.size() ? length : buffer.size();
        std::memcpy(buffer.data(), m_slots[i].data(), n);
        return { from_sockaddr(m_from[i]), n, truncated };
    }

    Socket m_socket;
    std::array<std::array<std::byte, slot_size>, batch> m_slots;
    std::array<sockaddr_in, batch> m_from;
    std::array<iovec, batch> m_iov;
    std::array<mmsghdr, batch> m_headers;
    usize m_next = 0;
    usize m_count = 0;
    bool m_drained = false; // the last read found the queue empty ...
    u64 m_drained_at = 0;   // ... at this count of the poller's harvests
    std::array<std::array<std::byte, send_slot_size>, send_batch> m_send_slots;
    std::array<sockaddr_in, send_batch> m_send_to;
    std::array<iovec, send_batch> m_send_iov;
    std::array<mmsghdr, send_batch> m_send_headers;
    usize m_queued = 0;
};

// ---- TCP ---------------------------------------------------------------------------------

class SocketTcpStream final : public detail::TcpStreamImpl {
public:
    explicit SocketTcpStream(int fd)
        : m_socket(fd)
    {
    }
    ErrorOr<void, SocketError> init() { return m_socket.watch(); }
    int fd() const { return m_socket.fd(); }
    Notifier& writable() { return m_socket.writable(); }

    Task<ErrorOr<usize, SocketError>> read(std::span<std::byte> buffer) override
    {
        for (;;) {
            ssize_t n = ::recv(m_socket.fd(), buffer.data(), buffer.size(), 0);
            if (n >= 0)
                co_return usize(n);
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                co_return failure(from_errno(errno));
            co_await m_socket.readable().wait();
        }
    }

    Task<ErrorOr<void, SocketError>> write(std::span<const std::byte> data) override
    {
        while (!data.empty()) {
            ssize_t n = ::send(m_socket.fd(), data.data(), data.size(), MSG_NOSIGNAL);
            if (n >= 0) {
                data = data.subspan(usize(n));
                continue;
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                co_return failure(errno == EPIPE && m_shut_down ? SocketError::closed : from_errno(errno));
            co_await m_socket.writable().wait();
        }
        co_return ErrorOr<void, SocketError>();
    }

    ErrorOr<void, SocketError> shutdown_write() override
    {
        if (::shutdown(m_socket.fd(), SHUT_WR) < 0)
            return failure(from_errno(errno));
        m_shut_down = true;
        return {};
    }

    void set_no_delay(bool on) override
    {
        int value = on ? 1 : 0;
        ::setsockopt(m_socket.fd(), IPPROTO_TCP, TCP_NODELAY, &value, sizeof value);
    }

    void abort() override
    {
        linger l { 1, 0 }; // closing now sends RST
        ::setsockopt(m_socket.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }

    Endpoint local() const override { return local_of(m_socket.fd()); }
    Endpoint remote() const override
    {
        sockaddr_in sa {};
        socklen_t len = sizeof sa;
        ::getpeername(m_socket.fd(), reinterpret_cast<sockaddr*>(&sa), &len);
        return from_sockaddr(sa);
    }

private:
    Socket m_socket;
    bool m_shut_down = false;
};

ErrorOr<TcpStream, SocketError> wrap_stream(int fd)
{
    auto stream = std::make_unique<SocketTcpStream>(fd);
    TRY(stream->init());
    return TcpStream(std::move(stream));
}

class SocketTcpListener final : public detail::TcpListenerImpl {
public:
    explicit SocketTcpListener(int fd)
        : m_socket(fd)
    {
    }
    ErrorOr<void, SocketError> init() { return m_socket.watch(); }

    Task<ErrorOr<TcpStream, SocketError>> accept() override
    {
        for (;;) {
            int fd = ::accept4(m_socket.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0)
                co_return wrap_stream(fd);
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE) {
                // Out of descriptors: say so once in a while and keep serving the open ones.
                log::warn(g_log, "cannot accept: out of file descriptors");
                co_await sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                co_return failure(from_errno(errno));
            co_await m_socket.readable().wait();
        }
    }

    Endpoint local() const override { return local_of(m_socket.fd()); }

private:
    Socket m_socket;
};

class SocketStack final : public Stack {
public:
    std::string_view kind() const override { return "socket"; }

    ErrorOr<UdpSocket, SocketError> udp_bind(u16 port) override
    {
        int fd = TRY(open_socket(SOCK_DGRAM));
        auto udp = std::make_unique<SocketUdp>(fd);
        TRY(bind_any(fd, port));
        TRY(udp->init());
        return UdpSocket(std::move(udp));
    }

    ErrorOr<TcpListener, SocketError> tcp_listen(u16 port, u32 backlog) override
    {
        int fd = TRY(open_socket(SOCK_STREAM));
        auto listener = std::make_unique<SocketTcpListener>(fd);
        TRY(bind_any(fd, port));
        if (::listen(fd, int(backlog)) < 0)
            return failure(from_errno(errno));
        TRY(listener->init());
        return TcpListener(std::move(listener));
    }

    Task<ErrorOr<TcpStream, SocketError>> tcp_connect(Endpoint to) override
    {
        auto fd = open_socket(SOCK_STREAM);
        if (!fd)
            co_return failure(fd.error());
        auto stream = std::make_unique<SocketTcpStream>(*fd);
        auto watched = stream->init();
        if (!watched)
            co_return failure(watched.error());
        sockaddr_in sa = to_sockaddr(to);
        if (::connect(*fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
            if (errno != EINPROGRESS)
                co_return failure(from_errno(errno));
            // Connected (or refused) when the socket becomes writable.
            for (;;) {
                int error = 0;
                socklen_t len = sizeof error;
                ::getsockopt(*fd, SOL_SOCKET, SO_ERROR, &error, &len);
                if (error != 0)
                    co_return failure(from_errno(error));
                sockaddr_in peer {};
                socklen_t peer_len = sizeof peer;
                if (::getpeername(*fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0)
                    break;
                co_await stream->writable().wait();
            }
        }
        co_return TcpStream(std::move(stream));
    }
};

std::unique_ptr<Stack> make_socket_stack() { return std::make_unique<SocketStack>(); }

// Linked whole into hosted images: registers itself as the interface's fallback.
[[maybe_unused]] const bool g_registered = [] {
    detail::socket_stack_factory = &make_socket_stack;
    return true;
}();

} // namespace

} // namespace sarab::net
