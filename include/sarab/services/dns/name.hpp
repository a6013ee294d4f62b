// DNS service: domain names.
//
// A Name is a domain name in uncompressed wire form (length-prefixed labels ending with the
// empty root label) held inline, at most 255 bytes, so names are values that never allocate.
// Names compare case-insensitively in ASCII (RFC 4343) and keep the case they were given;
// canonical() gives the lower-case form that the server uses as a lookup key. Because the
// labels are length-prefixed, every suffix of a name (its parent, grandparent, ... root) is a
// tail of the same bytes: lookups walk up a name without copying it. Text forms follow the
// master-file rules of RFC 1035 5.1: `\X` and `\DDD` escapes, `@` for the origin, names
// without a final dot relative to an origin.
#pragma once

#include <sarab/base/error.hpp>
#include <sarab/base/format.hpp>
#include <sarab/base/types.hpp>

#include <array>
#include <span>
#include <string_view>

namespace sarab::dns {

inline constexpr usize max_name_length = 255; // wire bytes, the root label included
inline constexpr usize max_label_length = 63;

enum class NameError : u8 {
    empty_label,     // "a..b", or a leading dot
    label_too_long,  // more than 63 bytes
    name_too_long,   // more than 255 bytes in wire form
    bad_escape,      // "\" not followed by a character or by three digits up to 255
    relative,        // a relative name where there is no origin to complete it
    bad_wire,        // wire bytes that are not a sequence of labels ending at the root
};
const char* error_name(NameError);

constexpr u8 ascii_lower(u8 c) { return (c >= 'A' && c <= 'Z') ? u8(c + 32) : c; }

class Name {
public:
    // The root name ".".
    constexpr Name()
        : m_length(1)
        , m_labels(0)
        , m_wire {}
    {
    }

    // From uncompressed wire bytes that hold exactly one name.
    static ErrorOr<Name, NameError> from_wire(std::span<const u8> wire);
    // From presentation form. A name without a final dot is completed with `origin` (which is
    // then required), "@" is the origin itself.
    static ErrorOr<Name, NameError> parse(std::string_view text, const Name* origin = nullptr);

    std::span<const u8> wire() const { return { m_wire.data(), m_length }; }
    std::string_view wire_view() const { return { reinterpret_cast<const char*>(m_wire.data()), m_length }; }
    usize length() const { return m_length; }
    usize label_count() const { return m_labels; }
    bool is_root() const { return m_labels == 0; }
    // True when the first label is "*".
    bool is_wildcard() const { return m_length >= 3 && m_wire[0] == 1 && m_wire[1] == '*'; }

    // The label at index i, 0 being the leftmost, without its length byte.
    std::span<const u8> label(usize i) const;
    // The name without its first `n` labels (n <= label_count()).
    Name parent(usize n = 1) const;
    // The offset in wire() at which the suffix without the first `n` labels starts.
    usize suffix_offset(usize n) const;
    // `label` . this; fails if the result would be too long.
    ErrorOr<Name, NameError> prepend(std::span<const u8> label) const;
    // this (without its root label) followed by `suffix`.
    ErrorOr<Name, NameError> concat(const Name& suffix) const;

    Name canonical() const;
    void make_canonical();
    bool is_subdomain_of(const Name& ancestor) const; // a name is a subdomain of itself
    bool operator==(const Name& other) const;

    // Presentation form with a final dot, escaping what needs it.
    void format(FormatBuffer&) const;

private:
    u8 m_length;
    u8 m_labels;
    std::array<u8, max_name_length> m_wire;
};

void format_value(FormatBuffer&, const Name&, const FormatSpec&);

// Case-insensitive equality of two uncompressed wire names.
bool wire_names_equal(std::span<const u8> a, std::span<const u8> b);
// RFC 4034 6.1 canonical order of two uncompressed wire names (label by label from the right,
// case-insensitive): negative, zero or positive.
int canonical_compare(std::span<const u8> a, std::span<const u8> b);
// Writes the lower-case form of `wire` into `out` (same length).
void lower_wire(std::span<const u8> wire, u8* out);

// A fast hash of a canonical (lower-case) wire name: for hash tables keyed by names.
inline u64 hash_bytes(const u8* data, usize length, u64 seed = 0)
{
    // FNV-1a: names are short, and it needs no alignment.
    u64 h = 14695981039346656037ull ^ seed;
    for (usize i = 0; i < length; ++i)
        h = (h ^ data[i]) * 1099511628211ull;
    return h;
}

} // namespace sarab::dns
