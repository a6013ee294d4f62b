#include <sarab/services/dns/rdata.hpp>
#include <sarab/services/dns/zone.hpp>

#include <algorithm>
#include <cstring>

namespace sarab::dns {

const char* error_name(ZoneErrc e)
{
    switch (e) {
    case ZoneErrc::syntax: return "syntax error";
    case ZoneErrc::bad_directive: return "bad directive";
    case ZoneErrc::unsupported: return "unsupported directive";
    case ZoneErrc::bad_name: return "bad name";
    case ZoneErrc::bad_ttl: return "bad TTL";
    case ZoneErrc::no_ttl: return "no TTL";
    case ZoneErrc::bad_class: return "bad class";
    case ZoneErrc::bad_type: return "bad type";
    case ZoneErrc::bad_rdata: return "bad RDATA";
    case ZoneErrc::no_origin: return "no origin";
    case ZoneErrc::outside_zone: return "out of zone";
    case ZoneErrc::no_soa: return "no SOA";
    case ZoneErrc::soa_not_first: return "SOA not first";
    case ZoneErrc::extra_soa: return "extra SOA";
    case ZoneErrc::no_apex_ns: return "no NS at the apex";
    case ZoneErrc::cname_and_other: return "CNAME and other data";
    case ZoneErrc::too_large: return "zone too large";
    }
    return "zone error";
}

void ZoneError::set_detail(std::string_view text)
{
    usize n = text.size() < detail_storage.size() ? text.size() : detail_storage.size();
    std::memcpy(detail_storage.data(), text.data(), n);
    detail_length = u8(n);
}

void format_value(FormatBuffer& out, const ZoneError& e, const FormatSpec&)
{
    format_to(out, "{}:{}: {}", e.file, e.line, error_name(e.code));
    if (e.detail_length)
        format_to(out, ": {}", e.detail());
}

// ---- Zone --------------------------------------------------------------------------------

const Node* Zone::find(std::span<const u8> wire) const
{
    if (m_table.empty())
        return nullptr;
    usize mask = m_table.size() - 1;
    for (usize i = hash_bytes(wire.data(), wire.size()) & mask;; i = (i + 1) & mask) {
        u32 slot = m_table[i];
        if (slot == 0)
            return nullptr;
        const Node& n = m_nodes[slot - 1];
        if (n.name_length == wire.size() && std::memcmp(m_names.data() + n.name_offset, wire.data(), wire.size()) == 0)
            return &n;
    }
}

const RecordSet* Zone::find_set(const Node& n, u16 type) const
{
    for (const RecordSet& s : sets(n)) {
        if (s.type == type)
            return &s;
    }
    return nullptr;
}

u32 Zone::serial() const
{
    // SOA RDATA: two names, then the serial first of five numbers.
    auto r = rdata(soa(), 0);
    return load_u32(r.data() + r.size() - 20);
}

// ---- ZoneBuilder -------------------------------------------------------------------------

ZoneBuilder::ZoneBuilder(const Name& origin)
    : m_origin(origin.canonical())
{
}

ZoneError ZoneBuilder::error(ZoneErrc code, u32 line, std::string_view detail) const
{
    ZoneError e;
    e.code = code;
    e.line = line;
    e.set_detail(detail);
    return e;
}

ErrorOr<void, ZoneError> ZoneBuilder::add(const Name& owner, u16 type, u32 ttl, std::span<const u8> rdata, u32 line)
{
    if (!owner.is_subdomain_of(m_origin)) {
        InlineFormatBuffer<120> text;
        format_to(text, "{} is not in {}", owner, m_origin);
        return failure(error(ZoneErrc::outside_zone, line, text.view()));
    }
    if (m_rdata.size() + rdata.size() > 0xffffffffu || m_records.size() >= 0x7fffffffu)
        return failure(error(ZoneErrc::too_large, line, {}));
    Pending p;
    p.name_offset = u32(m_names.size());
    p.name_length = u8(owner.length());
    m_names.resize(m_names.size() + owner.length());
    lower_wire(owner.wire(), m_names.data() + p.name_offset);
    p.type = type;
    p.ttl = ttl;
    p.rdata_offset = u32(m_rdata.size());
    p.rdata_length = u32(rdata.size());
    m_rdata.insert(m_rdata.end(), rdata.begin(), rdata.end());
    p.line = line;
    m_records.push_back(p);
    return {};
}

ErrorOr<Zone, ZoneError> ZoneBuilder::finish()
{
    auto owner = [&](const Pending& p) { return std::span<const u8>(m_names.data() + p.name_offset, p.name_length); };
    auto data = [&](const Pending& p) { return std::span<const u8>(m_rdata.data() + p.rdata_offset, p.rdata_length); };

    // Records in canonical order of owner, then by type, then by RDATA; the file's order
    // decides among equals, so the first of duplicates is the one kept.
    std::vector<u32> order(m_records.size());
    for (u32 i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](u32 a, u32 b) {
        const Pending& x = m_records[a];
        const Pending& y = m_records[b];
        int c = canonical_compare(owner(x), owner(y));
        if (c != 0)
            return c < 0;
        if (x.type != y.type)
            return x.type < y.type;
        auto dx = data(x);
        auto dy = data(y);
        return std::lexicographical_compare(dx.begin(), dx.end(), dy.begin(), dy.end());
    });

