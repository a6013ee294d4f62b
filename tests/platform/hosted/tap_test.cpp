// Net devices of the hosted platform: frames through a real tap device, answered by Linux.
//
// The TapDevice tests need a tap interface whose Linux end has the address 198.18.0.1/24;
// tests/tool/hosted_tap.test.sh makes one inside a network namespace of its own and runs
// them there with SARAB_TEST_TAP naming it (and SARAB_TEST_TAP_MTU its MTU). Without
// SARAB_TEST_TAP they are skipped. The image's end of the link is 198.18.0.2.
#include "hosted_env.hpp"

#include <sarab/platform/platform.hpp>
#include <sarab/runtime/scheduler.hpp>
#include <sarab/runtime/when.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <net/if.h>
#include <optional>
#include <string>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace sarab;
using namespace std::chrono_literals;
using platform::Handle;
using platform::MacAddress;
using platform::NetError;
using platform::NetInfo;
using Bytes = std::vector<std::byte>;
using Ipv4 = std::array<u8, 4>;

constexpr Ipv4 linux_ip { 198, 18, 0, 1 };
constexpr Ipv4 image_ip { 198, 18, 0, 2 };
constexpr MacAddress broadcast { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
constexpr u16 ethertype_ipv4 = 0x0800;
constexpr u16 ethertype_arp = 0x0806;
constexpr usize eth_header = 14;

// ---- bytes ----------------------------------------------------------------------------------

u16 get16(std::span<const std::byte> b, usize at) { return u16(u16(b[at]) << 8 | u16(b[at + 1])); }
void put16(Bytes& b, usize at, u16 v)
{
    b[at] = std::byte(v >> 8);
    b[at + 1] = std::byte(v);
}
template<usize N>
std::array<u8, N> get_array(std::span<const std::byte> b, usize at)
{
    std::array<u8, N> out;
    for (usize i = 0; i < N; ++i)
        out[i] = u8(b[at + i]);
    return out;
}
template<usize N>
void put_array(Bytes& b, usize at, const std::array<u8, N>& v)
{
    for (usize i = 0; i < N; ++i)
        b[at + i] = std::byte(v[i]);
}

// RFC 1071: the ones' complement of the ones' complement sum of 16-bit words. Over bytes
// that include a correct checksum, it gives 0.
u16 internet_checksum(std::span<const std::byte> b)
{
    u32 sum = 0;
    for (usize i = 0; i + 1 < b.size(); i += 2)
        sum += get16(b, i);
    if (b.size() % 2)
        sum += u32(u8(b.back())) << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return u16(~sum);
}

std::string mac_text(const MacAddress& m)
{
    char text[18];
    std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return text;
}

Bytes ethernet(const MacAddress& dst, const MacAddress& src, u16 type, usize payload)
{
    Bytes f(eth_header + payload);
    put_array(f, 0, dst);
    put_array(f, 6, src);
    put16(f, 12, type);
    return f;
}

// An ARP packet for IPv4 over Ethernet, in an Ethernet frame (padded to the 60-byte minimum).
Bytes arp(u16 operation, const MacAddress& eth_dst, const MacAddress& sender_mac, const Ipv4& sender_ip,
    const MacAddress& target_mac, const Ipv4& target_ip)
{
    Bytes f = ethernet(eth_dst, sender_mac, ethertype_arp, 46);
    put16(f, 14, 1);      // hardware: Ethernet
    put16(f, 16, 0x0800); // protocol: IPv4
    f[18] = std::byte(6);
    f[19] = std::byte(4);
    put16(f, 20, operation);
    put_array(f, 22, sender_mac);
    put_array(f, 28, sender_ip);
    put_array(f, 32, target_mac);
    put_array(f, 38, target_ip);
    return f;
}

struct Arp {
    u16 hardware, protocol;
    u8 hlen, plen;
    u16 operation;
    MacAddress sender_mac;
    Ipv4 sender_ip;
    MacAddress target_mac;
    Ipv4 target_ip;
};

std::optional<Arp> parse_arp(std::span<const std::byte> f)
{
    if (f.size() < 42 || get16(f, 12) != ethertype_arp)
        return {};
    return Arp { get16(f, 14), get16(f, 16), u8(f[18]), u8(f[19]), get16(f, 20), get_array<6>(f, 22),
        get_array<4>(f, 28), get_array<6>(f, 32), get_array<4>(f, 38) };
}

// ---- the interface, as Linux sees it --------------------------------------------------------

std::optional<ifreq> query_interface(unsigned long request, std::string_view name)
{
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return {};
    ifreq q {};
    std::memcpy(q.ifr_name, name.data(), std::min(name.size(), sizeof q.ifr_name - 1));
    bool ok = ::ioctl(sock, request, &q) == 0;
    ::close(sock);
    if (!ok)
        return {};
    return q;
}

// ---- the device -----------------------------------------------------------------------------

// A net device can be acquired once per process; the tests share it.
struct Device {
    NetInfo info {};
    MacAddress linux_mac {}; // the address of the interface's Linux end
    int linux_mtu = 0;
};

const Device* tap_device(std::string& why)
{
    static std::optional<Device> device;
    static std::string failure;
    static bool tried = false;
    if (!tried) {
        tried = true;
        auto info = platform::net_acquire("uplink");
        if (!info) {
            failure = std::string("net_acquire(uplink) on ") + std::string(test::hosted::tap_interface()) + ": " + platform::error_name(info.error());
        } else if (auto hw = query_interface(SIOCGIFHWADDR, test::hosted::tap_interface()); !hw) {
            failure = "SIOCGIFHWADDR failed";
        } else if (auto mtu = query_interface(SIOCGIFMTU, test::hosted::tap_interface()); !mtu) {
            failure = "SIOCGIFMTU failed";
        } else {
            device.emplace();
            device->info = *info;
            std::memcpy(device->linux_mac.data(), hw->ifr_hwaddr.sa_data, 6);
            device->linux_mtu = mtu->ifr_mtu;
        }
    }
    why = failure;
    return device ? &*device : nullptr;
}

class TapDevice : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (test::hosted::tap_interface().empty())
            GTEST_SKIP() << "SARAB_TEST_TAP is not set: tests/tool/hosted_tap.test.sh runs this with a tap device in a network namespace";
        std::string why;
        device = tap_device(why);
        ASSERT_NE(device, nullptr) << why;
        handle = device->info.handle;
        mac = device->info.mac;
        pool_at_start = platform::net_frame_pool(handle).available();
    }
    void TearDown() override
    {
        if (device) { // every frame received or transmitted is back in the pool
            EXPECT_EQ(platform::net_frame_pool(handle).available(), pool_at_start);
        }
    }

    const Device* device = nullptr;
    Handle handle = 0;
    MacAddress mac {};
    usize pool_at_start = 0;
};

