// DNS service: the wire format (RFC 1035 4, RFC 6891 for EDNS(0)).
//
// Reader is a bounds-checked cursor over a received message: every read can fail with a
// ParseError, none can go past the end. Compressed names are followed only backwards, and
// each pointer must land before the start of everything read so far for that name, so a
// hostile message can neither loop nor make a name longer than 255 bytes. Writer builds a
// message into a caller's buffer under a size limit (512 bytes, the client's EDNS size, or
// 65535 on TCP): a write that would pass the limit fails and leaves the buffer as it was, and
// mark()/rollback() drop a partly written RRset, which is how truncation works. Names are
// compressed against every name already written (RFC 1035 4.1.4), case-insensitively.
// Neither allocates.
#pragma once

#include <sarab/base/error.hpp>
#include <sarab/services/dns/name.hpp>

#include <array>
#include <span>

namespace sarab::dns {

// Types are numbers on the wire; these are the ones the server knows by name. Any other
// value is carried as an unknown type (RFC 3597).
enum class RrType : u16 {
    a = 1,
    ns = 2,
    cname = 5,
    soa = 6,
    ptr = 12,
    hinfo = 13,
    mx = 15,
    txt = 16,
    aaaa = 28,
    srv = 33,
    opt = 41,
    ds = 43,
    rrsig = 46,
    nsec = 47,
    dnskey = 48,
    nsec3 = 50,
    ixfr = 251,
    axfr = 252,
    mailb = 253,
    maila = 254,
    any = 255,
    caa = 257,
};

enum class RrClass : u16 { in = 1, ch = 3, hs = 4, none = 254, any = 255 };

enum class Opcode : u8 { query = 0, iquery = 1, status = 2, notify = 4, update = 5 };

// Rcodes above 15 are extended (RFC 6891): the upper 8 bits travel in the OPT record.
enum class Rcode : u16 {
    noerror = 0,
    formerr = 1,
    servfail = 2,
    nxdomain = 3,
    notimp = 4,
    refused = 5,
    badvers = 16,
};

namespace flag {
inline constexpr u16 qr = 0x8000;
inline constexpr u16 aa = 0x0400;
inline constexpr u16 tc = 0x0200;
inline constexpr u16 rd = 0x0100;
inline constexpr u16 ra = 0x0080;
inline constexpr u16 ad = 0x0020;
inline constexpr u16 cd = 0x0010;
inline constexpr u16 opcode_mask = 0x7800;
inline constexpr u16 rcode_mask = 0x000f;
} // namespace flag

inline constexpr usize header_size = 12;
inline constexpr usize max_udp_plain = 512;   // without EDNS (RFC 1035 4.2.1)
inline constexpr usize max_message = 65535;   // TCP's two-byte length
inline constexpr u16 edns_do_bit = 0x8000;    // in the OPT TTL's lower half

struct Header {
    u16 id = 0;
    u16 flags = 0;
    u16 qdcount = 0;
    u16 ancount = 0;
    u16 nscount = 0;
    u16 arcount = 0;

    Opcode opcode() const { return Opcode((flags & flag::opcode_mask) >> 11); }
    Rcode rcode() const { return Rcode(flags & flag::rcode_mask); }
    bool has(u16 f) const { return (flags & f) != 0; }
};

enum class ParseError : u8 {
    truncated,     // the message ends inside a field
    bad_label,     // a label type other than 0 and 0xC0 (RFC 6891 retired the rest)
    bad_pointer,   // a compression pointer that does not point strictly backwards
    name_too_long, // more than 255 bytes once decompressed
    bad_rdata,     // RDATA whose fields do not fill RDLENGTH exactly
    bad_counts,    // trailing bytes after the last record, or records missing
};
const char* error_name(ParseError);

class Reader {
public:
    explicit Reader(std::span<const u8> message, usize position = 0)
        : m_message(message)
        , m_position(position)
    {
    }

    usize position() const { return m_position; }
    usize remaining() const { return m_message.size() - m_position; }
    std::span<const u8> message() const { return m_message; }

