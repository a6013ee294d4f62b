// TCP segments (RFC 9293) and their options: MSS, window scale and timestamps (RFC 7323),
// SACK-permitted and SACK blocks (RFC 2018), NOP and end of list.
//
// TcpView::parse checks the 20-byte header, a data offset of at least 5 words that fits in
// the bytes, and the framing of the option list: every option but NOP and EOL has a length
// of at least 2 that stays inside the header. After that, TcpOptionReader walks the options
// without reading past them. TcpRepr::parse verifies the checksum over the IPv4 pseudo-
// header (hence the addresses) and the length of each option it knows, rejecting a known
// option of the wrong length as bad_option (RFC 9293 MUST-7: an illegal length is not to be
// guessed around); unknown options are skipped (MUST-64), and when an option appears twice
// the last one counts. Sequence numbers are plain u32 here; the TCP layer gives them their
// modular arithmetic.
//
// The repr is header and options; the payload is not part of it. emit writes the options
// padded the way Linux does (each aligned to 4 bytes with NOPs) when that fits in the 40
// bytes there are, and packed one after another otherwise, so that every repr parse returns
// can be emitted again. A repr whose options fit neither way is a bug.
#pragma once

#include <sarab/net/address.hpp>
#include <sarab/net/wire/byte_order.hpp>
#include <sarab/net/wire/checksum.hpp>
#include <sarab/net/wire/error.hpp>
#include <sarab/platform/frame.hpp>

#include <array>
#include <optional>
#include <span>

namespace sarab::net::wire {

struct TcpHeader {
    NetworkOrdered<u16> source_port;
    NetworkOrdered<u16> destination_port;
    NetworkOrdered<u32> sequence;
    NetworkOrdered<u32> acknowledgment;
    u8 data_offset; // header length in 32-bit words (4 bits), reserved (4)
    u8 flags;
    NetworkOrdered<u16> window;
    NetworkOrdered<u16> checksum;
    NetworkOrdered<u16> urgent_pointer;
};
static_assert(sizeof(TcpHeader) == 20);

inline constexpr usize tcp_header_len = sizeof(TcpHeader);
inline constexpr usize tcp_max_header_len = 60;
inline constexpr usize tcp_max_options_len = tcp_max_header_len - tcp_header_len;
inline constexpr usize tcp_max_sack_blocks = 4; // 2 + 4 * 8 = 34 of the 40 option bytes

struct TcpFlags {
    static constexpr u8 fin = 0x01;
    static constexpr u8 syn = 0x02;
    static constexpr u8 rst = 0x04;
    static constexpr u8 psh = 0x08;
    static constexpr u8 ack = 0x10;
    static constexpr u8 urg = 0x20;
    static constexpr u8 ece = 0x40;
    static constexpr u8 cwr = 0x80;

    u8 bits = 0;

    constexpr bool has(u8 flag) const { return (bits & flag) == flag; }
    constexpr bool operator==(const TcpFlags&) const = default;
};

enum class TcpOptionKind : u8 {
    end = 0,
    nop = 1,
    mss = 2,
    window_scale = 3,
    sack_permitted = 4,
    sack = 5,
    timestamps = 8,
};

// An option as it is on the wire: its kind and the bytes after the kind and length.
struct TcpOption {
    u8 kind;
    std::span<const std::byte> value;
};

// Walks an option list. NOPs are skipped; an end-of-list option or the end of the bytes ends
// it. Framing errors are bad_option (after TcpView::parse there are none).
class TcpOptionReader {
public:
    explicit TcpOptionReader(std::span<const std::byte> options)
        : m_rest(options)
    {
    }
    WireResult<std::optional<TcpOption>> next();

private:
    std::span<const std::byte> m_rest;
};

class TcpView {
public:
    static WireResult<TcpView> parse(std::span<const std::byte> bytes);

    u16 source_port() const { return header().source_port.get(); }
    u16 destination_port() const { return header().destination_port.get(); }
    u32 sequence() const { return header().sequence.get(); }
    u32 acknowledgment() const { return header().acknowledgment.get(); }
    usize header_len() const { return usize(header().data_offset >> 4) * 4; }
    TcpFlags flags() const { return TcpFlags { header().flags }; }
    u16 window() const { return header().window.get(); }
    u16 checksum() const { return header().checksum.get(); }
    u16 urgent_pointer() const { return header().urgent_pointer.get(); }
    std::span<const std::byte> options() const { return m_bytes.subspan(tcp_header_len, header_len() - tcp_header_len); }
    TcpOptionReader option_reader() const { return TcpOptionReader(options()); }
    std::span<const std::byte> payload() const { return m_bytes.subspan(header_len()); }
    std::span<const std::byte> bytes() const { return m_bytes; }
    bool checksum_valid(Ipv4Address source, Ipv4Address destination) const;

private:
    explicit TcpView(std::span<const std::byte> bytes)
        : m_bytes(bytes)
    {
    }
    TcpHeader header() const { return load_header<TcpHeader>(m_bytes); }

    std::span<const std::byte> m_bytes;
};

struct SackBlock {
    u32 left = 0;  // first sequence number of the block
    u32 right = 0; // the one after its last
    constexpr bool operator==(const SackBlock&) const = default;
};

struct TcpTimestamps {
    u32 value = 0;
    u32 echo_reply = 0;
    constexpr bool operator==(const TcpTimestamps&) const = default;
};

struct TcpRepr {
    u16 source_port = 0;
    u16 destination_port = 0;
    u32 sequence = 0;
    u32 acknowledgment = 0;
    TcpFlags flags;
    u16 window = 0; // as on the wire, before scaling
    u16 urgent_pointer = 0;
    std::optional<u16> mss;
    std::optional<u8> window_scale; // the shift as sent; RFC 7323 caps its use at 14
    bool sack_permitted = false;
    std::optional<TcpTimestamps> timestamps;
    std::array<SackBlock, tcp_max_sack_blocks> sack_blocks {};
    u8 sack_count = 0;

    static WireResult<TcpRepr> parse(const TcpView&, Ipv4Address source, Ipv4Address destination,
        ChecksumCheck = ChecksumCheck::verify);

    std::span<const SackBlock> sack() const { return std::span(sack_blocks).first(sack_count); }
    usize options_len() const;
    usize buffer_len() const { return tcp_header_len + options_len(); }
    // `segment` is the header's room (buffer_len() bytes) followed by the payload, all of it.
    void emit(std::span<std::byte> segment, Ipv4Address source, Ipv4Address destination) const;
    // Prepends header and options to the payload in the frame; the checksum is left to the
    // device when the frame's pool says it completes them.
    void emit(platform::Frame& frame, Ipv4Address source, Ipv4Address destination) const;

    bool operator==(const TcpRepr&) const;

private:
    void emit_header(std::span<std::byte> segment) const; // checksum 0
};

} // namespace sarab::net::wire
