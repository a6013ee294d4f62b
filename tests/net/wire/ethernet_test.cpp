#include <sarab/net/wire/ethernet.hpp>

#include "wire_test_util.hpp"

#include <gtest/gtest.h>

using namespace sarab;
using namespace sarab::net;
using namespace sarab::net::wire;
using namespace sarab::net::wire::test;

namespace {

// An ARP request as a Linux guest on QEMU's user network sends it: to the broadcast address,
// 42 bytes (the device pads to 60).
const u8 arp_request_frame[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54,
    0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x02, 0x0f, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x0a, 0x00, 0x02, 0x02,
};

// An 802.1Q-tagged frame (priority 1, VLAN 100) carrying a UDP datagram.
const u8 tagged_frame[] = {
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02,
    0x81, 0x00, 0x20, 0x64, 0x08, 0x00, 0x45, 0x00, 0x00, 0x28, 0x68, 0xd6,
    0x40, 0x00, 0x40, 0x11, 0xd3, 0xec, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00,
    0x00, 0x01, 0x81, 0x14, 0x00, 0x09, 0x00, 0x14, 0xf4, 0xe6, 0x68, 0x65,
    0x6c, 0x6c, 0x6f, 0x20, 0x73, 0x61, 0x72, 0x61, 0x62, 0x0a,
};

const MacAddress guest { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
const MacAddress gateway { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };

} // namespace

TEST(WireEthernet, ParsesAFrame)
{
    auto view = EthernetView::parse(bytes_of(arp_request_frame));
    ASSERT_TRUE(view);
    EXPECT_EQ(view->destination(), broadcast_mac);
    EXPECT_EQ(view->source(), guest);
    EXPECT_EQ(view->ethertype(), EtherType::arp);
    EXPECT_FALSE(view->vlan());
    EXPECT_EQ(view->header_len(), 14u);
    EXPECT_EQ(view->payload().size(), 28u);

    auto repr = EthernetRepr::parse(*view);
    ASSERT_TRUE(repr);
    EXPECT_EQ(repr->source, guest);
    EXPECT_EQ(repr->destination, broadcast_mac);
    EXPECT_EQ(repr->ethertype, EtherType::arp);
    EXPECT_EQ(repr->buffer_len(), 14u);
}

TEST(WireEthernet, EmitsAFrame)
{
    EthernetRepr repr { guest, broadcast_mac, EtherType::arp, std::nullopt };
    std::byte out[14];
    repr.emit(out);
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(arp_request_frame).first(14));
}

TEST(WireEthernet, ParsesAVlanTag)
{
    auto view = EthernetView::parse(bytes_of(tagged_frame));
    ASSERT_TRUE(view);
    EXPECT_EQ(view->header_len(), 18u);
    EXPECT_EQ(view->ethertype(), EtherType::ipv4);
    ASSERT_TRUE(view->vlan());
    EXPECT_EQ(view->vlan()->priority, 1);
    EXPECT_FALSE(view->vlan()->drop_eligible);
    EXPECT_EQ(view->vlan()->id, 100);
    EXPECT_EQ(view->payload().size(), 40u);
    EXPECT_EQ(u8(view->payload()[0]), 0x45);

    auto repr = EthernetRepr::parse(*view);
    ASSERT_TRUE(repr);
    EXPECT_EQ(repr->vlan, (VlanTag { 1, false, 100 }));
    EXPECT_EQ(repr->buffer_len(), 18u);
}

TEST(WireEthernet, EmitsAVlanTag)
{
    EthernetRepr repr { gateway, guest, EtherType::ipv4, VlanTag { 1, false, 100 } };
    std::byte out[18];
    repr.emit(out);
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(tagged_frame).first(18));

    repr.vlan = VlanTag { 7, true, 4095 };
    repr.emit(out);
    EXPECT_EQ(u8(out[14]), 0xff);
    EXPECT_EQ(u8(out[15]), 0xff);
    auto again = EthernetRepr::parse(EthernetView::parse(out).value());
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, repr);
}

TEST(WireEthernet, PrependsIntoAFrame)
{
    auto pool = platform::FramePool::create(1).release_value();
    auto frame = pool->allocate(64).value();
    auto payload = frame.append(40);
    copy_bytes(payload, bytes_of(tagged_frame).subspan(18));
    EthernetRepr { gateway, guest, EtherType::ipv4, VlanTag { 1, false, 100 } }.emit(frame);
    EXPECT_EQ(frame.headroom(), 64u - 18u);
    EXPECT_BYTES_EQ(std::as_const(frame).bytes(), bytes_of(tagged_frame));
}

TEST(WireEthernet, RoundTrips)
{
    for (auto literal : { bytes_of(arp_request_frame), bytes_of(tagged_frame) }) {
        auto repr = EthernetRepr::parse(EthernetView::parse(literal).value()).value();
        std::byte out[18];
        repr.emit(out);
        EXPECT_BYTES_EQ(std::span<const std::byte>(out).first(repr.buffer_len()), literal.first(repr.buffer_len()));
    }
}

TEST(WireEthernet, RejectsShortFrames)
{
    auto frame = bytes_of(arp_request_frame);
    for (usize n = 0; n < 14; ++n)
        EXPECT_EQ(EthernetView::parse(frame.first(n)).error(), WireError::truncated) << n;
    auto tagged = bytes_of(tagged_frame);
    for (usize n = 14; n < 18; ++n)
        EXPECT_EQ(EthernetView::parse(tagged.first(n)).error(), WireError::truncated) << n;
    EXPECT_TRUE(EthernetView::parse(tagged.first(18)));
}

TEST(WireEthernet, Rejects8023AndStackedTags)
{
    auto frame = copy_of(bytes_of(arp_request_frame));
    frame[12] = std::byte(0x05), frame[13] = std::byte(0xdc); // an 802.3 length of 1500
    auto view = EthernetView::parse(frame);
    ASSERT_TRUE(view);
    EXPECT_EQ(EthernetRepr::parse(*view).error(), WireError::unsupported);

    auto tagged = copy_of(bytes_of(tagged_frame));
    tagged[16] = std::byte(0x81), tagged[17] = std::byte(0x00); // a second 802.1Q tag
    view = EthernetView::parse(tagged);
    ASSERT_TRUE(view);
    EXPECT_EQ(EthernetRepr::parse(*view).error(), WireError::unsupported);
}
