#include <sarab/net/wire/ipv4.hpp>

#include "wire_test_util.hpp"

#include <gtest/gtest.h>

using namespace sarab;
using namespace sarab::net;
using namespace sarab::net::wire;
using namespace sarab::net::wire::test;

namespace {

// An ICMP echo request over Linux loopback: don't-fragment set, TTL 64, 64 bytes of ICMP.
const u8 echo_request[] = {
    0x45, 0x00, 0x00, 0x54, 0x52, 0xb9, 0x40, 0x00, 0x40, 0x01, 0xe9, 0xed,
    0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x08, 0x00, 0x86, 0xc8,
    0x1c, 0x2b, 0x00, 0x01, 0x00, 0xf1, 0x53, 0x65, 0x00, 0x00, 0x00, 0x00,
    0x40, 0xe2, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13,
    0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b,
    0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
};

// An IGMPv3 report as Linux sends it on joining 224.0.0.251: TOS 0xc0, TTL 1 and a Router
// Alert option, so the header is 24 bytes.
const u8 with_options[] = {
    0x46, 0xc0, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0xf7, 0xea,
    0x0a, 0x00, 0x02, 0x0f, 0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00,
    0x22, 0x00, 0xf9, 0x02, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00,
    0xe0, 0x00, 0x00, 0xfb,
};

// A middle fragment: more-fragments set, offset 1480, 8 bytes of payload.
const u8 fragment[] = {
    0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x20, 0xb9, 0x40, 0x01, 0x2f, 0xe4,
    0x0a, 0x00, 0x02, 0x0f, 0x0a, 0x00, 0x02, 0x02, 0x00, 0x01, 0x02, 0x03,
    0x04, 0x05, 0x06, 0x07,
};

const Ipv4Address loopback = Ipv4Address::loopback();

Ipv4Repr echo_request_repr()
{
    Ipv4Repr repr;
    repr.source = loopback;
    repr.destination = loopback;
    repr.protocol = IpProtocol::icmp;
    repr.ttl = 64;
    repr.identification = 0x52b9;
    repr.dont_fragment = true;
    repr.payload_len = 64;
    return repr;
}

} // namespace

TEST(WireIpv4, ParsesAHeader)
{
    auto view = Ipv4View::parse(bytes_of(echo_request));
    ASSERT_TRUE(view);
    EXPECT_EQ(view->version(), 4);
    EXPECT_EQ(view->header_len(), 20u);
    EXPECT_EQ(view->total_length(), 84);
    EXPECT_EQ(view->identification(), 0x52b9);
    EXPECT_TRUE(view->dont_fragment());
    EXPECT_FALSE(view->more_fragments());
    EXPECT_EQ(view->fragment_offset(), 0);
    EXPECT_EQ(view->ttl(), 64);
    EXPECT_EQ(view->protocol(), 1);
    EXPECT_EQ(view->checksum(), 0xe9ed);
    EXPECT_EQ(view->source(), loopback);
    EXPECT_TRUE(view->options().empty());
    EXPECT_EQ(view->payload().size(), 64u);
    EXPECT_TRUE(view->checksum_valid());

    auto repr = Ipv4Repr::parse(*view);
    ASSERT_TRUE(repr);
    EXPECT_EQ(*repr, echo_request_repr());
}

TEST(WireIpv4, EmitsAHeader)
{
    std::byte out[20];
    echo_request_repr().emit(out);
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(echo_request).first(20));
}

TEST(WireIpv4, EmitsIntoAFrame)
{
    auto pool = platform::FramePool::create(1).release_value();
    auto frame = pool->allocate(64).value();
    copy_bytes(frame.append(64), bytes_of(echo_request).subspan(20));
    echo_request_repr().emit(frame);
    EXPECT_BYTES_EQ(std::as_const(frame).bytes(), bytes_of(echo_request));
}

