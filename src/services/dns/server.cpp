#include <sarab/services/dns/server.hpp>

#include <algorithm>
#include <cstring>

namespace sarab::dns {

namespace {

constexpr usize opt_size = 11; // root name, type, class, TTL, RDLENGTH 0
constexpr usize max_chain = 12; // CNAMEs followed in one answer
constexpr usize max_targets = 32; // names whose addresses go in the additional section
constexpr usize key_capacity = max_name_length + 7;
constexpr u16 class_in = u16(RrClass::in);
constexpr u16 rcode_notauth = 9;

enum Section : u8 { answer_section, authority_section, additional_section };

void write_opt(Writer& w, u16 udp_size, u8 extended_rcode, bool do_bit)
{
    bool ok = w.put_u8(0) && w.put_u16(u16(RrType::opt)) && w.put_u16(udp_size)
        && w.put_u32(u32(extended_rcode) << 24 | (do_bit ? edns_do_bit : 0)) && w.put_u16(0);
    VERIFY(ok, "room for the OPT record is kept");
}

u32 negative_ttl(const Zone& zone)
{
    const RecordSet& soa = zone.soa();
    auto r = zone.rdata(soa, 0);
    u32 minimum = load_u32(r.data() + r.size() - 4);
    return minimum < soa.ttl ? minimum : soa.ttl;
}

// The uncompressed name at the start of RDATA `data` + `at`.
std::span<const u8> name_in(std::span<const u8> data, usize at)
{
    usize end = at;
    while (end < data.size() && data[end] != 0)
        end += 1 + usize(data[end]);
    return data.subspan(at, end + 1 - at);
}

// Whether the uncompressed name `wire` is at or below the zone's origin. The suffix is
// compared at label boundaries only: a label may hold any byte, a length byte included.
bool in_zone(std::span<const u8> wire, const Zone& zone)
{
    auto origin = zone.origin().wire();
    for (usize at = 0; at < wire.size(); at += 1 + usize(wire[at])) {
        if (wire.size() - at == origin.size())
            return wire_names_equal(wire.subspan(at), origin);
        if (wire[at] == 0)
            break;
    }
    return false;
}

} // namespace

// A memoised response: its key and bytes live in the server's arena at the slot's index.
struct Server::CacheSlot {
    u64 hash = 0;
    u16 key_length = 0;
    u16 response_length = 0; // 0: empty
};

// The state of one answer being written.
struct Server::Resolution {
    Writer& w;
    const Query& q;
    bool minimal;
    u16 qtype;
    std::array<u16, 3> counts {};
    bool aa = true;
    u16 rcode = 0;
    bool tc = false;
    bool apex_ns_in_answer = false;
    std::array<std::span<const u8>, max_targets> targets {};
    std::array<bool, max_targets> required {};
    usize target_count = 0;
    // RRsets already in the answer, which the additional section does not repeat.
    std::array<const RecordSet*, max_chain + 1> answered {};
    usize answered_count = 0;

    bool add_set(Section section, std::span<const u8> owner, const Zone& zone, const RecordSet& set, u32 ttl)
    {
        if (tc)
            return false;
        Writer::Mark mark = w.mark();
        for (u32 i = 0; i < set.count; ++i) {
            bool ok = w.put_name(owner) && w.put_u16(set.type) && w.put_u16(class_in) && w.put_u32(ttl)
                && write_rdata(w, set.type, zone.rdata(set, i));
            if (!ok) {
                w.rollback(mark);
                return false;
            }
        }
        counts[section] = u16(counts[section] + set.count);
        if (section == answer_section && answered_count < answered.size())
            answered[answered_count++] = &set;
        return true;
    }

    // A needed RRset: when it does not fit, the response is truncated (RFC 2181 9).
    void need_set(Section section, std::span<const u8> owner, const Zone& zone, const RecordSet& set, u32 ttl)
    {
        if (!add_set(section, owner, zone, set, ttl))
            tc = true;
    }