    auto same_owner = [&](const Pending& x, const Pending& y) {
        return x.name_length == y.name_length && std::memcmp(m_names.data() + x.name_offset, m_names.data() + y.name_offset, x.name_length) == 0;
    };

    // Whole-zone checks.
    const Pending* soa = nullptr;
    for (u32 i : order) {
        const Pending& p = m_records[i];
        if (RrType(p.type) != RrType::soa)
            continue;
        bool at_apex = wire_names_equal(owner(p), m_origin.wire());
        if (!at_apex || (soa && (soa->rdata_length != p.rdata_length || std::memcmp(m_rdata.data() + soa->rdata_offset, m_rdata.data() + p.rdata_offset, p.rdata_length) != 0))) {
            const Pending& later = soa && soa->line > p.line ? *soa : p;
            return failure(error(ZoneErrc::extra_soa, later.line, at_apex ? "a zone has one SOA" : "SOA below the apex"));
        }
        soa = &p;
    }
    if (!soa) {
        InlineFormatBuffer<120> text;
        format_to(text, "no SOA record for {}", m_origin);
        return failure(error(ZoneErrc::no_soa, m_records.empty() ? 0 : m_records.front().line, text.view()));
    }
    bool apex_ns = false;
    for (usize k = 0; k < order.size();) {
        // One owner's records: [k, end).
        usize end = k + 1;
        while (end < order.size() && same_owner(m_records[order[k]], m_records[order[end]]))
            ++end;
        const Pending* cname = nullptr;
        const Pending* other = nullptr;
        usize cnames = 0;
        for (usize j = k; j < end; ++j) {
            const Pending& p = m_records[order[j]];
            if (RrType(p.type) == RrType::cname) {
                if (!cname || !std::equal(data(*cname).begin(), data(*cname).end(), data(p).begin(), data(p).end()))
                    ++cnames;
                cname = cname ? cname : &p;
            } else if (!other) {
                other = &p;
            }
            if (RrType(p.type) == RrType::ns && wire_names_equal(owner(p), m_origin.wire()))
                apex_ns = true;
        }
        if (cname && (other || cnames > 1)) {
            u32 line = other ? (other->line > cname->line ? other->line : cname->line) : cname->line;
            if (cnames > 1) {
                for (usize j = k; j < end; ++j)
                    line = m_records[order[j]].line > line ? m_records[order[j]].line : line;
            }
            auto name = Name::from_wire(owner(*cname));
            InlineFormatBuffer<120> text;
            format_to(text, "{} has a CNAME and other records", name ? *name : Name());
            return failure(error(ZoneErrc::cname_and_other, line, text.view()));
        }
        k = end;
    }
    if (!apex_ns) {
        InlineFormatBuffer<120> text;
        format_to(text, "no NS records at {}", m_origin);
        return failure(error(ZoneErrc::no_apex_ns, soa->line, text.view()));
    }