struct Counters {
    int transmitted = 0;
    int received = 0;
    int ignored = 0;        // frames Linux sent that were not the awaited one
    int arp_answered = 0;   // Linux asked for 198.18.0.2
};

void transmit(Handle h, std::span<const std::byte> bytes, Counters& counters)
{
    auto frame = platform::net_frame_pool(h).allocate(0);
    if (!frame) {
        ADD_FAILURE() << "the frame pool is empty";
        return;
    }
    std::memcpy(frame->append(bytes.size()).data(), bytes.data(), bytes.size());
    auto sent = platform::net_transmit(h, std::move(*frame));
    EXPECT_TRUE(sent) << "net_transmit: " << (sent ? "" : platform::error_name(sent.error()));
    ++counters.transmitted;
}

// A copy of the next received frame; the frame itself goes back to the pool at once.
std::optional<Bytes> receive(Handle h, NetError& error)
{
    auto frame = platform::net_receive(h);
    if (!frame) {
        error = frame.error();
        return {};
    }
    return Bytes(frame->bytes().begin(), frame->bytes().end());
}

Task<void> device_ready(Handle h) { co_await wait_for_device(h); }
Task<void> until(Instant t) { co_await sleep_until(t); }

// Sends `request` and takes frames until one satisfies `wanted`, which it returns. Until
// then it sends `request` again every 200 ms (Linux drops what it sends before the tap's
// carrier and queueing discipline are up), answers ARP requests for 198.18.0.2, and ignores
// everything else (IPv6 router solicitations, ...). The caller bounds it in time.
Task<Bytes> exchange(Handle h, MacAddress mac, Bytes request, std::function<bool(std::span<const std::byte>)> wanted, Counters& counters)
{
    for (;;) {
        transmit(h, request, counters);
        Instant resend = MonotonicClock::now() + 200ms;
        while (MonotonicClock::now() < resend) {
            NetError error {};
            std::optional<Bytes> received = receive(h, error);
            if (!received) {
                if (error != NetError::empty) {
                    ADD_FAILURE() << "net_receive: " << platform::error_name(error);
                    co_return Bytes {};
                }
                (void)co_await when_any(device_ready(h), until(resend));
                continue;
            }
            ++counters.received;
            Bytes& bytes = *received;
            if (wanted(bytes))
                co_return bytes;
            if (auto a = parse_arp(bytes); a && a->operation == 1 && a->target_ip == image_ip) {
                transmit(h, arp(2, a->sender_mac, mac, image_ip, a->sender_mac, a->sender_ip), counters);
                ++counters.arp_answered;
                continue;
            }
            ++counters.ignored;
        }
    }
}

