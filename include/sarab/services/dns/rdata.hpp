// DNS service: record data in presentation form (RFC 1035 5, RFC 3597 5).
//
// parse_rdata turns the fields of one master-file record (already split into tokens by the
// zone parser) into uncompressed wire RDATA for A, AAAA, NS, CNAME, SOA, MX, TXT, PTR, SRV and
// CAA, and for any type in the generic `\# LENGTH HEX` form, which is also accepted for the
// known types and then checked against their layout. Type mnemonics and `TYPEnnn` convert
// both ways. Nothing here keeps state.
#pragma once

#include <sarab/base/error.hpp>
#include <sarab/base/format.hpp>
#include <sarab/services/dns/name.hpp>

#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sarab::dns {

// A field of a master file: its text as written (escapes not yet resolved) and whether it
// was in double quotes.
struct Token {
    std::string_view text;
    bool quoted = false;
};

enum class RdataError : u8 {
    missing_field,
    extra_field,
    bad_number,
    bad_ipv4,
    bad_ipv6,
    bad_name,
    bad_string,    // a character-string over 255 bytes or with a bad escape
    bad_generic,   // a \# form whose length and hex do not agree
    bad_layout,    // \# RDATA that is not valid for its (known) type
    bad_tag,       // a CAA tag that is not 1-15 letters and digits
    unsupported,   // a known type whose presentation form is not implemented: use \#
};
const char* error_name(RdataError);

// "A", "aaaa", "TYPE65280": the type number, or nothing.
std::optional<u16> type_from_text(std::string_view);
void format_type(FormatBuffer&, u16 type);
std::optional<u16> class_from_text(std::string_view); // "IN", "CLASS1", ...

// Appends the wire RDATA of `type` given as `fields` to `out`. Relative names in the data
// complete with `origin`. On error, `bad_field` is the index of the field at fault (or
// fields.size() when one is missing). An SOA's four timers are plain numbers up to 2^32-1 or
// times with units (parse_ttl); a CAA's tag is 1 to 15 letters and digits (RFC 8659), in the
// text form and the \# form alike. What format_rdata writes parses back to the same RDATA.
ErrorOr<void, RdataError> parse_rdata(u16 type, std::span<const Token> fields, const Name& origin,
    std::vector<u8>& out, usize& bad_field);

// Whether `rdata` is well-formed wire RDATA for `type` (any bytes are, for an unknown type).
bool rdata_valid(u16 type, std::span<const u8> rdata);

// Parses a time value: seconds, or numbers with units w, d, h, m, s ("1h30m"), at most
// 2^31-1 (RFC 2181 8).
std::optional<u32> parse_ttl(std::string_view);

// Presentation form of RDATA, for logs and tests (unknown types in \# form).
void format_rdata(FormatBuffer&, u16 type, std::span<const u8> rdata);

} // namespace sarab::dns