    // Every name that exists: the owners and the empty non-terminals above them.
    std::vector<std::span<const u8>> names;
    names.reserve(order.size() * 2);
    for (u32 i : order) {
        auto o = owner(m_records[i]);
        if (!names.empty() && names.back().size() == o.size() && std::memcmp(names.back().data(), o.data(), o.size()) == 0)
            continue;
        names.push_back(o);
        for (usize at = 1 + o[0]; at + m_origin.length() < o.size() && o[at] != 0; at += 1 + o[at])
            names.push_back(o.subspan(at));
    }
    std::sort(names.begin(), names.end(), [](auto a, auto b) { return canonical_compare(a, b) < 0; });
    names.erase(std::unique(names.begin(), names.end(), [](auto a, auto b) { return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0; }), names.end());

    Zone z;
    z.m_origin = m_origin;
    z.m_nodes.reserve(names.size());
    for (auto n : names) {
        Node node;
        node.name_offset = u32(z.m_names.size());
        node.name_length = u8(n.size());
        z.m_names.insert(z.m_names.end(), n.begin(), n.end());
        auto parsed = Name::from_wire(n);
        node.labels = parsed ? u8(parsed->label_count()) : 0;
        z.m_nodes.push_back(node);
    }
    usize capacity = 16;
    while (capacity < z.m_nodes.size() * 2)
        capacity *= 2;
    z.m_table.assign(capacity, 0);
    for (usize i = 0; i < z.m_nodes.size(); ++i) {
        auto wire = z.owner(z.m_nodes[i]);
        usize slot = hash_bytes(wire.data(), wire.size()) & (capacity - 1);
        while (z.m_table[slot] != 0)
            slot = (slot + 1) & (capacity - 1);
        z.m_table[slot] = u32(i + 1);
    }

    // RRsets, in node order: records are sorted the same way.
    z.m_rdata.reserve(m_rdata.size());
    usize k = 0;
    for (Node& node : z.m_nodes) {
        node.first_set = u32(z.m_sets.size());
        auto node_name = z.owner(node);
        while (k < order.size()) {
            const Pending& p = m_records[order[k]];
            auto o = owner(p);
            if (o.size() != node_name.size() || std::memcmp(o.data(), node_name.data(), o.size()) != 0)
                break;
            if (node.set_count == 0 || z.m_sets.back().type != p.type) {
                z.m_sets.push_back({ p.type, p.ttl, u32(z.m_rdata_index.size()), 0 });
                ++node.set_count;
            }
            RecordSet& set = z.m_sets.back();
            auto d = data(p);
            bool duplicate = false;
            if (set.count > 0) {
                auto last = z.rdata(set, set.count - 1);
                duplicate = std::equal(last.begin(), last.end(), d.begin(), d.end());
            }
            if (p.ttl < set.ttl)
                set.ttl = p.ttl;
            if (!duplicate) {
                z.m_rdata_index.push_back({ u32(z.m_rdata.size()), u32(d.size()) });
                z.m_rdata.insert(z.m_rdata.end(), d.begin(), d.end());
                ++set.count;
            }
            ++k;
        }
    }
    VERIFY(k == order.size(), "every record belongs to a node");

    const Node& apex = z.m_nodes.front();
    VERIFY(wire_names_equal(z.owner(apex), m_origin.wire()), "the apex sorts first");
    z.m_soa = z.find_set(apex, u16(RrType::soa));
    for (usize i = 1; i < z.m_nodes.size(); ++i) {
        Node& node = z.m_nodes[i];
        node.is_cut = z.find_set(node, u16(RrType::ns)) != nullptr;
    }
    for (Node& node : z.m_nodes) {
        auto wire = z.owner(node);
        for (usize at = 1 + wire[0]; wire.size() - at > m_origin.length(); at += 1 + wire[at]) {
            const Node* up = z.find(wire.subspan(at));
            if (up && up->is_cut) {
                node.below_cut = true;
                break;
            }
        }
    }
    return z;
}

} // namespace sarab::dns
