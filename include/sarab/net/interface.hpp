// An application's network interface, declared like a device:
//
//     sarab::net::Interface service { "service", "where queries are answered" };
//     ... net::Stack& stack = service.stack(); ...
//
// When the runtime opens it (before app_main), the interface asks the platform for the net
// device of that name. If one is bound (a tap interface on hosted, virtio-net on virtio),
// Sarab's own stack runs over it, configured by the boot arguments --ipv4=ADDR/PREFIX and
// --ipv4-gateway=ADDR or else by DHCP. If none is bound and the image has the socket stack
// (hosted), the interface uses the host's sockets instead: that is `--net socket`, the
// hosted default.
#pragma once

#include <sarab/net/socket.hpp>
#include <sarab/runtime/devices.hpp>

#include <memory>

namespace sarab::net {

class Interface final : public DeviceDeclaration {
public:
    Interface(const char* name, const char* help)
        : DeviceDeclaration("interface", name, help)
    {
    }

    ErrorOr<void, OpenError> open_declared(FormatBuffer& error) override;

    Stack& stack()
    {
        VERIFY(m_stack, "net::Interface used before it was opened");
        return *m_stack;
    }

private:
    std::unique_ptr<Stack> m_stack;
};

namespace detail {
// Set by the socket stack when it is linked into an image (hosted): makes a Stack over the
// host's sockets.
using SocketStackFactory = std::unique_ptr<Stack> (*)();
extern SocketStackFactory socket_stack_factory;
} // namespace detail

} // namespace sarab::net
