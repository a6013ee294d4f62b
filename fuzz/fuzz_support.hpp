// Shared by the fuzz targets: the input as bytes, and a sink that makes every byte an accessor
// returns really read (so that AddressSanitizer sees an out-of-bounds span).
#pragma once

#include <sarab/base/types.hpp>
#include <sarab/base/verify.hpp>
#include <sarab/net/address.hpp>
#include <sarab/net/wire/byte_order.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

namespace sarab::fuzz {

inline std::span<const std::byte> input(const uint8_t* data, size_t size)
{
    return { reinterpret_cast<const std::byte*>(data), size };
}

inline void touch(std::span<const std::byte> bytes)
{
    volatile u8 sink = 0;
    for (std::byte b : bytes)
        sink = sink ^ u8(b);
}

template<class T>
    requires std::is_scalar_v<T>
void touch(T value)
{
    volatile T sink = value;
    (void)sink;
}

// UDP and TCP need the addresses of the pseudo-header: the first 8 bytes of the input are the
// source and destination, the rest is the segment.
struct AddressedInput {
    net::Ipv4Address source;
    net::Ipv4Address destination;
    std::span<const std::byte> rest;
};

inline bool split_addresses(std::span<const std::byte> in, AddressedInput& out)
{
    if (in.size() < 8)
        return false;
    out.source = net::Ipv4Address::from_host(net::wire::read_be32(in, 0));
    out.destination = net::Ipv4Address::from_host(net::wire::read_be32(in, 4));
    out.rest = in.subspan(8);
    return true;
}

} // namespace sarab::fuzz
