#include <sarab/net/wire/ipv4.hpp>
#include <sarab/net/wire/tcp.hpp>

#include "wire_test_util.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

using namespace sarab;
using namespace sarab::net;
using namespace sarab::net::wire;
using namespace sarab::net::wire::test;

namespace {

// A connection over Linux loopback (6.x kernel), the TCP parts: the SYN with MSS 65495,
// SACK-permitted, timestamps and window scale 10, the SYN-ACK, and a segment carrying
// "ping\n" with NOP, NOP, timestamps. Loopback left the checksums to offload; they are
// filled in here as a device would.
const u8 syn[] = {
    0xb5, 0x94, 0x1e, 0x61, 0x12, 0xa6, 0xad, 0x3c, 0x00, 0x00, 0x00, 0x00,
    0xa0, 0x02, 0xff, 0xd7, 0xc6, 0xd0, 0x00, 0x00, 0x02, 0x04, 0xff, 0xd7,
    0x04, 0x02, 0x08, 0x0a, 0xe7, 0x24, 0x0e, 0x31, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x03, 0x03, 0x0a,
};
const u8 syn_ack[] = {
    0x1e, 0x61, 0xb5, 0x94, 0x54, 0xf7, 0x00, 0x02, 0x12, 0xa6, 0xad, 0x3d,
    0xa0, 0x12, 0xff, 0xcb, 0xaf, 0x86, 0x00, 0x00, 0x02, 0x04, 0xff, 0xd7,
    0x04, 0x02, 0x08, 0x0a, 0xa9, 0x92, 0x18, 0xb9, 0xe7, 0x24, 0x0e, 0x31,
    0x01, 0x03, 0x03, 0x0a,
};
const u8 data_segment[] = {
    0xb5, 0x94, 0x1e, 0x61, 0x12, 0xa6, 0xad, 0x3d, 0x54, 0xf7, 0x00, 0x03,
    0x80, 0x18, 0x00, 0x40, 0xef, 0x26, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a,
    0xe7, 0x24, 0x0e, 0x32, 0xa9, 0x92, 0x18, 0xb9, 0x70, 0x69, 0x6e, 0x67,
    0x0a,
};

// Linux's RST for a SYN to a closed port (no options).
const u8 reset[] = {
    0x00, 0x09, 0x97, 0xf4, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x56, 0xae, 0x9a,
    0x50, 0x14, 0x00, 0x00, 0x40, 0xe0, 0x00, 0x00,
};

// A duplicate ACK from 10.0.2.15:80 to 10.0.2.2:40000 with timestamps and two SACK blocks.
const u8 sack_ack[] = {
    0x00, 0x50, 0x9c, 0x40, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
    0xd0, 0x10, 0x01, 0xf6, 0x39, 0x40, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a,
    0x00, 0x01, 0xe2, 0x40, 0x0a, 0x0b, 0x0c, 0x0d, 0x01, 0x01, 0x05, 0x12,
    0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x07, 0xd0, 0x00, 0x00, 0x0b, 0xb8,
    0x00, 0x00, 0x0f, 0xa0,
};

const Ipv4Address loopback = Ipv4Address::loopback();
const Ipv4Address guest(10, 0, 2, 15);
const Ipv4Address gateway(10, 0, 2, 2);

std::span<const std::byte> text(std::string_view s) { return std::as_bytes(std::span(s)); }

TcpRepr syn_repr()
{
    TcpRepr repr;
    repr.source_port = 46484;
    repr.destination_port = 7777;
    repr.sequence = 0x12a6ad3c;
    repr.flags = TcpFlags { TcpFlags::syn };
    repr.window = 65495;
    repr.mss = 65495;
    repr.sack_permitted = true;
    repr.timestamps = TcpTimestamps { 0xe7240e31, 0 };
    repr.window_scale = 10;
    return repr;
}

// A segment with the given header and options, and a correct checksum from guest to gateway.
std::vector<std::byte> segment_with_options(std::vector<u8> options)
{
    while (options.size() % 4 != 0)
        options.push_back(0);
    std::vector<std::byte> bytes(20 + options.size());
    TcpRepr {}.emit(std::span(bytes).first(20), guest, gateway);
    bytes[12] = std::byte((20 + options.size()) / 4 << 4);
    for (usize i = 0; i < options.size(); ++i)
        bytes[20 + i] = std::byte(options[i]);
    write_be16(bytes, 16, 0);
    Checksum sum;
    sum.add_pseudo_header(guest, gateway, 6, u16(bytes.size()));
    sum.add(bytes);
    write_be16(bytes, 16, sum.value());
    return bytes;
}

WireResult<TcpRepr> parse(std::span<const std::byte> bytes, Ipv4Address source = guest, Ipv4Address destination = gateway)
{
    auto view = TRY(TcpView::parse(bytes));
    return TcpRepr::parse(view, source, destination);
}

} // namespace

