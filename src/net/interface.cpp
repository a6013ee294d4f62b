#include <sarab/net/interface.hpp>

#include <sarab/base/boot_args.hpp>
#include <sarab/base/log.hpp>
#include <sarab/net/dhcp.hpp>
#include <sarab/net/stack.hpp>

namespace sarab::net {

namespace {
log::Source g_log { "net" };
BootArg<Ipv4Cidr> g_ipv4 { "ipv4", Ipv4Cidr {}, "the interface's address and prefix, for Sarab's own stack", ArgGroup::runtime };
BootArg<Ipv4Address> g_gateway { "ipv4-gateway", Ipv4Address {}, "the default gateway, for Sarab's own stack", ArgGroup::runtime };
} // namespace

detail::SocketStackFactory detail::socket_stack_factory = nullptr;

struct Interface::Direct {
    Direct(platform::NetInfo info, StackConfig config, bool use_dhcp)
        : nic(info)
        , stack(nic, config)
    {
        if (use_dhcp) // seeded by the MAC: different stations do not retry in step
            dhcp.emplace(stack, u32(info.mac[3]) << 16 | u32(info.mac[4]) << 8 | info.mac[5]);
    }
    PlatformNic nic;
    DirectStack<PlatformNic> stack;
    std::optional<DhcpClient<DirectStack<PlatformNic>>> dhcp;
};

Interface::Interface(const char* name, const char* help)
    : DeviceDeclaration("interface", name, help)
{
}

Interface::~Interface() = default;

ErrorOr<void, OpenError> Interface::open_declared(FormatBuffer& error)
{
    auto nic = platform::net_acquire(name());
    if (nic) {
        bool use_dhcp = !g_ipv4.was_given() || g_ipv4.value().address.is_any();
        StackConfig config { use_dhcp ? Ipv4Cidr {} : g_ipv4.value(), std::nullopt };
        if (g_gateway.was_given())
            config.gateway = g_gateway.value();
        m_direct = std::make_unique<Direct>(*nic, config, use_dhcp);
        m_active = &m_direct->stack;
        if (use_dhcp)
            log::info(g_log, "interface '{}': Sarab's stack, address by DHCP", name());
        else if (config.gateway)
            log::info(g_log, "interface '{}': Sarab's stack, {}, gateway {}", name(), config.address, *config.gateway);
        else
            log::info(g_log, "interface '{}': Sarab's stack, {}, no gateway", name(), config.address);
        return {};
    }
    if (nic.error() != platform::NetError::not_bound) {
        format_to(error, "{}", platform::error_name(nic.error()));
        return failure(OpenError::unavailable);
    }
    if (!detail::socket_stack_factory) {
        format_to(error, "no net device is bound to it (and this target has no socket stack)");
        return failure(OpenError::not_bound);
    }
    m_socket_stack = detail::socket_stack_factory();
    m_active = m_socket_stack.get();
    log::info(g_log, "interface '{}' uses the host's sockets", name());
    return {};
}

void Interface::start()
{
    if (!m_direct)
        return;
    m_direct->stack.start();
    if (m_direct->dhcp)
        spawn(m_direct->dhcp->run());
}

} // namespace sarab::net
