// The bottom of Sarab's own stack: what it needs of a network interface card.
//
// A Nic moves whole Ethernet frames (platform::Frame, see platform/frame.hpp): it gives
// buffers to fill, takes frames to send (ownership passes down: zero copy), hands out
// received frames (ownership passes up) and says when more have arrived. The runtime's
// NetDevice is one; wrappers that are Nics over another Nic add behaviour without the layers
// above knowing: PcapNic writes every frame to a capture file, as smoltcp's PcapWriter does.
#pragma once

#include <sarab/net/address.hpp>
#include <sarab/platform/platform.hpp>
#include <sarab/runtime/devices.hpp>

#include <concepts>
#include <cstdio>
#include <string>

namespace sarab::net {

template<class N>
concept Nic = requires(N& nic, platform::Frame&& frame, usize headroom) {
    { nic.mac() } -> std::convertible_to<MacAddress>;
    { nic.mtu() } -> std::convertible_to<u16>;
    { nic.allocate(headroom) } -> std::same_as<std::optional<platform::Frame>>;
    // TCP segmentation offload (platform/frame.hpp): how long a frame the NIC cuts into TCP
    // segments (0: none), and frames that long.
    { nic.segmentation_limit() } -> std::convertible_to<u32>;
    { nic.allocate_segmented(headroom) } -> std::same_as<std::optional<platform::Frame>>;
    // How many frames transmit takes now without refusing one (platform::net_transmit_room).
    { nic.transmit_room() } -> std::convertible_to<usize>;
    { nic.try_receive() } -> std::same_as<ErrorOr<platform::Frame, platform::NetError>>;
    { nic.transmit(std::move(frame)) } -> std::same_as<ErrorOr<void, platform::NetError>>;
    { nic.readable() };
};

static_assert(Nic<NetDevice>);

// A NIC acquired from the platform by name, for a stack that opens its own device (a
// net::Interface) rather than using a declared NetDevice.
class PlatformNic {
public:
    explicit PlatformNic(platform::NetInfo info)
        : m_info(info)
    {
    }
    MacAddress mac() const { return m_info.mac; }
    u16 mtu() const { return m_info.mtu; }
    platform::Handle handle() const { return m_info.handle; }
    std::optional<platform::Frame> allocate(usize headroom) { return platform::net_frame_pool(m_info.handle).allocate(headroom); }
    u32 segmentation_limit() const { return m_info.segmentation_limit; }
    std::optional<platform::Frame> allocate_segmented(usize headroom)
    {
        auto* pool = platform::net_segmentation_pool(m_info.handle);
        return pool ? pool->allocate(headroom) : std::nullopt;
    }
    usize transmit_room() { return platform::net_transmit_room(m_info.handle); }
    ErrorOr<platform::Frame, platform::NetError> try_receive() { return platform::net_receive(m_info.handle); }
    ErrorOr<void, platform::NetError> transmit(platform::Frame&& frame) { return platform::net_transmit(m_info.handle, std::move(frame)); }
    sarab::detail::DeviceAwaiter readable() { return wait_for_device(m_info.handle); }

private:
    platform::NetInfo m_info;
};

static_assert(Nic<PlatformNic>);

// Writes every frame that passes, both ways, to a pcap file (microsecond timestamps from the
// wall clock), then passes it on unchanged.
template<Nic Inner>
class PcapNic {
public:
    PcapNic(Inner& inner, const std::string& path)
        : m_inner(inner)
    {
        m_file = std::fopen(path.c_str(), "wb");
        if (m_file) {
            const u32 header[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
            std::fwrite(header, sizeof header, 1, m_file);
        }
    }
    ~PcapNic()
    {
        if (m_file)
            std::fclose(m_file);
    }
    PcapNic(const PcapNic&) = delete;
    PcapNic& operator=(const PcapNic&) = delete;

    bool is_writing() const { return m_file != nullptr; }
    MacAddress mac() const { return m_inner.mac(); }
    u16 mtu() const { return m_inner.mtu(); }
    std::optional<platform::Frame> allocate(usize headroom) { return m_inner.allocate(headroom); }
    u32 segmentation_limit() const { return m_inner.segmentation_limit(); }
    std::optional<platform::Frame> allocate_segmented(usize headroom) { return m_inner.allocate_segmented(headroom); }
    usize transmit_room() { return m_inner.transmit_room(); }
    ErrorOr<platform::Frame, platform::NetError> try_receive()
    {
        auto frame = m_inner.try_receive();
        if (frame)
            record(frame->bytes());
        return frame;
    }
    ErrorOr<void, platform::NetError> transmit(platform::Frame&& frame)
    {
        record(frame.bytes());
        return m_inner.transmit(std::move(frame));
    }
    auto readable() { return m_inner.readable(); }

private:
    void record(std::span<const std::byte> bytes)
    {
        if (!m_file)
            return;
        u64 ns = u64(WallClock::now().time_since_epoch().count());
        const u32 record[4] = { u32(ns / 1'000'000'000), u32(ns % 1'000'000'000 / 1000), u32(bytes.size()), u32(bytes.size()) };
        std::fwrite(record, sizeof record, 1, m_file);
        std::fwrite(bytes.data(), 1, bytes.size(), m_file);
    }

    Inner& m_inner;
    std::FILE* m_file = nullptr;
};

} // namespace sarab::net
