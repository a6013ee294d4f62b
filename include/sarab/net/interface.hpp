// An application's network interface, declared like a device:
//
//     sarab::net::Interface service { "service", "where queries are answered" };
//     ... net::Stack& stack = service.stack(); ...
//
// When the runtime opens it (before app_main), the interface asks the platform for the net
// device of that name. If one is bound (a tap interface on hosted, virtio-net on virtio),
// Sarab's own stack runs over it, configured by the boot arguments --ipv4=ADDR/PREFIX and
// --ipv4-gateway=ADDR or else by DHCP (see dhcp.hpp). If none is bound and the image has the socket stack
// (hosted), the interface uses the host's sockets instead: that is `--net socket`, the
// hosted default.
#pragma once

#include <sarab/net/socket.hpp>
#include <sarab/runtime/devices.hpp>

#include <memory>

// Boot arguments of every image with an interface (one interface today; per-interface
// arguments come with the second): --ipv4=ADDR/PREFIX, --ipv4-gateway=ADDR.

namespace sarab::net {

class Interface final : public DeviceDeclaration {
public:
    Interface(const char* name, const char* help);
    ~Interface();

    ErrorOr<void, OpenError> open_declared(FormatBuffer& error) override;
    void start() override;

    Stack& stack()
    {
        VERIFY(m_active, "net::Interface used before it was opened");
        return *m_active;
    }

private:
    struct Direct; // Sarab's own stack over the platform's NIC (interface.cpp)
    std::unique_ptr<Stack> m_socket_stack;
    std::unique_ptr<Direct> m_direct;
    Stack* m_active = nullptr;
};

namespace detail {
// Set by the socket stack when it is linked into an image (hosted): makes a Stack over the
// host's sockets.
using SocketStackFactory = std::unique_ptr<Stack> (*)();
extern SocketStackFactory socket_stack_factory;
} // namespace detail

} // namespace sarab::net