TEST(WireTcp, ParsesALinuxSyn)
{
    auto view = TcpView::parse(bytes_of(syn));
    ASSERT_TRUE(view);
    EXPECT_EQ(view->source_port(), 46484);
    EXPECT_EQ(view->destination_port(), 7777);
    EXPECT_EQ(view->sequence(), 0x12a6ad3cu);
    EXPECT_EQ(view->acknowledgment(), 0u);
    EXPECT_EQ(view->header_len(), 40u);
    EXPECT_TRUE(view->flags().has(TcpFlags::syn));
    EXPECT_FALSE(view->flags().has(TcpFlags::ack));
    EXPECT_EQ(view->window(), 65495);
    EXPECT_EQ(view->options().size(), 20u);
    EXPECT_TRUE(view->payload().empty());
    EXPECT_TRUE(view->checksum_valid(loopback, loopback));

    auto repr = TcpRepr::parse(*view, loopback, loopback);
    ASSERT_TRUE(repr);
    EXPECT_EQ(repr->mss, 65495);
    EXPECT_TRUE(repr->sack_permitted);
    EXPECT_EQ(repr->timestamps, (TcpTimestamps { 0xe7240e31, 0 }));
    EXPECT_EQ(repr->window_scale, 10);
    EXPECT_EQ(repr->sack_count, 0);
    EXPECT_EQ(*repr, syn_repr());
}

TEST(WireTcp, EmitsASynAsLinuxDoes)
{
    auto repr = syn_repr();
    ASSERT_EQ(repr.buffer_len(), 40u);
    std::byte out[40];
    repr.emit(out, loopback, loopback);
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(syn));
}

TEST(WireTcp, ParsesAndEmitsASynAck)
{
    auto repr = parse(bytes_of(syn_ack), loopback, loopback);
    ASSERT_TRUE(repr);
    EXPECT_EQ(repr->flags, (TcpFlags { TcpFlags::syn | TcpFlags::ack }));
    EXPECT_EQ(repr->acknowledgment, 0x12a6ad3du);
    EXPECT_EQ(repr->timestamps, (TcpTimestamps { 0xa99218b9, 0xe7240e31 }));
    std::byte out[40];
    repr->emit(out, loopback, loopback);
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(syn_ack));
}

TEST(WireTcp, ParsesAndEmitsASegmentWithData)
{
    auto view = TcpView::parse(bytes_of(data_segment));
    ASSERT_TRUE(view);
    EXPECT_EQ(view->header_len(), 32u);
    EXPECT_BYTES_EQ(view->payload(), text("ping\n"));
    auto repr = TcpRepr::parse(*view, loopback, loopback);
    ASSERT_TRUE(repr);
    EXPECT_EQ(repr->flags, (TcpFlags { TcpFlags::psh | TcpFlags::ack }));
    EXPECT_FALSE(repr->mss);
    EXPECT_FALSE(repr->sack_permitted);
    EXPECT_EQ(repr->window, 64);
    EXPECT_EQ(repr->buffer_len(), 32u);

    // Into a frame, in front of the payload already there.
    auto pool = platform::FramePool::create(1).release_value();
    auto frame = pool->allocate(64).value();
    copy_bytes(frame.append(5), text("ping\n"));
    repr->emit(frame, loopback, loopback);
    EXPECT_BYTES_EQ(std::as_const(frame).bytes(), bytes_of(data_segment));
}

