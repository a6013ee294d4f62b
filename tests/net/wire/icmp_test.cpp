#include <sarab/net/wire/icmp.hpp>

#include "wire_test_util.hpp"

#include <gtest/gtest.h>

using namespace sarab;
using namespace sarab::net;
using namespace sarab::net::wire;
using namespace sarab::net::wire::test;

namespace {

// An echo request in the format of iputils ping (identifier 0x1c2b, sequence 1, a 16-byte
// timestamp then the bytes 0x10..0x37), and the reply Linux sent to it: the ICMP parts.
const u8 echo_request[] = {
    0x08, 0x00, 0x86, 0xc8, 0x1c, 0x2b, 0x00, 0x01, 0x00, 0xf1, 0x53, 0x65,
    0x00, 0x00, 0x00, 0x00, 0x40, 0xe2, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
    0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
    0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33,
    0x34, 0x35, 0x36, 0x37,
};
const u8 echo_reply[] = {
    0x00, 0x00, 0x8e, 0xc8, 0x1c, 0x2b, 0x00, 0x01, 0x00, 0xf1, 0x53, 0x65,
    0x00, 0x00, 0x00, 0x00, 0x40, 0xe2, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
    0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
    0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33,
    0x34, 0x35, 0x36, 0x37,
};

// What Linux answered a UDP datagram to a closed port on loopback: port unreachable, quoting
// the whole datagram (RFC 1812 allows more than 8 bytes).
const u8 port_unreachable[] = {
    0x03, 0x03, 0xf1, 0xe3, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x28,
    0x68, 0xd6, 0x40, 0x00, 0x40, 0x11, 0xd3, 0xec, 0x7f, 0x00, 0x00, 0x01,
    0x7f, 0x00, 0x00, 0x01, 0x81, 0x14, 0x00, 0x09, 0x00, 0x14, 0xfe, 0x27,
    0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x73, 0x61, 0x72, 0x61, 0x62, 0x0a,
};

// Fragmentation needed, next-hop MTU 1400, quoting a TCP segment's header and 8 bytes.
const u8 fragmentation_needed[] = {
    0x03, 0x04, 0x63, 0xaa, 0x00, 0x00, 0x05, 0x78, 0x45, 0x00, 0x00, 0x39,
    0x96, 0x37, 0x40, 0x00, 0x40, 0x06, 0xa6, 0x85, 0x7f, 0x00, 0x00, 0x01,
    0x7f, 0x00, 0x00, 0x01, 0xb5, 0x94, 0x1e, 0x61, 0x12, 0xa6, 0xad, 0x3d,
};

// TTL exceeded in transit, for a UDP datagram sent with TTL 1.
const u8 ttl_exceeded[] = {
    0x0b, 0x00, 0x7e, 0xe7, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x28,
    0x68, 0xd6, 0x40, 0x00, 0x01, 0x11, 0x12, 0xed, 0x7f, 0x00, 0x00, 0x01,
    0x7f, 0x00, 0x00, 0x01, 0x81, 0x14, 0x00, 0x09, 0x00, 0x14, 0xf4, 0xe6,
};

const Ipv4Address loopback = Ipv4Address::loopback();

} // namespace

TEST(WireIcmp, ParsesAnEchoRequest)
{
    auto view = IcmpView::parse(bytes_of(echo_request));
    ASSERT_TRUE(view);
    EXPECT_EQ(view->type(), 8);
    EXPECT_EQ(view->code(), 0);
    EXPECT_EQ(view->checksum(), 0x86c8);
    EXPECT_EQ(view->identifier(), 0x1c2b);
    EXPECT_EQ(view->sequence(), 1);
    EXPECT_EQ(view->data().size(), 56u);
    EXPECT_TRUE(view->checksum_valid());

    auto repr = IcmpRepr::parse(*view);
    ASSERT_TRUE(repr);
    EXPECT_EQ(repr->type, IcmpType::echo_request);
    EXPECT_FALSE(repr->is_error());
    EXPECT_EQ(repr->identifier, 0x1c2b);
    EXPECT_EQ(repr->sequence, 1);
    EXPECT_BYTES_EQ(repr->data, bytes_of(echo_request).subspan(8));
    EXPECT_EQ(repr->buffer_len(), 64u);
}

TEST(WireIcmp, EmitsTheReplyLinuxSent)
{
    auto request = IcmpRepr::parse(IcmpView::parse(bytes_of(echo_request)).value()).value();
    auto reply = IcmpRepr::echo_reply(request.identifier, request.sequence, request.data);
    std::byte out[64];
    reply.emit(out);
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(echo_reply));
}

TEST(WireIcmp, EmitsAReplyOverItsRequest)
{
    auto buffer = copy_of(bytes_of(echo_request));
    auto request = IcmpRepr::parse(IcmpView::parse(buffer).value()).value();
    IcmpRepr::echo_reply(request.identifier, request.sequence, request.data).emit(buffer);
    EXPECT_BYTES_EQ(buffer, bytes_of(echo_reply));
}