    void add_target(std::span<const u8> name, bool is_required)
    {
        for (usize i = 0; i < target_count; ++i) {
            if (wire_names_equal(targets[i], name)) {
                required[i] = required[i] || is_required;
                return;
            }
        }
        if (target_count < max_targets) {
            required[target_count] = is_required;
            targets[target_count++] = name;
        }
    }

    void collect_targets(const Zone& zone, const RecordSet& set, bool is_required)
    {
        usize offset;
        switch (RrType(set.type)) {
        case RrType::ns: offset = 0; break;
        case RrType::mx: offset = 2; break;
        case RrType::srv: offset = 6; break;
        default: return;
        }
        for (u32 i = 0; i < set.count; ++i)
            add_target(name_in(zone.rdata(set, i), offset), is_required);
    }

    // Addresses of the collected names that the zone has (glue below a cut only when
    // `glue_ok`, i.e. for a referral).
    void add_additional(const Zone& zone, bool glue_ok)
    {
        for (usize i = 0; i < target_count && !tc; ++i) {
            std::array<u8, max_name_length> lower;
            auto name = targets[i];
            lower_wire(name, lower.data());
            std::span<const u8> key(lower.data(), name.size());
            if (!in_zone(key, zone))
                continue;
            const Node* node = zone.find(key);
            if (!node || (node->below_cut && !glue_ok))
                continue;
            for (RrType t : { RrType::a, RrType::aaaa }) {
                const RecordSet* set = zone.find_set(*node, u16(t));
                if (set && std::find(answered.begin(), answered.begin() + answered_count, set) != answered.begin() + answered_count)
                    continue;
                if (set && !add_set(additional_section, name, zone, *set, set->ttl) && required[i] && node->below_cut)
                    tc = true; // glue for a name under the cut is needed (RFC 9471)
            }
        }
    }
};

Server::Server(ServerOptions options)
    : m_options(options)
{
    if (m_options.cache_slots > 0) {
        usize n = 1;
        while (n < m_options.cache_slots)
            n *= 2;
        m_cache_mask = n - 1;
        m_cache = std::make_unique<CacheSlot[]>(n);
        m_cache_bytes = std::make_unique_for_overwrite<u8[]>(n * (key_capacity + m_options.cache_max_response));
    }
}

Server::~Server() = default;
Server::Server(Server&&) = default;
Server& Server::operator=(Server&&) = default;

void Server::invalidate()
{
    if (!m_cache)
        return;
    for (usize i = 0; i <= m_cache_mask; ++i)
        m_cache[i].response_length = 0;
}

void Server::add_zone(Zone zone)
{
    auto shared = std::make_shared<const Zone>(std::move(zone));
    remove_zone(shared->origin());
    m_zones.push_back(shared);
    m_by_origin.clear();
    m_shortest_origin = max_name_length;
    m_longest_origin = 0;
    for (usize i = 0; i < m_zones.size(); ++i) {
        m_by_origin.emplace(m_zones[i]->origin().wire_view(), i);
        usize labels = m_zones[i]->origin().label_count();
        m_shortest_origin = labels < m_shortest_origin ? labels : m_shortest_origin;
        m_longest_origin = labels > m_longest_origin ? labels : m_longest_origin;
    }
    invalidate();
}

bool Server::remove_zone(const Name& origin)
{
    Name key = origin.canonical();
    auto it = m_by_origin.find(key.wire_view());
    if (it == m_by_origin.end())
        return false;
    m_zones.erase(m_zones.begin() + std::ptrdiff_t(it->second));
    m_by_origin.clear();
    for (usize i = 0; i < m_zones.size(); ++i)
        m_by_origin.emplace(m_zones[i]->origin().wire_view(), i);
    invalidate();
    return true;
}

usize Server::record_count() const
{
    usize n = 0;
    for (const auto& z : m_zones)
        n += z->record_count();
    return n;
}

const Zone* Server::zone_for(const Name& name) const
{
    if (m_zones.empty())
        return nullptr;
    Name key = name.canonical();
    usize labels = key.label_count();
    // From the longest possible origin to the shortest: the first found is the most specific.
    usize from = labels > m_longest_origin ? labels - m_longest_origin : 0;
    for (usize strip = from; strip + m_shortest_origin <= labels; ++strip) {
        usize at = key.suffix_offset(strip);
        auto it = m_by_origin.find(key.wire_view().substr(at));
        if (it != m_by_origin.end())
            return m_zones[it->second].get();
    }
    return nullptr;
}

usize Server::error_response(const Query& q, bool has_question, Rcode rcode, std::span<u8> out, std::span<const u8> raw)
{
    if (out.size() < header_size)
        return 0;
    Writer w(out, out.size() < max_message ? out.size() : max_message);
    std::array<u8, header_size> head {};
    (void)w.put_bytes(head);
    Header h;
    h.id = q.header.id;
    h.flags = u16(flag::qr | (q.header.flags & (flag::opcode_mask | flag::rd | flag::cd)) | (u16(rcode) & flag::rcode_mask));
    if (has_question && w.put_bytes(raw.subspan(header_size, q.question_end - header_size)))
        h.qdcount = 1;
    if (rcode == Rcode::badvers && w.put_u8(0)) {
        (void)(w.put_u16(u16(RrType::opt)) && w.put_u16(m_options.edns_udp_size) && w.put_u32(u32(u16(rcode) >> 4) << 24) && w.put_u16(0));
        h.arcount = 1;
    }
    write_header(out, h);
    return w.size();
}

usize Server::answer(std::span<const u8> query, Transport transport, std::span<u8> out, Transfer* transfer)
{
    VERIFY(out.size() >= max_udp_plain, "a response buffer holds at least 512 bytes");
    ++m_stats.queries;
    Query q;
    bool has_question = false;
    auto parsed = parse_query(query, q, has_question);
    if (!parsed) {
        switch (parsed.error()) {
        case QueryError::drop: ++m_stats.dropped; return 0;
        case QueryError::formerr: return error_response(q, has_question, Rcode::formerr, out, query);
        case QueryError::notimp: return error_response(q, has_question, Rcode::notimp, out, query);
        }
    }
    if (q.edns.present && q.edns.version != 0)
        return error_response(q, true, Rcode::badvers, out, query);

    usize limit;
    if (transport == Transport::tcp) {
        limit = max_message;
    } else if (q.edns.present) {
        limit = q.edns.udp_size < max_udp_plain ? max_udp_plain : q.edns.udp_size;
        limit = limit < m_options.edns_udp_size ? limit : (m_options.edns_udp_size < max_udp_plain ? max_udp_plain : m_options.edns_udp_size);
    } else {
        limit = max_udp_plain;
    }
    limit = limit < out.size() ? limit : out.size();

    u16 qtype = q.question.type;
    bool memoise = m_cache && qtype != u16(RrType::axfr) && qtype != u16(RrType::ixfr);
    std::array<u8, key_capacity> key;
    usize key_length = 0;
    u64 hash = 0;
    CacheSlot* slot = nullptr;
    usize stride = key_capacity + m_options.cache_max_response;
    if (memoise) {
        auto name = q.canonical_name.wire();
        std::memcpy(key.data(), name.data(), name.size());
        key_length = name.size();
        store_u16(key.data() + key_length, qtype);
        store_u16(key.data() + key_length + 2, q.question.klass);
        store_u16(key.data() + key_length + 4, u16(limit));
        key[key_length + 6] = u8((q.edns.present ? 1 : 0) | (q.edns.do_bit ? 2 : 0));
        key_length += 7;
        hash = hash_bytes(key.data(), key_length);
        usize index = usize(hash) & m_cache_mask;
        slot = &m_cache[index];
        u8* stored = m_cache_bytes.get() + index * stride;
        if (slot->response_length != 0 && slot->hash == hash && slot->key_length == key_length
            && std::memcmp(stored, key.data(), key_length) == 0 && slot->response_length <= out.size()) {
            ++m_stats.memo_hits;
            u8* response = out.data();
            std::memcpy(response, stored + key_capacity, slot->response_length);
            store_u16(response, q.header.id);
            u16 flags = load_u16(response + 2);
            flags = u16((flags & ~(flag::rd | flag::cd)) | (q.header.flags & (flag::rd | flag::cd)));
            store_u16(response + 2, flags);
            std::memcpy(response + header_size, query.data() + header_size, q.question.name.length());
            return slot->response_length;
        }
    }

    usize size = resolve(q, limit, transport, out, transfer);
    if (memoise && size > 0 && size <= m_options.cache_max_response) {
        u8* stored = m_cache_bytes.get() + (usize(hash) & m_cache_mask) * stride;
        std::memcpy(stored, key.data(), key_length);
        std::memcpy(stored + key_capacity, out.data(), size);
        slot->hash = hash;
        slot->key_length = u16(key_length);
        slot->response_length = u16(size);
    }
    return size;
}

usize Server::resolve(const Query& q, usize limit, Transport transport, std::span<u8> out, Transfer* transfer)
{
    Writer w(out, limit);
    std::array<u8, header_size> head {};
    VERIFY(w.put_bytes(head), "room for a header");
    // The question as the client wrote it: it is what later names compress against.
    bool ok = w.put_name(q.question.name.wire(), false) && w.put_u16(q.question.type) && w.put_u16(q.question.klass);
    VERIFY(ok, "room for a question");

    Header h;
    h.id = q.header.id;
    h.flags = u16(flag::qr | (q.header.flags & (flag::rd | flag::cd)));
    h.qdcount = 1;
    auto finish = [&](u16 rcode) {
        h.flags = u16((h.flags & ~flag::rcode_mask) | rcode);
        if (q.edns.present) {
            w.set_limit(limit);
            write_opt(w, m_options.edns_udp_size, 0, q.edns.do_bit);
            ++h.arcount;
        }
        write_header(out, h);
        return w.size();
    };
    if (q.edns.present)
        w.set_limit(limit - opt_size);

    u16 qtype = q.question.type;
    u16 qclass = q.question.klass;
    if (qtype == u16(RrType::opt))
        return finish(u16(Rcode::formerr));
    if (qtype == u16(RrType::maila) || qtype == u16(RrType::mailb))
        return finish(u16(Rcode::notimp));
    if (qclass != class_in && qclass != u16(RrClass::any))
        return finish(u16(Rcode::refused));
    const Zone* zone = zone_for(q.canonical_name);
    if (!zone)
        return finish(u16(Rcode::refused));

    if (qtype == u16(RrType::axfr) || qtype == u16(RrType::ixfr)) {
        bool at_apex = q.canonical_name.length() == zone->origin().length();
        if (!at_apex)
            return finish(rcode_notauth);
        if (transport == Transport::udp) {
            if (qtype == u16(RrType::axfr))
                return finish(u16(Rcode::notimp)); // RFC 5936 4.2: AXFR is for TCP
            // RFC 1995 2: an IXFR over UDP that cannot be answered in full gets the SOA.
            h.flags |= flag::aa;
            Resolution r { w, q, m_options.minimal_responses, qtype };
            r.add_set(answer_section, q.question.name.wire(), *zone, zone->soa(), zone->soa().ttl);
            h.ancount = r.counts[answer_section];
            return finish(0);
        }
        if (!transfer)
            return finish(u16(Rcode::notimp));
        for (const auto& z : m_zones) {
            if (z.get() == zone)
                transfer->m_zone = z;
        }
        ++m_stats.transfers;
        transfer->m_phase = Transfer::Phase::first_soa;
        transfer->m_node = transfer->m_set = transfer->m_rdata = 0;
        transfer->m_id = q.header.id;
        transfer->m_flags = u16(flag::qr | flag::aa | (q.header.flags & (flag::rd | flag::cd)));
        transfer->m_question = q.question;
        return transfer->next(out);
    }

    Resolution r { w, q, m_options.minimal_responses, qtype };
    resolve_in_zone(*zone, r);
    h.ancount = r.counts[answer_section];
    h.nscount = r.counts[authority_section];
    h.arcount = r.counts[additional_section];
    if (r.aa)
        h.flags |= flag::aa;
    if (r.tc)
        h.flags |= flag::tc;
    return finish(r.rcode);
}

void Server::resolve_in_zone(const Zone& zone, Resolution& r)
{
    const usize apex_labels = zone.origin().label_count();
    // The name being looked up: the question, then each CNAME's target. `owner` is how it is
    // written (the question in the client's case, targets as the zone has them).
    std::array<u8, max_name_length> current_storage;
    std::span<const u8> current(current_storage.data(), r.q.canonical_name.length());
    std::memcpy(current_storage.data(), r.q.canonical_name.wire().data(), current.size());
    std::span<const u8> owner = r.q.question.name.wire();
    usize labels = r.q.canonical_name.label_count();
    const bool any = r.qtype == u16(RrType::any);

    for (usize chain = 0;; ++chain) {
        // A delegation on the way down from the apex: refer (RFC 1034 4.3.2 step 3b). DS
        // belongs to the parent side of its cut.
        const Node* cut = nullptr;
        for (usize depth = apex_labels + 1; depth <= labels; ++depth) {
            usize at = 0;
            for (usize k = 0; k < labels - depth; ++k)
                at += 1 + usize(current[at]);
            const Node* node = zone.find(current.subspan(at));
            if (!node)
                break;
            if (node->is_cut && !(depth == labels && r.qtype == u16(RrType::ds))) {
                cut = node;
                break;
            }
        }
        if (cut) {
            if (chain == 0)
                r.aa = false;
            const RecordSet* ns = zone.find_set(*cut, u16(RrType::ns));
            r.need_set(authority_section, zone.owner(*cut), zone, *ns, ns->ttl);
            r.collect_targets(zone, *ns, true);
            r.add_additional(zone, true);
            return;
        }

        const Node* node = zone.find(current);
        std::span<const u8> data_owner = owner;
        if (!node) {
            // The closest encloser, then its wildcard (RFC 4592 3.3.1).
            usize at = 0;
            const Node* encloser = nullptr;
            while (!encloser) {
                at += 1 + usize(current[at]);
                encloser = zone.find(current.subspan(at));
            }
            std::array<u8, max_name_length + 2> wildcard;
            auto rest = current.subspan(at);
            wildcard[0] = 1;
            wildcard[1] = '*';
            std::memcpy(wildcard.data() + 2, rest.data(), rest.size());
            node = rest.size() + 2 <= max_name_length ? zone.find({ wildcard.data(), rest.size() + 2 }) : nullptr;
            if (!node) {
                r.rcode = u16(Rcode::nxdomain);
                r.need_set(authority_section, zone.origin().wire(), zone, zone.soa(), negative_ttl(zone));
                return;
            }
        }

        const RecordSet* cname = zone.find_set(*node, u16(RrType::cname));
        if (cname && r.qtype != u16(RrType::cname) && !any) {
            r.need_set(answer_section, data_owner, zone, *cname, cname->ttl);
            if (r.tc)
                return;
            auto target = name_in(zone.rdata(*cname, 0), 0);
            // Follow the chain while it stays in this zone and does not loop.
            if (!in_zone(target, zone))
                return; // the resolver goes on elsewhere: this zone has nothing to add
            std::array<u8, max_name_length> lower;
            lower_wire(target, lower.data());
            if (chain + 1 >= max_chain || wire_names_equal({ lower.data(), target.size() }, current))
                break; // a loop, or a chain longer than any resolver follows
            std::memcpy(current_storage.data(), lower.data(), target.size());
            current = { current_storage.data(), target.size() };
            owner = target;
            labels = 0;
            for (usize at = 0; current[at] != 0; at += 1 + usize(current[at]))
                ++labels;
            continue;
        }

        bool found = false;
        if (any && !zone.sets(*node).empty()) {
            // RFC 8482 4.2: one RRset answers ANY, so that ANY is no amplifier. The SOA at
            // the apex, elsewhere the first set by type.
            const RecordSet* set = node == &zone.apex() ? &zone.soa() : &zone.sets(*node).front();
            r.need_set(answer_section, data_owner, zone, *set, set->ttl);
            r.collect_targets(zone, *set, false);
            found = true;
        } else if (const RecordSet* set = zone.find_set(*node, r.qtype)) {
            r.need_set(answer_section, data_owner, zone, *set, set->ttl);
            r.collect_targets(zone, *set, false);
            r.apex_ns_in_answer = set->type == u16(RrType::ns) && node == &zone.apex();
            found = true;
        }
        if (r.tc)
            return;
        if (!found) {
            // NODATA (RFC 2308 2.2): the SOA says for how long.
            r.need_set(authority_section, zone.origin().wire(), zone, zone.soa(), negative_ttl(zone));
            return;
        }
        break;
    }
    // An ANY answer stays minimal too (RFC 8482).
    if (r.tc || r.minimal || any)
        return;
    if (!r.apex_ns_in_answer) {
        if (const RecordSet* ns = zone.find_set(zone.apex(), u16(RrType::ns))) {
            if (r.add_set(authority_section, zone.origin().wire(), zone, *ns, ns->ttl))
                r.collect_targets(zone, *ns, false);
        }
    }
    r.add_additional(zone, false);
}

usize Transfer::next(std::span<u8> out)
{
    if (!m_zone || m_phase == Phase::done) {
        m_zone = nullptr;
        return 0;
    }
    const Zone& zone = *m_zone;
    // Messages of up to 16 KiB: large enough to carry many records, small enough not to
    // hold a client's buffer hostage (what other servers do too).
    usize limit = out.size() < 16384 ? out.size() : 16384;
    Writer w(out, limit);
    std::array<u8, header_size> head {};
    VERIFY(w.put_bytes(head));
    Header h;
    h.id = m_id;
    h.flags = m_flags;
    if (m_phase == Phase::first_soa) {
        bool ok = w.put_name(m_question.name.wire(), false) && w.put_u16(m_question.type) && w.put_u16(m_question.klass);
        VERIFY(ok);
        h.qdcount = 1;
    }
    auto put = [&](std::span<const u8> owner, const RecordSet& set, usize i) {
        return w.put_name(owner) && w.put_u16(set.type) && w.put_u16(class_in) && w.put_u32(set.ttl)
            && write_rdata(w, set.type, zone.rdata(set, i));
    };
    u16 count = 0;
    auto apex = zone.origin().wire();
    if (m_phase == Phase::first_soa) {
        VERIFY(put(apex, zone.soa(), 0), "an SOA fits in a message");
        ++count;
        m_phase = Phase::body;
    }
    while (m_phase == Phase::body) {
        if (m_node >= zone.nodes().size()) {
            m_phase = Phase::last_soa;
            break;
        }
        const Node& node = zone.nodes()[m_node];
        auto sets = zone.sets(node);
        if (m_set >= sets.size()) {
            ++m_node;
            m_set = m_rdata = 0;
            continue;
        }
        const RecordSet& set = sets[m_set];
        if (&set == &zone.soa() || m_rdata >= set.count) {
            ++m_set;
            m_rdata = 0;
            continue;
        }
        Writer::Mark mark = w.mark();
        if (!put(zone.owner(node), set, m_rdata)) {
            w.rollback(mark);
            if (count > 0)
                break;
            // A record larger than the usual message gets a message of its own, as large as
            // it needs; one that cannot fit in any message (only possible with a 65535-byte
            // RDATA) is left out rather than stopping the transfer.
            w.set_limit(out.size() < max_message ? out.size() : max_message);
            if (!put(zone.owner(node), set, m_rdata)) {
                w.rollback(mark);
                ++m_rdata;
                continue;
            }
        }
        ++count;
        ++m_rdata;
    }
    if (m_phase == Phase::last_soa) {
        Writer::Mark mark = w.mark();
        if (put(apex, zone.soa(), 0)) {
            ++count;
            m_phase = Phase::done;
        } else {
            w.rollback(mark);
        }
    }
    h.ancount = count;
    write_header(out, h);
    return w.size();
}

} // namespace sarab::dns
