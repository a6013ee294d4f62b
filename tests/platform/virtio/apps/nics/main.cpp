// nics: reflects test frames on two net devices, "first" and "second", for the virtio-net test
// (tests/platform/virtio/net.test.sh), which sends them from Linux through tap devices.
//
// A test frame has EtherType 0x88b5 (local experimental) and this payload:
//
//     bytes 0-7    zero; the reply carries the name of the device that answered, NUL-padded
//     byte 8       how to reply: 0 in the received buffer itself (its 12 bytes of headroom
//                  take the virtio header), 1 in a new frame without headroom (the driver
//                  chains a separate header), 2 in a new frame with the stack's headroom;
//                  0xff: stop, exit 0 once every device has seen a stop
//     the rest     anything, sent back unchanged
//
// The reply goes to the sender, from this device's address. On start the image prints one
// line per device: "NAME mac XX:XX:XX:XX:XX:XX mtu N".
#include <sarab/app.hpp>

#include <cstring>

using namespace sarab;

namespace {

NetDevice first { "first", "a NIC that reflects test frames" };
NetDevice second { "second", "another one" };
log::Source nics_log { "nics" };

constexpr usize ethernet_header = 14;
constexpr usize name_field = 8;
constexpr usize headroom = 160;

Event g_done;
int g_running = 2;

void reply_address(std::span<std::byte> frame, const platform::MacAddress& mac)
{
    std::memcpy(frame.data(), frame.data() + 6, 6); // to the sender
    std::memcpy(frame.data() + 6, mac.data(), 6);
}

Task<void> reflect(NetDevice& device)
{
    u64 reflected = 0;
    for (;;) {
        auto received = co_await device.receive();
        if (!received)
            continue;
        platform::Frame frame = received.release_value();
        auto bytes = frame.bytes();
        if (bytes.size() < ethernet_header + name_field + 1 || bytes[12] != std::byte(0x88) || bytes[13] != std::byte(0xb5))
            continue; // Linux's own traffic
        u8 mode = u8(bytes[ethernet_header + name_field]);
        if (mode == 0xff) {
            println("{} reflected {}", device.name(), reflected);
            if (--g_running == 0)
                g_done.set();
            co_return;
        }
        platform::Frame reply;
        if (mode == 0) {
            reply = std::move(frame);
        } else {
            auto fresh = device.allocate(mode == 1 ? 0 : headroom);
            if (!fresh) {
                log::warn(nics_log, "{}: no frame to reply with", device.name());
                continue;
            }
            reply = std::move(*fresh);
            std::memcpy(reply.append(bytes.size()).data(), bytes.data(), bytes.size());
        }
        auto out = reply.bytes();
        reply_address(out, device.mac());
        std::memset(out.data() + ethernet_header, 0, name_field);
        std::memcpy(out.data() + ethernet_header, device.name().data(), device.name().size() < name_field ? device.name().size() : name_field);
        if (auto sent = device.transmit(std::move(reply)); !sent)
            log::warn(nics_log, "{}: transmit: {}", device.name(), platform::error_name(sent.error()));
        else
            ++reflected;
    }
}

} // namespace

Task<int> sarab::app_main()
{
    for (NetDevice* device : { &first, &second }) {
        auto mac = device->mac();
        println("{} mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} mtu {}", device->name(), mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], device->mtu());
    }
    spawn(reflect(first));
    spawn(reflect(second));
    co_await g_done.wait();
    co_return 0;
}