    ErrorOr<u8, ParseError> read_u8();
    ErrorOr<u16, ParseError> read_u16();
    ErrorOr<u32, ParseError> read_u32();
    ErrorOr<std::span<const u8>, ParseError> read_bytes(usize n);
    ErrorOr<Header, ParseError> read_header();
    // Reads a name, following compression pointers, into `out` as uncompressed wire bytes;
    // returns their length. The position moves past the name as it is in the message.
    ErrorOr<usize, ParseError> read_name(std::array<u8, max_name_length>& out);
    ErrorOr<Name, ParseError> read_name();
    // Moves past a name without decoding it (pointers are not followed: they end a name).
    ErrorOr<void, ParseError> skip_name();

private:
    std::span<const u8> m_message;
    usize m_position;
};

class Writer {
public:
    // Writes into `buffer`, never past `limit` bytes (limit <= buffer.size()).
    Writer(std::span<u8> buffer, usize limit);

    usize size() const { return m_size; }
    usize limit() const { return m_limit; }
    std::span<const u8> written() const { return { m_buffer.data(), m_size }; }
    std::span<u8> buffer() { return m_buffer; }
    // Lowers (or raises, up to the buffer) the limit, e.g. to keep room for an OPT record.
    void set_limit(usize limit) { m_limit = limit < m_buffer.size() ? limit : m_buffer.size(); }

    // Each returns false, having written nothing, when the bytes would pass the limit.
    bool put_u8(u8);
    bool put_u16(u16);
    bool put_u32(u32);
    bool put_bytes(std::span<const u8>);
    // Writes an uncompressed wire name, compressed against earlier names if `compress`;
    // either way later names may point into it.
    bool put_name(std::span<const u8> wire, bool compress = true);
    void patch_u16(usize offset, u16 value);

    struct Mark {
        usize size;
        usize names;
    };
    Mark mark() const { return { m_size, m_name_count }; }
    void rollback(Mark m)
    {
        m_size = m.size;
        m_name_count = m.names;
    }

private:
    // Whether the name at `offset` in the message (possibly compressed) equals `suffix`.
    bool equal_at(usize offset, std::span<const u8> suffix) const;

    static constexpr usize max_names = 96; // label positions remembered for compression

    std::span<u8> m_buffer;
    usize m_limit;
    usize m_size = 0;
    usize m_name_count = 0;
    std::array<u16, max_names> m_names {};
};

// Header fields in and out of the first 12 bytes of a message.
void write_header(std::span<u8> message, const Header&);
inline u16 load_u16(const u8* p) { return u16(u16(p[0]) << 8 | p[1]); }
inline u32 load_u32(const u8* p) { return u32(p[0]) << 24 | u32(p[1]) << 16 | u32(p[2]) << 8 | p[3]; }
inline void store_u16(u8* p, u16 v)
{
    p[0] = u8(v >> 8);
    p[1] = u8(v);
}
inline void store_u32(u8* p, u32 v)
{
    p[0] = u8(v >> 24);
    p[1] = u8(v >> 16);
    p[2] = u8(v >> 8);
    p[3] = u8(v);
}

// Whether the RDATA of `type` holds names that may be compressed on the wire: only the types
// of RFC 1035 (RFC 3597 4 forbids it for any later type).
bool rdata_names_compressible(u16 type);

// Writes RDLENGTH and RDATA (given uncompressed) of a record of `type`, compressing the
// names of RFC 1035 types. False when it does not fit.
bool write_rdata(Writer&, u16 type, std::span<const u8> rdata);

// Reads RDATA of `type` and `length` at the reader's position into `out`, decompressing the
// names of the types whose RDATA has names (so the result is the uncompressed form); returns
// the uncompressed length. `out` must have room for 65535 bytes.
ErrorOr<usize, ParseError> read_rdata(Reader&, u16 type, u16 length, std::span<u8> out);

} // namespace sarab::dns
