#include <sarab/runtime/devices.hpp>

namespace sarab {

namespace {
constinit DeviceDeclaration* g_first = nullptr;
} // namespace

DeviceDeclaration::DeviceDeclaration(const char* kind, const char* name, const char* help)
    : m_kind(kind)
    , m_name(name)
    , m_help(help)
    , m_next(g_first)
{
    g_first = this;
}

DeviceDeclaration::~DeviceDeclaration()
{
    for (DeviceDeclaration** link = &g_first; *link; link = &(*link)->m_next) {
        if (*link == this) {
            *link = m_next;
            break;
        }
    }
}

DeviceDeclaration* DeviceDeclaration::first() { return g_first; }

ErrorOr<void, platform::NetError> NetDevice::open()
{
    VERIFY(!m_open, "net device opened twice");
    m_info = TRY(platform::net_acquire(name()));
    m_open = true;
    return {};
}

ErrorOr<void, OpenError> NetDevice::open_declared(FormatBuffer& error)
{
    auto opened = open();
    if (!opened) {
        format_to(error, "{}", platform::error_name(opened.error()));
        return failure(opened.error() == platform::NetError::not_bound ? OpenError::not_bound : OpenError::unavailable);
    }
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

ErrorOr<void, OpenError> BlockDevice::open_declared(FormatBuffer& error)
{
    auto opened = open();
    if (!opened) {
        format_to(error, "{}", platform::error_name(opened.error()));
        return failure(opened.error() == platform::BlockError::not_bound ? OpenError::not_bound : OpenError::unavailable);
    }
    return {};
}

} // namespace sarab
