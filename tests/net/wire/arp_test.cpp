#include <sarab/net/wire/arp.hpp>
#include <sarab/net/wire/ethernet.hpp>

#include "wire_test_util.hpp"

#include <gtest/gtest.h>

using namespace sarab;
using namespace sarab::net;
using namespace sarab::net::wire;
using namespace sarab::net::wire::test;

namespace {

// "Who has 10.0.2.2? Tell 10.0.2.15": a guest asks QEMU's user-network gateway (ARP part of
// the frame, after the Ethernet header).
const u8 arp_request[] = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12,
    0x34, 0x56, 0x0a, 0x00, 0x02, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x0a, 0x00, 0x02, 0x02,
};

// The gateway's answer as it arrives: a 60-byte frame, so 18 bytes of padding follow.
const u8 arp_reply[] = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x52, 0x55, 0x0a, 0x00,
    0x02, 0x02, 0x0a, 0x00, 0x02, 0x02, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    0x0a, 0x00, 0x02, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

const MacAddress guest { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
const MacAddress gateway { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };

} // namespace

TEST(WireArp, ParsesARequest)
{
    auto view = ArpView::parse(bytes_of(arp_request));
    ASSERT_TRUE(view);
    EXPECT_EQ(view->hardware_type(), 1);
    EXPECT_EQ(view->protocol_type(), 0x0800);
    EXPECT_EQ(view->hardware_len(), 6);
    EXPECT_EQ(view->protocol_len(), 4);
    EXPECT_EQ(view->operation(), 1);
    EXPECT_EQ(view->packet_len(), 28u);
    EXPECT_EQ(view->target_protocol_address().size(), 4u);

    auto repr = ArpRepr::parse(*view);
    ASSERT_TRUE(repr);
    EXPECT_EQ(repr->operation, ArpOperation::request);
    EXPECT_EQ(repr->sender_hardware_address, guest);
    EXPECT_EQ(repr->sender_protocol_address, Ipv4Address(10, 0, 2, 15));
    EXPECT_EQ(repr->target_hardware_address, (MacAddress {}));
    EXPECT_EQ(repr->target_protocol_address, Ipv4Address(10, 0, 2, 2));
}

TEST(WireArp, EmitsARequest)
{
    ArpRepr repr { ArpOperation::request, guest, Ipv4Address(10, 0, 2, 15), {}, Ipv4Address(10, 0, 2, 2) };
    std::byte out[28];
    repr.emit(out);
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(arp_request));
}

TEST(WireArp, ParsesAPaddedReply)
{
    auto view = ArpView::parse(bytes_of(arp_reply));
    ASSERT_TRUE(view);
    auto repr = ArpRepr::parse(*view);
    ASSERT_TRUE(repr);
    EXPECT_EQ(*repr, (ArpRepr { ArpOperation::reply, gateway, Ipv4Address(10, 0, 2, 2), guest, Ipv4Address(10, 0, 2, 15) }));
}

TEST(WireArp, EmitsAReplyIntoAFrame)
{
    auto pool = platform::FramePool::create(1).release_value();
    auto frame = pool->allocate(64).value();
    ArpRepr { ArpOperation::reply, gateway, Ipv4Address(10, 0, 2, 2), guest, Ipv4Address(10, 0, 2, 15) }.emit(frame);
    EthernetRepr { gateway, guest, EtherType::arp, std::nullopt }.emit(frame);
    EXPECT_EQ(frame.size(), 42u);
    EXPECT_BYTES_EQ(std::as_const(frame).bytes().subspan(14), bytes_of(arp_reply).first(28));
}

TEST(WireArp, RejectsTruncatedPackets)
{
    for (usize n = 0; n < 28; ++n)
        EXPECT_EQ(ArpView::parse(bytes_of(arp_request).first(n)).error(), WireError::truncated) << n;
}

TEST(WireArp, ChecksStatedAddressLengths)
{
    // A hardware length of 255 promises 2 * 255 bytes of hardware addresses that are not there.
    auto packet = copy_of(bytes_of(arp_reply));
    packet[4] = std::byte(255);
    EXPECT_EQ(ArpView::parse(packet).error(), WireError::truncated);
    // Other lengths that fit parse as a view, but only Ethernet and IPv4 as a repr.
    packet[4] = std::byte(8);
    auto view = ArpView::parse(packet);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->sender_hardware_address().size(), 8u);
    EXPECT_EQ(ArpRepr::parse(*view).error(), WireError::unsupported);
}

TEST(WireArp, RejectsOtherHardwareProtocolsAndOperations)
{
    struct Case {
        usize offset;
        u8 value;
    };
    for (auto c : { Case { 1, 6 }, Case { 2, 0x86 }, Case { 5, 16 }, Case { 7, 3 }, Case { 7, 0 } }) {
        auto packet = copy_of(bytes_of(arp_request));
        packet[c.offset] = std::byte(c.value);
        auto view = ArpView::parse(packet);
        if (!view) {
            EXPECT_EQ(view.error(), WireError::truncated); // a longer protocol address
            continue;
        }
        EXPECT_EQ(ArpRepr::parse(*view).error(), WireError::unsupported) << c.offset;
    }
}
