#include <sarab/net/wire/ipv4.hpp>
#include <sarab/net/wire/tcp.hpp>

#include "writer.hpp"

#include <cstddef>

namespace sarab::net::wire {

WireResult<std::optional<TcpOption>> TcpOptionReader::next()
{
    while (!m_rest.empty()) {
        u8 kind = u8(m_rest[0]);
        if (kind == u8(TcpOptionKind::end)) {
            m_rest = {};
            break;
        }
        if (kind == u8(TcpOptionKind::nop)) {
            m_rest = m_rest.subspan(1);
            continue;
        }
        if (m_rest.size() < 2)
            return failure(WireError::bad_option);
        usize length = u8(m_rest[1]);
        if (length < 2 || length > m_rest.size())
            return failure(WireError::bad_option);
        TcpOption option { kind, m_rest.subspan(2, length - 2) };
        m_rest = m_rest.subspan(length);
        return std::optional<TcpOption>(option);
    }
    return std::optional<TcpOption>();
}

WireResult<TcpView> TcpView::parse(std::span<const std::byte> bytes)
{
    if (bytes.size() < tcp_header_len)
        return failure(WireError::truncated);
    // No IPv4 datagram carries more, and the pseudo-header has 16 bits for the length.
    if (bytes.size() > 0xffff)
        return failure(WireError::bad_length);
    TcpView view(bytes);
    if (view.header_len() < tcp_header_len)
        return failure(WireError::bad_header_length);
    if (view.header_len() > bytes.size())
        return failure(WireError::truncated);
    auto reader = view.option_reader();
    while (TRY(reader.next()))
        ;
    return view;
}

bool TcpView::checksum_valid(Ipv4Address source, Ipv4Address destination) const
{
    Checksum sum;
    sum.add_pseudo_header(source, destination, u8(IpProtocol::tcp), u16(m_bytes.size()));
    sum.add(m_bytes);
    return sum.value() == 0;
}

WireResult<TcpRepr> TcpRepr::parse(const TcpView& view, Ipv4Address source, Ipv4Address destination, ChecksumCheck check)
{
    if (check == ChecksumCheck::verify && !view.checksum_valid(source, destination))
        return failure(WireError::bad_checksum);
    TcpRepr repr;
    repr.source_port = view.source_port();
    repr.destination_port = view.destination_port();
    repr.sequence = view.sequence();
    repr.acknowledgment = view.acknowledgment();
    repr.flags = view.flags();
    repr.window = view.window();
    repr.urgent_pointer = view.urgent_pointer();

    auto reader = view.option_reader();
    while (auto option = TRY(reader.next())) {
        auto value = option->value;
        switch (option->kind) {
        case u8(TcpOptionKind::mss):
            if (value.size() != 2)
                return failure(WireError::bad_option);
            repr.mss = read_be16(value, 0);
            break;
        case u8(TcpOptionKind::window_scale):
            if (value.size() != 1)
                return failure(WireError::bad_option);
            repr.window_scale = read_u8(value, 0);
            break;
        case u8(TcpOptionKind::sack_permitted):
            if (!value.empty())
                return failure(WireError::bad_option);
            repr.sack_permitted = true;
            break;
        case u8(TcpOptionKind::sack):
            if (value.empty() || value.size() % 8 != 0 || value.size() / 8 > tcp_max_sack_blocks)
                return failure(WireError::bad_option);
            repr.sack_count = u8(value.size() / 8);
            for (usize i = 0; i < repr.sack_count; ++i)
                repr.sack_blocks[i] = SackBlock { read_be32(value, i * 8), read_be32(value, i * 8 + 4) };
            break;
        case u8(TcpOptionKind::timestamps):
            if (value.size() != 8)
                return failure(WireError::bad_option);
            repr.timestamps = TcpTimestamps { read_be32(value, 0), read_be32(value, 4) };
            break;
        default:
            break; // unknown: skipped
        }
    }
    return repr;
}

namespace {

// The two layouts of an option list (see the header), written or measured by `out`.
void write_options(const TcpRepr& repr, bool aligned, detail::ByteWriter& out)
{
    auto nop = [&] { out.put8(u8(TcpOptionKind::nop)); };
    auto kind_len = [&](TcpOptionKind kind, usize len) {
        out.put8(u8(kind));
        out.put8(u8(len));
    };
    auto mss = [&] {
        kind_len(TcpOptionKind::mss, 4);
        out.put16(*repr.mss);
    };
    auto window_scale = [&] {
        kind_len(TcpOptionKind::window_scale, 3);
        out.put8(*repr.window_scale);
    };
    auto timestamps = [&] {
        kind_len(TcpOptionKind::timestamps, 10);
        out.put32(repr.timestamps->value);
        out.put32(repr.timestamps->echo_reply);
    };
    auto sack = [&] {
        kind_len(TcpOptionKind::sack, 2 + 8 * usize(repr.sack_count));
        for (const auto& block : repr.sack()) {
            out.put32(block.left);
            out.put32(block.right);
        }
    };

    if (repr.mss)
        mss();
    if (aligned) {
        // SACK-permitted fills the two bytes before the timestamps that are NOPs otherwise.
        if (repr.timestamps) {
            if (repr.sack_permitted) {
                kind_len(TcpOptionKind::sack_permitted, 2);
            } else {
                nop();
                nop();
            }
            timestamps();
        } else if (repr.sack_permitted) {
            nop();
            nop();
            kind_len(TcpOptionKind::sack_permitted, 2);
        }
        if (repr.window_scale) {
            nop();
            window_scale();
        }
        if (repr.sack_count > 0) {
            nop();
            nop();
            sack();
        }
    } else {
        if (repr.window_scale)
            window_scale();
        if (repr.sack_permitted)
            kind_len(TcpOptionKind::sack_permitted, 2);
        if (repr.timestamps)
            timestamps();
        if (repr.sack_count > 0)
            sack();
    }
    while (out.size() % 4 != 0)
        out.put8(u8(TcpOptionKind::end));
}

usize measure_options(const TcpRepr& repr, bool aligned)
{
    detail::ByteWriter measure;
    write_options(repr, aligned, measure);
    return measure.size();
}

bool use_aligned_layout(const TcpRepr& repr) { return measure_options(repr, true) <= tcp_max_options_len; }

} // namespace

usize TcpRepr::options_len() const
{
    VERIFY(sack_count <= tcp_max_sack_blocks);
    usize len = measure_options(*this, use_aligned_layout(*this));
    VERIFY(len <= tcp_max_options_len, "TCP options do not fit in 40 bytes");
    return len;
}

void TcpRepr::emit(std::span<std::byte> segment, Ipv4Address source, Ipv4Address destination) const
{
    emit_header(segment);
    write_transport_checksum(segment, source, destination, u8(IpProtocol::tcp), offsetof(TcpHeader, checksum), false);
}

void TcpRepr::emit(platform::Frame& frame, Ipv4Address source, Ipv4Address destination) const
{
    frame.prepend(buffer_len());
    emit_header(frame.bytes());
    fill_transport_checksum(frame, source, destination, u8(IpProtocol::tcp), offsetof(TcpHeader, checksum), false);
}

void TcpRepr::emit_header(std::span<std::byte> segment) const
{
    usize header_len = buffer_len();
    VERIFY(segment.size() >= header_len && segment.size() <= 0xffff, "TCP segment size out of range");
    TcpHeader header;
    header.source_port = source_port;
    header.destination_port = destination_port;
    header.sequence = sequence;
    header.acknowledgment = acknowledgment;
    header.data_offset = u8(header_len / 4 << 4);
    header.flags = flags.bits;
    header.window = window;
    header.checksum = 0;
    header.urgent_pointer = urgent_pointer;
    store_header(segment, header);
    detail::ByteWriter options(segment.subspan(tcp_header_len, header_len - tcp_header_len));
    write_options(*this, use_aligned_layout(*this), options);
}

bool TcpRepr::operator==(const TcpRepr& other) const
{
    if (sack_count != other.sack_count)
        return false;
    for (usize i = 0; i < sack_count; ++i)
        if (sack_blocks[i] != other.sack_blocks[i])
            return false;
    return source_port == other.source_port && destination_port == other.destination_port && sequence == other.sequence
        && acknowledgment == other.acknowledgment && flags == other.flags && window == other.window
        && urgent_pointer == other.urgent_pointer && mss == other.mss && window_scale == other.window_scale
        && sack_permitted == other.sack_permitted && timestamps == other.timestamps;
}

} // namespace sarab::net::wire
