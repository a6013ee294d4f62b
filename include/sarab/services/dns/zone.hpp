// DNS service: a zone in memory, and the zone-file parser that makes one.
//
// A Zone is immutable once built: every owner name (and every empty non-terminal between an
// owner and the apex, which RFC 4592 counts as existing) is a node in an open-addressing
// hash table keyed by its canonical wire form, so finding a name, or walking up a name to
// its closest encloser, is one probe per label with no allocation. A node's RRsets and their
// RDATA sit in flat arrays; nodes are kept in RFC 4034 canonical order for zone transfers.
// ZoneBuilder collects records and checks the zone as a whole when it finishes (one SOA at
// the apex, NS at the apex, nothing beside a CNAME, nothing outside the zone), naming the
// line of the offending record. Owner names are kept in canonical lower case (answers give
// the question's spelling back, through compression); RDATA keeps the file's case.
// parse_zone reads RFC 1035 master format; every error it returns carries the file and line.
#pragma once

#include <sarab/base/error.hpp>
#include <sarab/base/format.hpp>
#include <sarab/services/dns/name.hpp>
#include <sarab/services/dns/wire.hpp>

#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sarab::dns {

enum class ZoneErrc : u8 {
    syntax,            // unbalanced parentheses, an unterminated string, a stray character
    bad_directive,     // an unknown or malformed $ directive
    unsupported,       // $INCLUDE and $GENERATE: zones are one file each
    bad_name,
    bad_ttl,
    no_ttl,            // a record with no TTL and no $TTL before it
    bad_class,         // a class other than IN
    bad_type,
    bad_rdata,
    no_origin,         // a relative name, or a blank owner, before any origin is known
    outside_zone,      // an owner that is not in the zone
    no_soa,            // the zone has no SOA at its apex
    soa_not_first,     // the first record is not the SOA
    extra_soa,         // a second SOA, or one below the apex
    no_apex_ns,        // no NS records at the apex
    cname_and_other,   // a CNAME beside other data, or two CNAMEs, at one name
    too_large,         // more than the zone format can index (2^32 bytes of RDATA)
};
const char* error_name(ZoneErrc);

// An error in a zone file: which, where, and a few words on what was found.
struct ZoneError {
    ZoneErrc code = ZoneErrc::syntax;
    std::string_view file; // as given to parse_zone
    u32 line = 0;
    std::array<char, 120> detail_storage {};
    u8 detail_length = 0;

    std::string_view detail() const { return { detail_storage.data(), detail_length }; }
    void set_detail(std::string_view text);
};
// "zones/example.org.zone:12: bad RDATA: bad IPv4 address '198.18.0' (A record)"
void format_value(FormatBuffer&, const ZoneError&, const FormatSpec&);

struct RecordSet {
    u16 type = 0;
    u32 ttl = 0;
    u32 first = 0; // index of its first RDATA in the zone's RDATA table
    u32 count = 0;
};

struct Node {
    u32 name_offset = 0; // canonical wire owner in the zone's name bytes
    u8 name_length = 0;
    u8 labels = 0;
    bool is_cut = false;     // NS here and not the apex: a delegation point
    bool below_cut = false;  // strictly below a delegation: glue or occluded data
    u32 first_set = 0;
    u32 set_count = 0;       // 0 for an empty non-terminal
};

class Zone {
public:
    Zone() = default;
    Zone(Zone&&) = default;
    Zone& operator=(Zone&&) = default;
    Zone(const Zone&) = delete;
    Zone& operator=(const Zone&) = delete;

    const Name& origin() const { return m_origin; }
    // The node of a canonical (lower-case) wire name, or null.
    const Node* find(std::span<const u8> canonical_wire) const;
    const RecordSet* find_set(const Node&, u16 type) const;
    std::span<const RecordSet> sets(const Node& n) const { return { m_sets.data() + n.first_set, n.set_count }; }
    std::span<const u8> rdata(const RecordSet& s, usize i) const
    {
        const auto& r = m_rdata_index[s.first + i];
        return { m_rdata.data() + r.offset, r.length };
    }
    std::span<const u8> owner(const Node& n) const { return { m_names.data() + n.name_offset, n.name_length }; }
    // Nodes in canonical order, the apex first.
    std::span<const Node> nodes() const { return m_nodes; }
    const Node& apex() const { return m_nodes.front(); }
    const RecordSet& soa() const { return *m_soa; }
    u32 serial() const;
    usize record_count() const { return m_rdata_index.size(); }

private:
    friend class ZoneBuilder;
    struct RdataRef {
        u32 offset;
        u32 length;
    };

    Name m_origin;
    std::vector<u8> m_names;
    std::vector<Node> m_nodes;
    std::vector<RecordSet> m_sets;
    std::vector<RdataRef> m_rdata_index;
    std::vector<u8> m_rdata;
    std::vector<u32> m_table; // open addressing: node index + 1, 0 when empty
    const RecordSet* m_soa = nullptr;
};

class ZoneBuilder {
public:
    explicit ZoneBuilder(const Name& origin);

    // Adds one record of class IN; `line` is where it came from, for errors found later.
    // Duplicate records are dropped (RFC 2181 5); an RRset whose TTLs differ gets the lowest.
    ErrorOr<void, ZoneError> add(const Name& owner, u16 type, u32 ttl, std::span<const u8> rdata, u32 line);
    ErrorOr<Zone, ZoneError> finish();

    const Name& origin() const { return m_origin; }
    usize size() const { return m_records.size(); }

private:
    struct Pending {
        u32 name_offset;
        u8 name_length;
        u16 type;
        u32 ttl;
        u32 rdata_offset;
        u32 rdata_length;
        u32 line;
    };
    ZoneError error(ZoneErrc, u32 line, std::string_view detail) const;

    Name m_origin;
    std::vector<u8> m_names;
    std::vector<u8> m_rdata;
    std::vector<Pending> m_records;
};

// Parses a zone in master-file format. `file` names it in errors. `default_origin`, when
// given, is the origin until a $ORIGIN line (a file named "example.org.zone" serves
// example.org.); the zone's apex is the owner of its SOA, which must be the first record.
ErrorOr<Zone, ZoneError> parse_zone(std::string_view text, std::string_view file, const Name* default_origin);

// The origin a zone file's name implies: "example.org.zone", "example.org" or
// "dir/example.org.zone" give example.org.; nothing if the name is not a domain name.
std::optional<Name> origin_from_file_name(std::string_view file);

} // namespace sarab::dns
