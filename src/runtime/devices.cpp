#include <sarab/runtime/devices.hpp>

namespace sarab {

namespace {
constinit DeviceDeclaration* g_first = nullptr;
} // namespace

DeviceDeclaration::DeviceDeclaration(DeviceKind kind, const char* name, const char* help)
    : m_kind(kind)
    , m_name(name)
    , m_help(help)
    , m_next(g_first)
{
    g_first = this;
}

DeviceDeclaration* DeviceDeclaration::first() { return g_first; }

ErrorOr<void, platform::NetError> NetDevice::open()
{
    VERIFY(!m_open, "net device opened twice");
    m_info = TRY(platform::net_acquire(name()));
    m_open = true;
    return {};
}

Task<ErrorOr<platform::Frame, platform::NetError>> NetDevice::receive()
{
    for (;;) {
        auto frame = try_receive();
        if (frame || frame.error() != platform::NetError::empty)
            co_return frame;
        co_await readable();
    }
}

ErrorOr<void, platform::BlockError> BlockDevice::open()
{
    VERIFY(!m_open, "block device opened twice");
    m_info = TRY(platform::block_acquire(name()));
    m_open = true;
    return {};
}

} // namespace sarab
