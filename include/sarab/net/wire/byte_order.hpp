// Byte order on the wire. Every multi-byte field of the protocols in net/wire is big-endian
// ("network order"). NetworkOrdered<T> stores a u16 or u32 as its wire bytes, so that a
// header can be declared as a struct whose size and layout are those of the wire, checked
// with static_assert, while reading or writing a field always goes through get/set in host
// numbers. Header structs are never pointed at inside a packet buffer (that would be an
// object that was never created); load_header/store_header copy them in and out, which the
// compiler turns into the same loads and stores. The read/write helpers below do the same
// for a single field at an offset; they check the bounds (a wrong offset is a bug and
// panics), so views that have checked their lengths can use them freely.
#pragma once

#include <sarab/base/types.hpp>
#include <sarab/base/verify.hpp>

#include <array>
#include <concepts>
#include <cstring>
#include <span>
#include <type_traits>

namespace sarab::net::wire {

template<class T>
    requires std::same_as<T, u16> || std::same_as<T, u32>
class NetworkOrdered {
public:
    constexpr NetworkOrdered() = default;
    // Implicit from a host value, so that `header.length = 20;` reads naturally.
    constexpr NetworkOrdered(T host) { set(host); }

    constexpr T get() const
    {
        T value = 0;
        for (u8 byte : m_bytes)
            value = T(value << 8 | byte);
        return value;
    }
    constexpr void set(T host)
    {
        for (usize i = sizeof(T); i-- > 0;) {
            m_bytes[i] = u8(host);
            host = T(host >> 8);
        }
    }
    constexpr bool operator==(const NetworkOrdered&) const = default;

private:
    std::array<u8, sizeof(T)> m_bytes {};
};

static_assert(sizeof(NetworkOrdered<u16>) == 2 && alignof(NetworkOrdered<u16>) == 1);
static_assert(sizeof(NetworkOrdered<u32>) == 4 && alignof(NetworkOrdered<u32>) == 1);

// What a struct must be to be copied to and from the wire as it is.
template<class H>
concept WireHeader = std::is_trivially_copyable_v<H> && std::is_standard_layout_v<H> && alignof(H) == 1;

template<WireHeader H>
H load_header(std::span<const std::byte> bytes, usize offset = 0)
{
    VERIFY(offset <= bytes.size() && sizeof(H) <= bytes.size() - offset, "header read out of bounds");
    H header;
    std::memcpy(&header, bytes.data() + offset, sizeof(H));
    return header;
}

template<WireHeader H>
void store_header(std::span<std::byte> bytes, const H& header, usize offset = 0)
{
    VERIFY(offset <= bytes.size() && sizeof(H) <= bytes.size() - offset, "header write out of bounds");
    std::memcpy(bytes.data() + offset, &header, sizeof(H));
}

inline u8 read_u8(std::span<const std::byte> bytes, usize offset)
{
    VERIFY(offset < bytes.size(), "read out of bounds");
    return u8(bytes[offset]);
}

inline u16 read_be16(std::span<const std::byte> bytes, usize offset)
{
    VERIFY(offset <= bytes.size() && bytes.size() - offset >= 2, "read out of bounds");
    return u16(u16(bytes[offset]) << 8 | u16(bytes[offset + 1]));
}

inline u32 read_be32(std::span<const std::byte> bytes, usize offset)
{
    VERIFY(offset <= bytes.size() && bytes.size() - offset >= 4, "read out of bounds");
    return u32(bytes[offset]) << 24 | u32(bytes[offset + 1]) << 16 | u32(bytes[offset + 2]) << 8
        | u32(bytes[offset + 3]);
}

inline void write_u8(std::span<std::byte> bytes, usize offset, u8 value)
{
    VERIFY(offset < bytes.size(), "write out of bounds");
    bytes[offset] = std::byte(value);
}

inline void write_be16(std::span<std::byte> bytes, usize offset, u16 value)
{
    VERIFY(offset <= bytes.size() && bytes.size() - offset >= 2, "write out of bounds");
    bytes[offset] = std::byte(value >> 8);
    bytes[offset + 1] = std::byte(value);
}

inline void write_be32(std::span<std::byte> bytes, usize offset, u32 value)
{
    VERIFY(offset <= bytes.size() && bytes.size() - offset >= 4, "write out of bounds");
    bytes[offset] = std::byte(value >> 24);
    bytes[offset + 1] = std::byte(value >> 16);
    bytes[offset + 2] = std::byte(value >> 8);
    bytes[offset + 3] = std::byte(value);
}

// Copies that may overlap: emitting a reply into the buffer of the request it answers.
inline void copy_bytes(std::span<std::byte> to, std::span<const std::byte> from)
{
    VERIFY(from.size() <= to.size(), "copy out of bounds");
    if (!from.empty())
        std::memmove(to.data(), from.data(), from.size());
}

inline bool bytes_equal(std::span<const std::byte> a, std::span<const std::byte> b)
{
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

} // namespace sarab::net::wire