TEST(WireTcp, ParsesAndEmitsAReset)
{
    auto repr = parse(bytes_of(reset), loopback, loopback);
    ASSERT_TRUE(repr);
    EXPECT_EQ(repr->flags, (TcpFlags { TcpFlags::rst | TcpFlags::ack }));
    EXPECT_EQ(repr->window, 0);
    EXPECT_EQ(repr->buffer_len(), 20u);
    std::byte out[20];
    repr->emit(out, loopback, loopback);
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(reset));
}

TEST(WireTcp, ParsesAndEmitsSackBlocks)
{
    auto repr = parse(bytes_of(sack_ack));
    ASSERT_TRUE(repr);
    ASSERT_EQ(repr->sack().size(), 2u);
    EXPECT_EQ(repr->sack()[0], (SackBlock { 1000, 2000 }));
    EXPECT_EQ(repr->sack()[1], (SackBlock { 3000, 4000 }));
    EXPECT_EQ(repr->timestamps, (TcpTimestamps { 123456, 0x0a0b0c0d }));
    std::byte out[52];
    repr->emit(out, guest, gateway);
    EXPECT_BYTES_EQ(std::span<const std::byte>(out), bytes_of(sack_ack));
}

TEST(WireTcp, PacksOptionsThatDoNotFitAligned)
{
    // Timestamps, window scale and three SACK blocks take 44 bytes with Linux's padding but
    // 39 packed; parse accepts them, so emit must be able to write them.
    auto bytes = segment_with_options({ 3, 3, 7, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 26, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
        3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6 });
    auto repr = parse(bytes);
    ASSERT_TRUE(repr);
    EXPECT_EQ(repr->sack_count, 3);
    EXPECT_EQ(repr->window_scale, 7);
    EXPECT_EQ(repr->options_len(), 40u);
    std::vector<std::byte> out(repr->buffer_len());
    repr->emit(out, guest, gateway);
    EXPECT_EQ(parse(out).value(), *repr);
}

TEST(WireTcp, SkipsUnknownOptions)
{
    // An experimental option (RFC 6994, kind 254) between NOPs, then MSS, then end of list
    // and bytes after it that are not read.
    auto bytes = segment_with_options({ 1, 254, 6, 0xf9, 0x89, 0xaa, 0xbb, 1, 2, 4, 5, 0xb4, 0, 99, 99 });
    auto repr = parse(bytes);
    ASSERT_TRUE(repr);
    EXPECT_EQ(repr->mss, 1460);
    auto view = TcpView::parse(bytes).value();
    auto reader = view.option_reader();
    auto first = reader.next().value();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->kind, 254);
    EXPECT_EQ(first->value.size(), 4u);
    auto second = reader.next().value();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->kind, 2);
    EXPECT_FALSE(reader.next().value());
}

TEST(WireTcp, RejectsMalformedOptionFraming)
{
    for (const auto& options : std::vector<std::vector<u8>> {
             { 2, 0, 5, 0xb4 },    // a length of zero
             { 1, 1, 1, 254 },     // a kind with no length byte
             { 254, 1, 0, 0 },     // a length of one
             { 254, 9, 0, 0 },     // longer than the option space
             { 2, 4, 5, 0xb4, 8, 10, 0, 0 } }) {
        auto bytes = segment_with_options(options);
        EXPECT_EQ(TcpView::parse(bytes).error(), WireError::bad_option) << hex(std::as_bytes(std::span(options)));
    }
}

