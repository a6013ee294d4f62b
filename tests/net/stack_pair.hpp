// Two of Sarab's own stacks, A (198.18.0.10) and B (198.18.0.11) on 198.18.0.0/24, joined by
// a simulated wire: the fixture of the stack and TCP tests.
#pragma once

#include <sarab/net/stack.hpp>
#include <sarab/platform/simulated.hpp>

#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sarab::net::testing {

namespace sim = sarab::platform::sim;

inline constexpr MacAddress mac_a { 0x02, 0, 0, 0, 0, 0x0a };
inline constexpr MacAddress mac_b { 0x02, 0, 0, 0, 0, 0x0b };
inline const Ipv4Address ip_a { 198, 18, 0, 10 };
inline const Ipv4Address ip_b { 198, 18, 0, 11 };

inline std::vector<std::byte> pattern(usize n, u8 seed)
{
    std::vector<std::byte> v(n);
    for (usize i = 0; i < n; ++i)
        v[i] = std::byte(u8(i * 13 + seed + (i >> 12)));
    return v;
}

inline std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s)); }

struct Pair {
    explicit Pair(sim::LinkConfig link = {}, u16 mtu = 1500, u16 mtu_b = 0, tcp::Config tcp = {}, sim::NicOffloads offloads = {})
    {
        sim::add_nic("a", mac_a, mtu, offloads);
        sim::add_nic("b", mac_b, mtu_b ? mtu_b : mtu, offloads);
        sim::connect("a", "b", link, link);
        nic_a.emplace(platform::net_acquire("a").release_value());
        nic_b.emplace(platform::net_acquire("b").release_value());
        a.emplace(*nic_a, StackConfig { { ip_a, 24 }, Ipv4Address(198, 18, 0, 1), tcp });
        b.emplace(*nic_b, StackConfig { { ip_b, 24 }, std::nullopt, tcp });
    }
    void start()
    {
        a->start();
        b->start();
    }
    std::optional<PlatformNic> nic_a, nic_b;
    std::optional<DirectStack<PlatformNic>> a, b;
};

} // namespace sarab::net::testing
