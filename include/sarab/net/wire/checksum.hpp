// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum
// of the data taken as big-endian 16-bit words, a last odd byte padded with zero.
//
// Checksum accumulates pieces in any number of calls, of any lengths (a piece may start at an
// odd offset of the whole), so that a pseudo-header, a header and a payload in different
// buffers sum as if they were one. `value()` is the number to store in a checksum field
// (with write_be16); data that already contains a correct checksum sums to `value() == 0`.
// `checksum_adjust` updates a checksum for one changed 16-bit field without summing the
// data again (RFC 1624, eqn. 3), for a router that decrements a TTL or rewrites an address.
#pragma once

#include <sarab/base/types.hpp>
#include <sarab/net/address.hpp>

#include <span>

namespace sarab::platform {
class Frame;
}

namespace sarab::net::wire {

// Whether a parse checks checksums. `skip` is for a device that verified them already
// (checksum offload) and for fuzzing the code behind the check; everything else verifies.
enum class ChecksumCheck : u8 {
    verify,
    skip,
};

class Checksum {
public:
    void add(std::span<const std::byte> data);
    void add_u16(u16 value);
    void add_u32(u32 value);
    void add(Ipv4Address address) { add_u32(address.to_host()); }
    // The IPv4 pseudo-header that UDP and TCP checksums cover (RFC 768, RFC 9293 3.1).
    void add_pseudo_header(Ipv4Address source, Ipv4Address destination, u8 protocol, u16 length);

    u16 value() const;
    // The sum so far, folded but not complemented, in network byte order: what a transport
    // header's checksum field holds when a device completes the checksum (the pseudo-header's
    // sum; see platform::Frame::request_device_checksum).
    u16 partial() const;

private:
    u64 m_sum = 0;     // in the byte order of the host's 16-bit loads; folded in value()
    bool m_odd = false; // an odd number of bytes so far: the next byte is a low half
};

// The checksum of a single buffer.
u16 internet_checksum(std::span<const std::byte> data);

// Writes the checksum field (`field` bytes in) of the TCP or UDP packet in `packet`, written
// with the field zero: the sum over the pseudo-header and the packet. UDP sends a sum of zero
// as 0xffff (zero_as_all_ones).
void write_transport_checksum(std::span<std::byte> packet, Ipv4Address source, Ipv4Address destination, u8 protocol,
    usize field, bool zero_as_all_ones);
// The same for the packet at the frame's front; but when the frame's device completes
// checksums (platform::Frame::device_checksums), only the pseudo-header's sum and a request
// to the device.
void fill_transport_checksum(platform::Frame& frame, Ipv4Address source, Ipv4Address destination, u8 protocol, usize field,
    bool zero_as_all_ones);

// Completes in software the transport checksum that a frame left to its device
// (platform::Frame::request_device_checksum), as the device would: the sum from the transport
// header to the end, a result of 0 sent as 0xffff. For a frame that will not reach the device
// as it is (cut into IP fragments).
void complete_device_checksum(platform::Frame& frame);

// RFC 1624: the new checksum when one 16-bit word of the covered data changes from old_word
// to new_word.
constexpr u16 checksum_adjust(u16 checksum, u16 old_word, u16 new_word)
{
    u32 sum = u32(u16(~checksum)) + u32(u16(~old_word)) + u32(new_word);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return u16(~sum);
}

constexpr u16 checksum_adjust(u16 checksum, u32 old_value, u32 new_value)
{
    checksum = checksum_adjust(checksum, u16(old_value >> 16), u16(new_value >> 16));
    return checksum_adjust(checksum, u16(old_value), u16(new_value));
}

} // namespace sarab::net::wire