TEST(WireIcmp, ParsesAPortUnreachable)
{
    auto repr = IcmpRepr::parse(IcmpView::parse(bytes_of(port_unreachable)).value());
    ASSERT_TRUE(repr);
    EXPECT_EQ(repr->type, IcmpType::destination_unreachable);
    EXPECT_EQ(repr->code, u8(UnreachableCode::port));
    EXPECT_TRUE(repr->is_error());
    EXPECT_EQ(repr->next_hop_mtu, 0);
    EXPECT_EQ(repr->original.protocol, IpProtocol::udp);
    EXPECT_EQ(repr->original.source, loopback);
    EXPECT_EQ(repr->original.identification, 0x68d6);
    EXPECT_EQ(repr->original.payload_len, 20);
    ASSERT_EQ(repr->data.size(), 20u);
    EXPECT_EQ(read_be16(repr->data, 2), 9); // the port that was closed
}

TEST(WireIcmp, EmitsAPortUnreachable)
{
    auto original = Ipv4Repr::parse(Ipv4View::parse(bytes_of(port_unreachable).subspan(8)).value()).value();
    auto repr = IcmpRepr::destination_unreachable(UnreachableCode::port, original, bytes_of(port_unreachable).subspan(28));
    ASSERT_EQ(repr.buffer_len(), sizeof port_unreachable);
    std::byte out[sizeof port_unreachable];
    repr.emit(out);
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(port_unreachable));
}

TEST(WireIcmp, ParsesAndEmitsFragmentationNeeded)
{
    auto repr = IcmpRepr::parse(IcmpView::parse(bytes_of(fragmentation_needed)).value());
    ASSERT_TRUE(repr);
    EXPECT_EQ(repr->code, u8(UnreachableCode::fragmentation_needed));
    EXPECT_EQ(repr->next_hop_mtu, 1400);
    EXPECT_TRUE(repr->original.dont_fragment);
    EXPECT_EQ(repr->original.protocol, IpProtocol::tcp);
    EXPECT_EQ(repr->original.payload_len, 37);
    EXPECT_EQ(repr->data.size(), 8u);

    auto built = IcmpRepr::destination_unreachable(UnreachableCode::fragmentation_needed, repr->original, repr->data, 1400);
    EXPECT_EQ(built, *repr);
    std::byte out[36];
    built.emit(out);
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(fragmentation_needed));
}

TEST(WireIcmp, ParsesAndEmitsTimeExceeded)
{
    auto repr = IcmpRepr::parse(IcmpView::parse(bytes_of(ttl_exceeded)).value());
    ASSERT_TRUE(repr);
    EXPECT_EQ(repr->type, IcmpType::time_exceeded);
    EXPECT_EQ(repr->code, u8(TimeExceededCode::ttl));
    EXPECT_EQ(repr->original.ttl, 1);
    EXPECT_EQ(repr->data.size(), 8u);

    auto built = IcmpRepr::time_exceeded(TimeExceededCode::ttl, repr->original, repr->data);
    std::byte out[36];
    built.emit(out);
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(ttl_exceeded));
}

TEST(WireIcmp, RoundTrips)
{
    for (auto literal : { bytes_of(echo_request), bytes_of(echo_reply), bytes_of(port_unreachable),
             bytes_of(fragmentation_needed), bytes_of(ttl_exceeded) }) {
        auto repr = IcmpRepr::parse(IcmpView::parse(literal).value()).value();
        std::vector<std::byte> out(repr.buffer_len());
        repr.emit(out);
        EXPECT_BYTES_EQ(out, literal);
    }
}

TEST(WireIcmp, RejectsTruncatedMessages)
{
    for (usize n = 0; n < 8; ++n)
        EXPECT_EQ(IcmpView::parse(bytes_of(echo_request).first(n)).error(), WireError::truncated) << n;
    // An error must quote at least a whole IPv4 header.
    auto message = copy_of(bytes_of(fragmentation_needed).first(27));
    write_be16(message, 2, 0);
    write_be16(message, 2, internet_checksum(message));
    EXPECT_EQ(IcmpRepr::parse(IcmpView::parse(message).value()).error(), WireError::truncated);
}

TEST(WireIcmp, RejectsBadChecksums)
{
    auto message = copy_of(bytes_of(echo_request));
    message[63] = std::byte(0x38);
    auto view = IcmpView::parse(message).value();
    EXPECT_EQ(IcmpRepr::parse(view).error(), WireError::bad_checksum);
    EXPECT_TRUE(IcmpRepr::parse(view, ChecksumCheck::skip));
}

TEST(WireIcmp, RejectsUnsupportedTypesAndBadQuotes)
{
    auto message = copy_of(bytes_of(echo_request));
    message[0] = std::byte(13); // timestamp request
    EXPECT_EQ(IcmpRepr::parse(IcmpView::parse(message).value(), ChecksumCheck::skip).error(), WireError::unsupported);

    message = copy_of(bytes_of(ttl_exceeded));
    message[8] = std::byte(0x65); // the quoted header is not IPv4
    EXPECT_EQ(IcmpRepr::parse(IcmpView::parse(message).value(), ChecksumCheck::skip).error(), WireError::bad_version);
    message[8] = std::byte(0x43);
    EXPECT_EQ(IcmpRepr::parse(IcmpView::parse(message).value(), ChecksumCheck::skip).error(), WireError::bad_header_length);
}
