#include <sarab/net/interface.hpp>

#include <sarab/base/log.hpp>

namespace sarab::net {

namespace {
log::Source g_log { "net" };
}

detail::SocketStackFactory detail::socket_stack_factory = nullptr;

ErrorOr<void, OpenError> Interface::open_declared(FormatBuffer& error)
{
    auto nic = platform::net_acquire(name());
    if (nic) {
        // Sarab's own stack comes with the protocol layers (Ethernet ... TCP); until then an
        // interface can only run over the host's sockets.
        format_to(error, "a NIC is bound, but Sarab's own TCP/IP stack is not in this build yet: run with --net socket");
        return failure(OpenError::unavailable);
    }
    if (nic.error() != platform::NetError::not_bound) {
        format_to(error, "{}", platform::error_name(nic.error()));
        return failure(OpenError::unavailable);
    }
    if (!detail::socket_stack_factory) {
        format_to(error, "no net device is bound to it (and this target has no socket stack)");
        return failure(OpenError::not_bound);
    }
    m_stack = detail::socket_stack_factory();
    log::info(g_log, "interface '{}' uses the host's sockets", name());
    return {};
}

} // namespace sarab::net