TEST_F(TapDevice, InfoMatchesTheInterface)
{
    const NetInfo& info = device->info;
    EXPECT_EQ(int(info.mtu), device->linux_mtu);
    if (const char* mtu = std::getenv("SARAB_TEST_TAP_MTU")) {
        EXPECT_EQ(int(info.mtu), std::atoi(mtu)) << "the MTU is the interface's";
    }
    EXPECT_EQ(info.mac[0] & 0x01, 0) << mac_text(info.mac) << " is a multicast address";
    EXPECT_EQ(info.mac[0] & 0x02, 0x02) << mac_text(info.mac) << " is not locally administered";
    EXPECT_NE(info.mac, device->linux_mac) << "the image's address is the Linux end's";
    EXPECT_NE(info.mac, MacAddress {});

    auto& pool = platform::net_frame_pool(info.handle);
    EXPECT_GE(pool.buffer_size(), usize(info.mtu) + eth_header);
    EXPECT_GT(pool.capacity(), 0u);
    EXPECT_EQ(pool.available(), pool.capacity()) << "frames are missing from the pool";
}

TEST_F(TapDevice, AcquiringTwiceIsUnavailable)
{
    auto again = platform::net_acquire("uplink");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), NetError::unavailable);
}

// A frame of MTU + Ethernet header bytes is sent; one byte more is NetError::too_big.
Bytes frame_of_size(const Device& d, const MacAddress& mac, usize size)
{
    return ethernet(d.linux_mac, mac, ethertype_ipv4, size - eth_header); // an IPv4 of zeros: Linux drops it
}

ErrorOr<void, NetError> transmit_bytes(Handle h, const Bytes& bytes)
{
    auto frame = platform::net_frame_pool(h).allocate(0);
    if (!frame)
        return failure(NetError::no_buffers);
    std::memcpy(frame->append(bytes.size()).data(), bytes.data(), bytes.size());
    return platform::net_transmit(h, std::move(*frame));
}

TEST_F(TapDevice, FrameOfMtuSizeIsSent)
{
    usize size = usize(device->info.mtu) + eth_header;
    ASSERT_LE(size, platform::net_frame_pool(handle).buffer_size());
    auto sent = transmit_bytes(handle, frame_of_size(*device, mac, size));
    EXPECT_TRUE(sent) << platform::error_name(sent ? NetError::io : sent.error());
}

// The tap itself would take the frame: the platform must refuse it.
TEST_F(TapDevice, FrameLargerThanMtuIsTooBig)
{
    usize size = usize(device->info.mtu) + eth_header + 1;
    ASSERT_LE(size, platform::net_frame_pool(handle).buffer_size());
    auto sent = transmit_bytes(handle, frame_of_size(*device, mac, size));
    ASSERT_FALSE(sent);
    EXPECT_EQ(sent.error(), NetError::too_big);
}

TEST_F(TapDevice, LinuxAnswersArp)
{
    Counters counters;
    Bytes request = arp(1, broadcast, mac, image_ip, MacAddress {}, linux_ip);
    auto is_reply = [](std::span<const std::byte> f) {
        auto a = parse_arp(f);
        return a && a->operation == 2 && a->sender_ip == linux_ip;
    };
    Scheduler scheduler;
    auto reply = scheduler.run(with_timeout(5s, exchange(handle, mac, request, is_reply, counters)));
    ASSERT_TRUE(reply) << "no ARP reply within 5 s; sent " << counters.transmitted << ", received "
                       << counters.received;
    const Bytes& f = *reply;

    EXPECT_EQ(get_array<6>(f, 0), mac) << "Ethernet destination";
    EXPECT_EQ(get_array<6>(f, 6), device->linux_mac) << "Ethernet source";
    Arp a = *parse_arp(f);
    EXPECT_EQ(a.hardware, 1);
    EXPECT_EQ(a.protocol, 0x0800);
    EXPECT_EQ(a.hlen, 6);
    EXPECT_EQ(a.plen, 4);
    EXPECT_EQ(a.sender_mac, device->linux_mac) << mac_text(a.sender_mac);
    EXPECT_EQ(a.sender_ip, linux_ip);
    EXPECT_EQ(a.target_mac, mac) << mac_text(a.target_mac);
    EXPECT_EQ(a.target_ip, image_ip);
    // Linux may also have sent other frames (IPv6 router solicitations ...): ignored.
    RecordProperty("transmitted", counters.transmitted);
    RecordProperty("ignored", counters.ignored);
}