TEST(WireIpv4, SkipsOptions)
{
    auto view = Ipv4View::parse(bytes_of(with_options));
    ASSERT_TRUE(view);
    EXPECT_EQ(view->header_len(), 24u);
    EXPECT_EQ(view->options().size(), 4u);
    EXPECT_EQ(u8(view->options()[0]), 0x94);
    EXPECT_EQ(view->payload().size(), 16u);
    EXPECT_EQ(u8(view->payload()[0]), 0x22);
    auto repr = Ipv4Repr::parse(*view);
    ASSERT_TRUE(repr);
    EXPECT_EQ(repr->dscp, 48);
    EXPECT_EQ(repr->ecn, 0);
    EXPECT_EQ(repr->ttl, 1);
    EXPECT_EQ(u8(repr->protocol), 2);
    EXPECT_EQ(repr->destination, Ipv4Address(224, 0, 0, 22));
    EXPECT_EQ(repr->payload_len, 16);

    // Emitted again it has no options, and parses to the same repr.
    std::byte out[20];
    repr->emit(out);
    EXPECT_EQ(u8(out[0]), 0x45);
    std::byte whole[36];
    copy_bytes(whole, out);
    copy_bytes(std::span(whole).subspan(20), view->payload());
    EXPECT_EQ(Ipv4Repr::parse(Ipv4View::parse(whole).value()).value(), *repr);
}

TEST(WireIpv4, ParsesAndEmitsAFragment)
{
    auto repr = Ipv4Repr::parse(Ipv4View::parse(bytes_of(fragment)).value());
    ASSERT_TRUE(repr);
    EXPECT_TRUE(repr->more_fragments);
    EXPECT_FALSE(repr->dont_fragment);
    EXPECT_EQ(repr->fragment_offset, 1480);
    EXPECT_EQ(repr->identification, 0x1234);
    EXPECT_EQ(repr->payload_len, 8);
    std::byte out[20];
    repr->emit(out);
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(fragment).first(20));
}

TEST(WireIpv4, IgnoresEthernetPadding)
{
    std::byte padded[46] {}; // a 28-byte datagram in a minimum-size Ethernet frame
    copy_bytes(padded, bytes_of(fragment));
    auto view = Ipv4View::parse(padded);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->payload().size(), 8u);
}

TEST(WireIpv4, RejectsTruncatedHeaders)
{
    for (usize n = 0; n < 20; ++n)
        EXPECT_EQ(Ipv4View::parse(bytes_of(echo_request).first(n)).error(), WireError::truncated) << n;
    // The options promised by the header length are missing.
    EXPECT_EQ(Ipv4View::parse(bytes_of(with_options).first(22)).error(), WireError::truncated);
    // The total length is more than there is.
    EXPECT_EQ(Ipv4View::parse(bytes_of(echo_request).first(83)).error(), WireError::truncated);
}

TEST(WireIpv4, RejectsBadLengths)
{
    auto packet = copy_of(bytes_of(echo_request));
    packet[0] = std::byte(0x44); // a 16-byte header
    EXPECT_EQ(Ipv4View::parse(packet).error(), WireError::bad_header_length);
    packet[0] = std::byte(0x45);
    packet[2] = std::byte(0), packet[3] = std::byte(19); // total length below the header's
    EXPECT_EQ(Ipv4View::parse(packet).error(), WireError::bad_length);
}

TEST(WireIpv4, RejectsOtherVersionsAndBadChecksums)
{
    auto packet = copy_of(bytes_of(echo_request));
    packet[0] = std::byte(0x65);
    EXPECT_EQ(Ipv4Repr::parse(Ipv4View::parse(packet).value()).error(), WireError::bad_version);

    packet = copy_of(bytes_of(echo_request));
    packet[8] = std::byte(63); // the TTL changed and the checksum did not
    auto view = Ipv4View::parse(packet).value();
    EXPECT_FALSE(view.checksum_valid());
    EXPECT_EQ(Ipv4Repr::parse(view).error(), WireError::bad_checksum);
    EXPECT_TRUE(Ipv4Repr::parse(view, ChecksumCheck::skip));
}

TEST(WireIpv4, RejectsAFragmentBeyond64KiB)
{
    auto packet = copy_of(bytes_of(fragment));
    // The largest offset, 65528, and 8 bytes of payload end beyond any datagram.
    write_be16(packet, 6, 0x1fff);
    write_be16(packet, 10, 0);
    write_be16(packet, 10, internet_checksum(std::span(packet).first(20)));
    EXPECT_EQ(Ipv4Repr::parse(Ipv4View::parse(packet).value()).error(), WireError::malformed);
}

TEST(WireIpv4, ParsesAQuotedHeader)
{
    // An ICMP error quotes the header and the start of the payload only.
    auto quoted = bytes_of(echo_request).first(28);
    EXPECT_EQ(Ipv4View::parse(quoted).error(), WireError::truncated);
    auto view = Ipv4View::parse_quoted(quoted);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->total_length(), 84);
    EXPECT_EQ(view->payload().size(), 8u);
    EXPECT_EQ(Ipv4View::parse_quoted(quoted.first(19)).error(), WireError::truncated);
}