TEST(WireTcp, RejectsKnownOptionsOfTheWrongLength)
{
    for (const auto& options : std::vector<std::vector<u8>> {
             { 2, 3, 5 },                          // MSS
             { 3, 4, 7, 0 },                       // window scale
             { 4, 3, 0 },                          // SACK-permitted
             { 8, 9, 0, 0, 0, 0, 0, 0, 0 },        // timestamps
             { 5, 2 },                             // SACK without a block
             { 5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, // SACK with part of a block
             { 5, 34 + 8, 0 } }) {                 // five SACK blocks: past the option space
        auto padded = options;
        padded.resize(std::min<usize>(tcp_max_options_len, std::max<usize>(padded.size(), padded[1])), 0);
        auto bytes = segment_with_options(padded);
        auto view = TcpView::parse(bytes);
        if (!view) {
            EXPECT_EQ(view.error(), WireError::bad_option);
            continue;
        }
        EXPECT_EQ(TcpRepr::parse(*view, guest, gateway).error(), WireError::bad_option)
            << hex(std::as_bytes(std::span(options)));
    }
}

TEST(WireTcp, RejectsTruncatedSegments)
{
    for (usize n = 0; n < 20; ++n)
        EXPECT_EQ(TcpView::parse(bytes_of(syn).first(n)).error(), WireError::truncated) << n;
    // The data offset says 40 bytes of header.
    EXPECT_EQ(TcpView::parse(bytes_of(syn).first(39)).error(), WireError::truncated);
}

TEST(WireTcp, RejectsADataOffsetBelowFive)
{
    auto bytes = copy_of(bytes_of(reset));
    bytes[12] = std::byte(0x40);
    EXPECT_EQ(TcpView::parse(bytes).error(), WireError::bad_header_length);
}

TEST(WireTcp, RejectsBadChecksums)
{
    auto view = TcpView::parse(bytes_of(syn)).value();
    EXPECT_EQ(TcpRepr::parse(view, guest, loopback).error(), WireError::bad_checksum);
    auto bytes = copy_of(bytes_of(data_segment));
    bytes[32] = std::byte('P');
    EXPECT_EQ(TcpRepr::parse(TcpView::parse(bytes).value(), loopback, loopback).error(), WireError::bad_checksum);
    EXPECT_TRUE(TcpRepr::parse(TcpView::parse(bytes).value(), loopback, loopback, ChecksumCheck::skip));
}

TEST(WireTcp, RejectsASegmentLongerThanAnyDatagram)
{
    std::vector<std::byte> huge(0x10000);
    copy_bytes(huge, bytes_of(reset));
    EXPECT_EQ(TcpView::parse(huge).error(), WireError::bad_length);
}

TEST(WireTcpDeathTest, OptionsThatCannotFitAreABug)
{
    auto repr = syn_repr();
    repr.sack_count = 4; // with MSS, window scale, SACK-permitted and timestamps: 53 bytes
    EXPECT_DEATH((void)repr.buffer_len(), "do not fit");
}

TEST(WireTcp, LeavesTheChecksumToADeviceThatCompletesThem)
{
    auto repr = TcpRepr::parse(TcpView::parse(bytes_of(data_segment)).value(), loopback, loopback).value();
    auto pool = platform::FramePool::create(1).release_value();
    pool->set_device_checksums(true);
    auto frame = pool->allocate(128).value();
    copy_bytes(frame.append(5), text("ping\n"));
    repr.emit(frame, loopback, loopback);

    // The field holds the pseudo-header's sum, and the frame says where the device starts.
    ASSERT_TRUE(frame.wants_device_checksum());
    EXPECT_EQ(frame.device_checksum_start(), 0u);
    EXPECT_EQ(frame.device_checksum_field(), 16u);
    Checksum pseudo;
    pseudo.add_pseudo_header(loopback, loopback, u8(IpProtocol::tcp), u16(sizeof data_segment));
    EXPECT_EQ(read_be16(frame.bytes(), 16), pseudo.partial());
    // Headers in front (IPv4, Ethernet) move the start as the driver sees it.
    frame.prepend(34);
    EXPECT_EQ(frame.device_checksum_start(), 34u);
    frame.trim_front(34);

    // Completed as a device would, it is the segment Linux sent.
    complete_device_checksum(frame);
    EXPECT_FALSE(frame.wants_device_checksum());
    EXPECT_BYTES_EQ(std::as_const(frame).bytes(), bytes_of(data_segment));
}
