#include <sarab/net/wire/udp.hpp>

#include "wire_test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string_view>
#include <vector>

using namespace sarab;
using namespace sarab::net;
using namespace sarab::net::wire;
using namespace sarab::net::wire::test;

namespace {

// "hello sarab\n" from port 33044 to port 9 over Linux loopback (the UDP part; loopback left
// the checksum to offload, so it is filled in here as a device would).
const u8 datagram[] = {
    0x81, 0x14, 0x00, 0x09, 0x00, 0x14, 0xf4, 0xe6, 0x68, 0x65, 0x6c, 0x6c,
    0x6f, 0x20, 0x73, 0x61, 0x72, 0x61, 0x62, 0x0a,
};

const Ipv4Address loopback = Ipv4Address::loopback();

std::span<const std::byte> text(std::string_view s) { return std::as_bytes(std::span(s)); }

} // namespace

TEST(WireUdp, ParsesADatagram)
{
    auto view = UdpView::parse(bytes_of(datagram));
    ASSERT_TRUE(view);
    EXPECT_EQ(view->source_port(), 33044);
    EXPECT_EQ(view->destination_port(), 9);
    EXPECT_EQ(view->length(), 20);
    EXPECT_EQ(view->checksum(), 0xf4e6);
    EXPECT_BYTES_EQ(view->payload(), text("hello sarab\n"));
    EXPECT_TRUE(view->checksum_valid(loopback, loopback));

    auto repr = UdpRepr::parse(*view, loopback, loopback);
    ASSERT_TRUE(repr);
    EXPECT_EQ(*repr, (UdpRepr { 33044, 9 }));
}

TEST(WireUdp, EmitsADatagram)
{
    std::byte out[20];
    copy_bytes(std::span(out).subspan(8), text("hello sarab\n"));
    UdpRepr { 33044, 9 }.emit(out, loopback, loopback);
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(datagram));
}

TEST(WireUdp, EmitsIntoAFrame)
{
    auto pool = platform::FramePool::create(1).release_value();
    auto frame = pool->allocate(64).value();
    copy_bytes(frame.append(12), text("hello sarab\n"));
    UdpRepr { 33044, 9 }.emit(frame, loopback, loopback);
    EXPECT_BYTES_EQ(std::as_const(frame).bytes(), bytes_of(datagram));
}

TEST(WireUdp, AcceptsNoChecksum)
{
    auto packet = copy_of(bytes_of(datagram));
    packet[6] = std::byte(0), packet[7] = std::byte(0);
    auto repr = UdpRepr::parse(UdpView::parse(packet).value(), loopback, loopback);
    EXPECT_TRUE(repr);
}

TEST(WireUdp, SendsAZeroSumAsAllOnes)
{
    // Choose the last two payload bytes so that the checksum comes out as zero: the emitted
    // field must then say 0xffff, since 0 means "no checksum".
    std::byte out[12] {};
    UdpRepr { 1000, 2000 }.emit(out, loopback, loopback);
    u16 sum = read_be16(out, 6);
    write_be16(out, 10, sum);
    UdpRepr { 1000, 2000 }.emit(out, loopback, loopback);
    EXPECT_EQ(read_be16(out, 6), 0xffff);
    EXPECT_TRUE(UdpRepr::parse(UdpView::parse(out).value(), loopback, loopback));
}

TEST(WireUdp, IgnoresBytesAfterTheLength)
{
    std::vector<std::byte> padded(bytes_of(datagram).begin(), bytes_of(datagram).end());
    padded.resize(26);
    auto view = UdpView::parse(padded);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->payload().size(), 12u);
    EXPECT_TRUE(UdpRepr::parse(*view, loopback, loopback));
}

TEST(WireUdp, RejectsTruncatedDatagrams)
{
    for (usize n = 0; n < 8; ++n)
        EXPECT_EQ(UdpView::parse(bytes_of(datagram).first(n)).error(), WireError::truncated) << n;
    EXPECT_EQ(UdpView::parse(bytes_of(datagram).first(19)).error(), WireError::truncated);
}

TEST(WireUdp, RejectsALengthBelowTheHeader)
{
    auto packet = copy_of(bytes_of(datagram));
    packet[4] = std::byte(0), packet[5] = std::byte(7);
    EXPECT_EQ(UdpView::parse(packet).error(), WireError::bad_length);
}

TEST(WireUdp, RejectsBadChecksums)
{
    auto view = UdpView::parse(bytes_of(datagram)).value();
    // The pseudo-header counts: the same bytes from another address do not add up.
    EXPECT_EQ(UdpRepr::parse(view, Ipv4Address(127, 0, 0, 2), loopback).error(), WireError::bad_checksum);
    auto packet = copy_of(bytes_of(datagram));
    packet[8] = std::byte('j');
    EXPECT_EQ(UdpRepr::parse(UdpView::parse(packet).value(), loopback, loopback).error(), WireError::bad_checksum);
    EXPECT_TRUE(UdpRepr::parse(UdpView::parse(packet).value(), loopback, loopback, ChecksumCheck::skip));
}

TEST(WireUdp, LeavesTheChecksumToADeviceThatCompletesThem)
{
    auto pool = platform::FramePool::create(2).release_value();
    pool->set_device_checksums(true);
    auto frame = pool->allocate(64).value();
    copy_bytes(frame.append(12), text("hello sarab\n"));
    UdpRepr { 33044, 9 }.emit(frame, loopback, loopback);
    ASSERT_TRUE(frame.wants_device_checksum());
    EXPECT_EQ(frame.device_checksum_start(), 0u);
    EXPECT_EQ(frame.device_checksum_field(), 6u);
    complete_device_checksum(frame);
    EXPECT_BYTES_EQ(std::as_const(frame).bytes(), bytes_of(datagram));

    // A sum of zero goes as 0xffff, as from the software path (SendsAZeroSumAsAllOnes).
    std::byte zero[12] {};
    UdpRepr { 1000, 2000 }.emit(zero, loopback, loopback);
    u16 sum = read_be16(zero, 6);
    auto second = pool->allocate(64).value();
    auto payload = second.append(4);
    std::fill(payload.begin(), payload.end(), std::byte(0));
    write_be16(payload, 2, sum);
    UdpRepr { 1000, 2000 }.emit(second, loopback, loopback);
    complete_device_checksum(second);
    EXPECT_EQ(read_be16(second.bytes(), 6), 0xffff);
    EXPECT_TRUE(UdpRepr::parse(UdpView::parse(second.bytes()).value(), loopback, loopback));
}
