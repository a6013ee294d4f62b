// The application-facing handles forward to whichever stack made them.
#include <sarab/net/socket.hpp>
#include <sarab/runtime/scheduler.hpp>

namespace sarab::net {

const char* error_name(SocketError e)
{
    switch (e) {
    case SocketError::address_in_use: return "address in use";
    case SocketError::address_unavailable: return "address not available";
    case SocketError::permission_denied: return "permission denied";
    case SocketError::connection_refused: return "connection refused";
    case SocketError::connection_reset: return "connection reset by peer";
    case SocketError::connection_aborted: return "connection aborted";
    case SocketError::timed_out: return "timed out";
    case SocketError::host_unreachable: return "host unreachable";
    case SocketError::network_unreachable: return "network unreachable";
    case SocketError::message_too_big: return "message too big";
    case SocketError::closed: return "socket closed";
    case SocketError::no_buffers: return "no buffer space";
    case SocketError::invalid_argument: return "invalid argument";
    case SocketError::unsupported: return "not supported by this stack";
    case SocketError::io: return "I/O error";
    }
    return "unknown socket error";
}

Task<ErrorOr<Received, SocketError>> UdpSocket::receive(std::span<std::byte> buffer)
{
    VERIFY(m_impl, "receive() on a closed UDP socket");
    return m_impl->receive(buffer);
}

ErrorOr<void, SocketError> UdpSocket::send_to(Endpoint to, std::span<const std::byte> data)
{
    VERIFY(m_impl, "send_to() on a closed UDP socket");
    return m_impl->send_to(to, data);
}

ErrorOr<void, SocketError> UdpSocket::queue_to(Endpoint to, std::span<const std::byte> data)
{
    VERIFY(m_impl, "queue_to() on a closed UDP socket");
    return m_impl->queue_to(to, data);
}

ErrorOr<void, SocketError> UdpSocket::flush()
{
    VERIFY(m_impl, "flush() on a closed UDP socket");
    return m_impl->flush();
}

void UdpSocket::set_receive_moderation(Duration quiet)
{
    VERIFY(m_impl, "set_receive_moderation() on a closed UDP socket");
    m_impl->moderation.set(quiet);
}

void detail::ReceiveModeration::before_wait()
{
    if (m_quiet.count() > 0 && m_since_wait >= burst)
        Scheduler::current().moderate_devices(m_quiet);
    m_since_wait = 0;
}

Endpoint UdpSocket::local() const
{
    VERIFY(m_impl);
    return m_impl->local();
}

Task<ErrorOr<usize, SocketError>> TcpStream::read(std::span<std::byte> buffer)
{
    VERIFY(m_impl, "read() on a closed TCP stream");
    return m_impl->read(buffer);
}

Task<ErrorOr<void, SocketError>> TcpStream::write(std::span<const std::byte> data)
{
    VERIFY(m_impl, "write() on a closed TCP stream");
    return m_impl->write(data);
}

ErrorOr<void, SocketError> TcpStream::shutdown_write()
{
    VERIFY(m_impl, "shutdown_write() on a closed TCP stream");
    return m_impl->shutdown_write();
}

void TcpStream::set_no_delay(bool on)
{
    VERIFY(m_impl);
    m_impl->set_no_delay(on);
}

void TcpStream::abort()
{
    if (m_impl) {
        m_impl->abort();
        m_impl.reset();
    }
}

Endpoint TcpStream::local() const
{
    VERIFY(m_impl);
    return m_impl->local();
}

Endpoint TcpStream::remote() const
{
    VERIFY(m_impl);
    return m_impl->remote();
}

Task<ErrorOr<TcpStream, SocketError>> TcpListener::accept()
{
    VERIFY(m_impl, "accept() on a closed listener");
    return m_impl->accept();
}

Endpoint TcpListener::local() const
{
    VERIFY(m_impl);
    return m_impl->local();
}

} // namespace sarab::net