TEST_F(TapDevice, LinuxAnswersIcmpEcho)
{
    constexpr u16 id = 0x5ab0;
    constexpr u16 sequence = 7;
    constexpr usize payload_size = 56;
    constexpr usize ip_header = 20;

    Bytes request = ethernet(device->linux_mac, mac, ethertype_ipv4, ip_header + 8 + payload_size);
    {
        usize ip = eth_header;
        request[ip] = std::byte(0x45); // version 4, 5 words of header
        put16(request, ip + 2, u16(ip_header + 8 + payload_size));
        put16(request, ip + 4, 0x1234); // identification
        put16(request, ip + 6, 0x4000); // don't fragment
        request[ip + 8] = std::byte(64); // TTL
        request[ip + 9] = std::byte(1);  // ICMP
        put_array(request, ip + 12, image_ip);
        put_array(request, ip + 16, linux_ip);
        put16(request, ip + 10, internet_checksum(std::span(request).subspan(ip, ip_header)));
        usize icmp = ip + ip_header;
        request[icmp] = std::byte(8); // echo request
        put16(request, icmp + 4, id);
        put16(request, icmp + 6, sequence);
        for (usize i = 0; i < payload_size; ++i)
            request[icmp + 8 + i] = std::byte(u8('a' + i % 26));
        put16(request, icmp + 2, internet_checksum(std::span(request).subspan(icmp)));
        // The checksums are right: summing over them gives 0.
        ASSERT_EQ(internet_checksum(std::span(request).subspan(ip, ip_header)), 0);
        ASSERT_EQ(internet_checksum(std::span(request).subspan(icmp)), 0);
    }

    auto is_reply = [](std::span<const std::byte> f) {
        return f.size() >= eth_header + 28 && get16(f, 12) == ethertype_ipv4 && u8(f[eth_header + 9]) == 1
            && get_array<4>(f, eth_header + 12) == linux_ip && get_array<4>(f, eth_header + 16) == image_ip
            && u8(f[eth_header + 20]) == 0;
    };
    Counters counters;
    Scheduler scheduler;
    auto reply = scheduler.run(with_timeout(5s, exchange(handle, mac, request, is_reply, counters)));
    ASSERT_TRUE(reply) << "no echo reply within 5 s; sent " << counters.transmitted << ", received "
                       << counters.received << ", answered " << counters.arp_answered << " ARP requests";
    const Bytes& f = *reply;

    EXPECT_EQ(get_array<6>(f, 0), mac) << "Ethernet destination";
    EXPECT_EQ(get_array<6>(f, 6), device->linux_mac) << "Ethernet source";
    std::span<const std::byte> ip = std::span(f).subspan(eth_header);
    ASSERT_EQ(u8(ip[0]), 0x45);
    u16 total = get16(ip, 2);
    ASSERT_EQ(total, ip_header + 8 + payload_size);
    ASSERT_GE(ip.size(), total);
    EXPECT_EQ(internet_checksum(ip.subspan(0, ip_header)), 0) << "IPv4 header checksum";
    std::span<const std::byte> icmp = ip.subspan(ip_header, total - ip_header);
    EXPECT_EQ(u8(icmp[0]), 0) << "echo reply";
    EXPECT_EQ(u8(icmp[1]), 0) << "code";
    EXPECT_EQ(internet_checksum(icmp), 0) << "ICMP checksum";
    EXPECT_EQ(get16(icmp, 4), id);
    EXPECT_EQ(get16(icmp, 6), sequence);
    EXPECT_TRUE(std::equal(icmp.begin() + 8, icmp.end(), request.begin() + eth_header + ip_header + 8))
        << "the payload comes back unchanged";
    RecordProperty("transmitted", counters.transmitted);
    RecordProperty("ignored", counters.ignored);
    RecordProperty("arp_answered", counters.arp_answered);
}

// Bindings that give no net device; these need no tap.
TEST(NetBinding, BlockBindingIsNotANetDevice)
{
    auto r = platform::net_acquire("notatap"); // --dev=notatap=file:...
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), NetError::not_bound);
}

TEST(NetBinding, UnboundNameWithoutNet)
{
    if (!test::hosted::tap_interface().empty())
        GTEST_SKIP() << "--net binds every net name here";
    auto r = platform::net_acquire("nosuchnet");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), NetError::not_bound);
}

} // namespace
