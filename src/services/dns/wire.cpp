#include <sarab/services/dns/wire.hpp>

#include <cstring>

namespace sarab::dns {

const char* error_name(ParseError e)
{
    switch (e) {
    case ParseError::truncated: return "message truncated";
    case ParseError::bad_label: return "bad label type";
    case ParseError::bad_pointer: return "bad compression pointer";
    case ParseError::name_too_long: return "name too long";
    case ParseError::bad_rdata: return "malformed RDATA";
    case ParseError::bad_counts: return "section counts do not match the message";
    }
    return "parse error";
}

// ---- Reader ------------------------------------------------------------------------------

ErrorOr<u8, ParseError> Reader::read_u8()
{
    if (remaining() < 1)
        return failure(ParseError::truncated);
    return m_message[m_position++];
}

ErrorOr<u16, ParseError> Reader::read_u16()
{
    if (remaining() < 2)
        return failure(ParseError::truncated);
    u16 v = load_u16(m_message.data() + m_position);
    m_position += 2;
    return v;
}

ErrorOr<u32, ParseError> Reader::read_u32()
{
    if (remaining() < 4)
        return failure(ParseError::truncated);
    u32 v = load_u32(m_message.data() + m_position);
    m_position += 4;
    return v;
}

ErrorOr<std::span<const u8>, ParseError> Reader::read_bytes(usize n)
{
    if (remaining() < n)
        return failure(ParseError::truncated);
    auto out = m_message.subspan(m_position, n);
    m_position += n;
    return out;
}

ErrorOr<Header, ParseError> Reader::read_header()
{
    if (remaining() < header_size)
        return failure(ParseError::truncated);
    const u8* p = m_message.data() + m_position;
    m_position += header_size;
    return Header { load_u16(p), load_u16(p + 2), load_u16(p + 4), load_u16(p + 6), load_u16(p + 8), load_u16(p + 10) };
}

ErrorOr<usize, ParseError> Reader::read_name(std::array<u8, max_name_length>& out)
{
    usize at = m_position;
    // Every pointer must land before `floor`, the lowest offset this name has been read
    // from: the floor falls with each jump, so the walk ends (RFC 9267 2.3's loop trap
    // cannot happen).
    usize floor = m_position;
    usize length = 0;
    bool jumped = false;
    for (;;) {
        if (at >= m_message.size())
            return failure(ParseError::truncated);
        u8 len = m_message[at];
        if ((len & 0xc0) == 0xc0) {
            if (at + 1 >= m_message.size())
                return failure(ParseError::truncated);
            usize target = usize(len & 0x3f) << 8 | m_message[at + 1];
            if (target >= floor)
                return failure(ParseError::bad_pointer);
            if (!jumped) {
                m_position = at + 2;
                jumped = true;
            }
            floor = target;
            at = target;
            continue;
        }
        if (len & 0xc0)
            return failure(ParseError::bad_label);
        if (at + 1 + len > m_message.size())
            return failure(ParseError::truncated);
        if (length + 1 + len > max_name_length)
            return failure(ParseError::name_too_long);
        std::memcpy(out.data() + length, m_message.data() + at, 1 + usize(len));
        length += 1 + usize(len);
        at += 1 + usize(len);
        if (len == 0)
            break;
    }
    if (!jumped)
        m_position = at;
    return length;
}

ErrorOr<Name, ParseError> Reader::read_name()
{
    std::array<u8, max_name_length> buffer;
    usize length = TRY(read_name(buffer));
    auto name = Name::from_wire({ buffer.data(), length });
    if (!name)
        return failure(ParseError::bad_label);
    return name.release_value();
}

ErrorOr<void, ParseError> Reader::skip_name()
{
    usize at = m_position;
    usize length = 0;
    for (;;) {
        if (at >= m_message.size())
            return failure(ParseError::truncated);
        u8 len = m_message[at];
        if ((len & 0xc0) == 0xc0) {
            if (at + 1 >= m_message.size())
                return failure(ParseError::truncated);
            m_position = at + 2;
            return {};
        }
        if (len & 0xc0)
            return failure(ParseError::bad_label);
        length += 1 + usize(len);
        if (length > max_name_length)
            return failure(ParseError::name_too_long);
        at += 1 + usize(len);
        if (len == 0)
            break;
    }
    if (at > m_message.size())
        return failure(ParseError::truncated);
    m_position = at;
    return {};
}

// ---- Writer ------------------------------------------------------------------------------

Writer::Writer(std::span<u8> buffer, usize limit)
    : m_buffer(buffer)
    , m_limit(limit < buffer.size() ? limit : buffer.size())
{
}

bool Writer::put_u8(u8 v)
{
    if (m_size + 1 > m_limit)
        return false;
    m_buffer[m_size++] = v;
    return true;
}

bool Writer::put_u16(u16 v)
{
    if (m_size + 2 > m_limit)
        return false;
    store_u16(m_buffer.data() + m_size, v);
    m_size += 2;
    return true;
}

bool Writer::put_u32(u32 v)
{
    if (m_size + 4 > m_limit)
        return false;
    store_u32(m_buffer.data() + m_size, v);
    m_size += 4;
    return true;
}

bool Writer::put_bytes(std::span<const u8> bytes)
{
    if (m_size + bytes.size() > m_limit)
        return false;
    if (!bytes.empty())
        std::memcpy(m_buffer.data() + m_size, bytes.data(), bytes.size());
    m_size += bytes.size();
    return true;
}

void Writer::patch_u16(usize offset, u16 value)
{
    VERIFY(offset + 2 <= m_size, "patching past what was written");
    store_u16(m_buffer.data() + offset, value);
}

bool Writer::equal_at(usize offset, std::span<const u8> suffix) const
{
    usize at = offset;
    usize i = 0;
    for (;;) {
        u8 len = m_buffer[at];
        if ((len & 0xc0) == 0xc0) {
            at = usize(len & 0x3f) << 8 | m_buffer[at + 1];
            continue;
        }
        if (len != suffix[i])
            return false;
        if (len == 0)
            return true;
        for (usize k = 1; k <= len; ++k) {
            if (ascii_lower(m_buffer[at + k]) != ascii_lower(suffix[i + k]))
                return false;
        }
        at += 1 + usize(len);
        i += 1 + usize(len);
    }
}

bool Writer::put_name(std::span<const u8> wire, bool compress)
{
    // Find the longest suffix already in the message: labels before it are written out,
    // then a pointer to it.
    usize match_at = wire.size() - 1; // the root label: never compressed, one byte
    usize pointer = 0;
    bool found = false;
    if (compress) {
        for (usize at = 0; wire[at] != 0 && !found; at += 1 + wire[at]) {
            auto suffix = wire.subspan(at);
            for (usize k = 0; k < m_name_count; ++k) {
                if (m_buffer[m_names[k]] == suffix[0] && equal_at(m_names[k], suffix)) {
                    match_at = at;
                    pointer = m_names[k];
                    found = true;
                    break;
                }
            }
        }
    }
    usize needed = found ? match_at + 2 : wire.size();
    if (m_size + needed > m_limit)
        return false;
    usize start = m_size;
    std::memcpy(m_buffer.data() + m_size, wire.data(), match_at);
    m_size += match_at;
    if (found) {
        store_u16(m_buffer.data() + m_size, u16(0xc000 | pointer));
        m_size += 2;
    } else {
        m_buffer[m_size++] = 0;
    }
    // Remember where each newly written label starts, while pointers can still reach it.
    for (usize at = 0; at < match_at && m_name_count < max_names; at += 1 + wire[at]) {
        if (start + at >= 0x4000)
            break;
        m_names[m_name_count++] = u16(start + at);
    }
    return true;
}

void write_header(std::span<u8> message, const Header& h)
{
    VERIFY(message.size() >= header_size);
    u8* p = message.data();
    store_u16(p, h.id);
    store_u16(p + 2, h.flags);
    store_u16(p + 4, h.qdcount);
    store_u16(p + 6, h.ancount);
    store_u16(p + 8, h.nscount);
    store_u16(p + 10, h.arcount);
}

// ---- RDATA -------------------------------------------------------------------------------

namespace {

// The layout of RDATA with names: `before` fixed bytes, then `names` names, then `after`
// fixed bytes (SOA has its 20 bytes after, MX and SRV their numbers before).
struct NameLayout {
    u8 before;
    u8 names;
    u8 after;
};

bool name_layout(u16 type, NameLayout& layout)
{
    switch (RrType(type)) {
    case RrType::ns:
    case RrType::cname:
    case RrType::ptr: layout = { 0, 1, 0 }; return true;
    case RrType::soa: layout = { 0, 2, 20 }; return true;
    case RrType::mx: layout = { 2, 1, 0 }; return true;
    case RrType::srv: layout = { 6, 1, 0 }; return true;
    default: return false;
    }
}

usize wire_name_length(std::span<const u8> data)
{
    usize at = 0;
    while (at < data.size() && data[at] != 0)
        at += 1 + usize(data[at]);
    return at + 1;
}

} // namespace

bool rdata_names_compressible(u16 type)
{
    switch (RrType(type)) {
    case RrType::ns:
    case RrType::cname:
    case RrType::ptr:
    case RrType::soa:
    case RrType::mx: return true;
    default: return false;
    }
}

bool write_rdata(Writer& w, u16 type, std::span<const u8> rdata)
{
    Writer::Mark start = w.mark();
    usize length_at = w.size();
    if (!w.put_u16(0))
        return false;
    NameLayout layout;
    if (!rdata_names_compressible(type) || !name_layout(type, layout)) {
        if (!w.put_bytes(rdata)) {
            w.rollback(start);
            return false;
        }
        w.patch_u16(length_at, u16(rdata.size()));
        return true;
    }
    usize at = 0;
    bool ok = w.put_bytes(rdata.subspan(0, layout.before));
    at += layout.before;
    for (u8 i = 0; ok && i < layout.names; ++i) {
        usize len = wire_name_length(rdata.subspan(at));
        ok = w.put_name(rdata.subspan(at, len), true);
        at += len;
    }
    ok = ok && w.put_bytes(rdata.subspan(at));
    if (!ok) {
        w.rollback(start);
        return false;
    }
    w.patch_u16(length_at, u16(w.size() - length_at - 2));
    return true;
}

ErrorOr<usize, ParseError> read_rdata(Reader& r, u16 type, u16 length, std::span<u8> out)
{
    usize start = r.position();
    if (r.remaining() < length)
        return failure(ParseError::truncated);
    NameLayout layout;
    if (!name_layout(type, layout)) {
        if (out.size() < length)
            return failure(ParseError::bad_rdata);
        auto bytes = TRY(r.read_bytes(length));
        if (length)
            std::memcpy(out.data(), bytes.data(), length);
        return usize(length);
    }
    // Names inside RDATA must stay inside RDATA: read from a reader that ends there, but
    // whose pointers may reach back into the whole message.
    Reader inner(r.message().first(start + length), start);
    usize written = 0;
    auto copy = [&](usize n) -> ErrorOr<void, ParseError> {
        auto bytes = TRY(inner.read_bytes(n));
        if (written + n > out.size())
            return failure(ParseError::bad_rdata);
        std::memcpy(out.data() + written, bytes.data(), n);
        written += n;
        return {};
    };
    auto fixed = copy(layout.before);
    if (!fixed)
        return failure(ParseError::bad_rdata);
    for (u8 i = 0; i < layout.names; ++i) {
        std::array<u8, max_name_length> name;
        auto len = inner.read_name(name);
        if (!len)
            return failure(len.error() == ParseError::truncated ? ParseError::bad_rdata : len.error());
        if (written + *len > out.size())
            return failure(ParseError::bad_rdata);
        std::memcpy(out.data() + written, name.data(), *len);
        written += *len;
    }
    if (layout.after) {
        auto tail = copy(layout.after);
        if (!tail)
            return failure(ParseError::bad_rdata);
    }
    if (inner.position() != start + length)
        return failure(ParseError::bad_rdata);
    (void)r.read_bytes(length);
    return written;
}

} // namespace sarab::dns
