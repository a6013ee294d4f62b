#include <sarab/net/wire/byte_order.hpp>
#include <sarab/net/wire/checksum.hpp>
#include <sarab/platform/frame.hpp>

#include <bit>
#include <cstring>

namespace sarab::net::wire {

namespace {

// The one's complement sum of `data` as if it started at an even offset, folded to 16 bits,
// in the byte order of the host's loads. One's complement addition does not care which byte
// order the words are in, as long as it is the same for all of them (RFC 1071 2(B)), so the
// words are loaded natively, four bytes at a time, and swapped once at the end.
u16 folded_native_sum(std::span<const std::byte> data)
{
    const std::byte* p = data.data();
    usize n = data.size();
    u64 sum = 0;
    // u32 words into a u64 cannot overflow for any buffer shorter than 16 GiB.
    while (n >= 4) {
        u32 word;
        std::memcpy(&word, p, 4);
        sum += word;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        u16 half;
        std::memcpy(&half, p, 2);
        sum += half;
        p += 2;
        n -= 2;
    }
    if (n == 1) {
        // The last odd byte is the high half of a big-endian word padded with zero: in host
        // load order that is the word the two bytes {b, 0} load as.
        const std::byte last[2] = { *p, std::byte(0) };
        u16 half;
        std::memcpy(&half, last, 2);
        sum += half;
    }
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return u16(sum);
}

u16 swap16(u16 v) { return u16(v << 8 | v >> 8); }

} // namespace

void Checksum::add(std::span<const std::byte> data)
{
    u16 sum = folded_native_sum(data);
    // A piece that starts at an odd offset of the whole has every byte in the other half of
    // its word; swapping the bytes of its sum puts them back (RFC 1071 2(B) again).
    if (m_odd)
        sum = swap16(sum);
    m_sum += sum;
    m_odd ^= (data.size() & 1) != 0;
}

void Checksum::add_u16(u16 value)
{
    const std::byte bytes[2] = { std::byte(value >> 8), std::byte(value) };
    add(bytes);
}

void Checksum::add_u32(u32 value)
{
    const std::byte bytes[4] = { std::byte(value >> 24), std::byte(value >> 16), std::byte(value >> 8), std::byte(value) };
    add(bytes);
}

void Checksum::add_pseudo_header(Ipv4Address source, Ipv4Address destination, u8 protocol, u16 length)
{
    add(source);
    add(destination);
    add_u16(protocol);
    add_u16(length);
}

u16 Checksum::partial() const
{
    u64 sum = m_sum;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    u16 native = u16(sum);
    return std::endian::native == std::endian::little ? swap16(native) : native;
}

u16 Checksum::value() const { return u16(~partial()); }

u16 internet_checksum(std::span<const std::byte> data)
{
    Checksum sum;
    sum.add(data);
    return sum.value();
}

void write_transport_checksum(std::span<std::byte> packet, Ipv4Address source, Ipv4Address destination, u8 protocol,
    usize field, bool zero_as_all_ones)
{
    Checksum sum;
    sum.add_pseudo_header(source, destination, protocol, u16(packet.size()));
    sum.add(packet);
    u16 value = sum.value();
    write_be16(packet, field, zero_as_all_ones && value == 0 ? 0xffff : value);
}

void fill_transport_checksum(platform::Frame& frame, Ipv4Address source, Ipv4Address destination, u8 protocol, usize field,
    bool zero_as_all_ones)
{
    if (!frame.device_checksums()) {
        write_transport_checksum(frame.bytes(), source, destination, protocol, field, zero_as_all_ones);
        return;
    }
    Checksum sum;
    sum.add_pseudo_header(source, destination, protocol, u16(frame.size()));
    write_be16(frame.bytes(), field, sum.partial());
    frame.request_device_checksum(field);
}

void complete_device_checksum(platform::Frame& frame)
{
    if (!frame.wants_device_checksum())
        return;
    auto covered = frame.bytes().subspan(frame.device_checksum_start());
    u16 checksum = internet_checksum(covered); // the field holds the pseudo-header's sum
    write_be16(covered, frame.device_checksum_field(), checksum == 0 ? 0xffff : checksum);
    frame.device_checksum_done();
}

} // namespace sarab::net::wire
