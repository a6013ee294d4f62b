// Devices as an application declares and uses them.
//
// An application declares the devices it needs as namespace-scope objects, by name:
//
//     sarab::NetDevice service { "service", "the interface that answers queries" };
//     sarab::BlockDevice data { "data", "where records are kept" };
//
// The runtime opens every declared device before app_main runs (and stops with a clear
// error if one is missing), so inside app_main they are ready to use. How a name is bound to
// something real is the platform's business: a tap interface or a file on hosted, a virtio
// device on virtio, an in-memory one on the simulated platform.
#pragma once

#include <sarab/base/error.hpp>
#include <sarab/base/format.hpp>
#include <sarab/platform/platform.hpp>
#include <sarab/runtime/scheduler.hpp>

namespace sarab {

// Why a declared device could not be opened: a missing binding is a usage error (the image
// exits with status 2), anything else an environmental one (status 1).
enum class OpenError : u8 { not_bound, unavailable };

class DeviceDeclaration {
public:
    // `kind` names the sort of device in messages and --help: "net", "block", "interface".
    DeviceDeclaration(const char* kind, const char* name, const char* help);
    DeviceDeclaration(const DeviceDeclaration&) = delete;
    DeviceDeclaration& operator=(const DeviceDeclaration&) = delete;

    std::string_view kind() const { return m_kind; }
    std::string_view name() const { return m_name; }
    std::string_view help() const { return m_help; }
    bool is_open() const { return m_open; }
    DeviceDeclaration* next() const { return m_next; }
    static DeviceDeclaration* first();

    // Opens the device; on failure, says why in `error`. The runtime calls this for every
    // declaration before app_main, in declaration order.
    virtual ErrorOr<void, OpenError> open_declared(FormatBuffer& error) = 0;
    // Called once the scheduler exists, before app_main: for devices that run tasks of their
    // own (a network stack's receive loop).
    virtual void start() { }

protected:
    ~DeviceDeclaration(); // leaves the registry
    bool m_open = false;

private:
    const char* m_kind;
    const char* m_name;
    const char* m_help;
    DeviceDeclaration* m_next;
};

class NetDevice final : public DeviceDeclaration {
public:
    NetDevice(const char* name, const char* help)
        : DeviceDeclaration("net", name, help)
    {
    }

    ErrorOr<void, platform::NetError> open();
    ErrorOr<void, OpenError> open_declared(FormatBuffer& error) override;

    const platform::NetInfo& info() const
    {
        VERIFY(m_open, "net device used before it was opened");
        return m_info;
    }
    platform::Handle handle() const { return info().handle; }
    platform::MacAddress mac() const { return info().mac; }
    u16 mtu() const { return info().mtu; }

    // A frame to fill and transmit, with `headroom` bytes free in front; none if the pool is
    // exhausted.
    std::optional<platform::Frame> allocate(usize headroom = 0) { return platform::net_frame_pool(handle()).allocate(headroom); }
    // TCP segmentation offload (platform/frame.hpp): how long a frame the device cuts into TCP
    // segments (0: none), and a frame that long; none without offload or when all are in use.
    u32 segmentation_limit() const { return info().segmentation_limit; }
    std::optional<platform::Frame> allocate_segmented(usize headroom = 0)
    {
        auto* pool = platform::net_segmentation_pool(handle());
        return pool ? pool->allocate(headroom) : std::nullopt;
    }
    // How many frames transmit takes now without refusing one.
    usize transmit_room() { return platform::net_transmit_room(handle()); }
    ErrorOr<platform::Frame, platform::NetError> try_receive() { return platform::net_receive(handle()); }
    ErrorOr<void, platform::NetError> transmit(platform::Frame&& frame) { return platform::net_transmit(handle(), std::move(frame)); }
    // co_await readable(): resumes when frames are waiting.
    detail::DeviceAwaiter readable() { return wait_for_device(handle()); }
    // Waits for the next frame.
    Task<ErrorOr<platform::Frame, platform::NetError>> receive();

private:
    platform::NetInfo m_info {};
};

class BlockDevice final : public DeviceDeclaration {
public:
    BlockDevice(const char* name, const char* help)
        : DeviceDeclaration("block", name, help)
    {
    }

    ErrorOr<void, platform::BlockError> open();
    ErrorOr<void, OpenError> open_declared(FormatBuffer& error) override;

    const platform::BlockInfo& info() const
    {
        VERIFY(m_open, "block device used before it was opened");
        return m_info;
    }
    u32 sector_size() const { return info().sector_size; }
    u64 sectors() const { return info().sectors; }
    ErrorOr<void, platform::BlockError> read(u64 sector, std::span<std::byte> buffer) { return platform::block_read(info().handle, sector, buffer); }
    ErrorOr<void, platform::BlockError> write(u64 sector, std::span<const std::byte> buffer) { return platform::block_write(info().handle, sector, buffer); }
    ErrorOr<void, platform::BlockError> flush() { return platform::block_flush(info().handle); }

private:
    platform::BlockInfo m_info {};
};

} // namespace sarab
