#include <sarab/services/dns/message.hpp>

namespace sarab::dns {

ErrorOr<void, QueryError> parse_query(std::span<const u8> message, Query& query, bool& has_question)
{
    has_question = false;
    Reader r(message);
    auto header = r.read_header();
    if (!header)
        return failure(QueryError::drop);
    query.header = *header;
    if (header->has(flag::qr))
        return failure(QueryError::drop);
    if (header->qdcount != 1)
        return failure(header->opcode() == Opcode::query ? QueryError::formerr : QueryError::notimp);

    // The question must be uncompressed: there is nothing before it to point at but the header.
    usize name_start = r.position();
    usize length = 0;
    for (;;) {
        auto len = r.read_u8();
        if (!len || (*len & 0xc0) || length + 1 + *len > max_name_length)
            return failure(QueryError::formerr);
        auto bytes = r.read_bytes(*len);
        if (!bytes)
            return failure(QueryError::formerr);
        length += 1 + *len;
        if (*len == 0)
            break;
    }
    auto qname = Name::from_wire(message.subspan(name_start, length));
    auto type = r.read_u16();
    auto klass = r.read_u16();
    if (!qname || !type || !klass)
        return failure(QueryError::formerr);
    query.question = { qname.release_value(), *type, *klass };
    query.canonical_name = query.question.name.canonical();
    query.question_end = r.position();
    has_question = true;

    if (header->opcode() != Opcode::query)
        return failure(QueryError::notimp);
    // A query carries no answers; records in the authority section are allowed (and
    // ignored) only for opcodes this server does not implement anyway.
    if (header->ancount != 0 || header->nscount != 0)
        return failure(QueryError::formerr);

    query.edns = {};
    for (u16 i = 0; i < header->arcount; ++i) {
        usize owner_at = r.position();
        if (!r.skip_name())
            return failure(QueryError::formerr);
        bool root_owner = r.position() == owner_at + 1 && message[owner_at] == 0;
        auto rtype = r.read_u16();
        auto rclass = r.read_u16();
        auto ttl = r.read_u32();
        auto rdlength = r.read_u16();
        if (!rtype || !rclass || !ttl || !rdlength || !r.read_bytes(*rdlength))
            return failure(QueryError::formerr);
        if (RrType(*rtype) != RrType::opt)
            continue; // TSIG and others: not supported, ignored
        // One OPT, owned by the root (RFC 6891 6.1.1).
        if (query.edns.present || !root_owner)
            return failure(QueryError::formerr);
        query.edns.present = true;
        query.edns.udp_size = *rclass;
        query.edns.version = u8(*ttl >> 16);
        query.edns.do_bit = (*ttl & edns_do_bit) != 0;
    }
    if (r.remaining() != 0)
        return failure(QueryError::formerr);
    return {};
}

namespace {

ErrorOr<void, ParseError> read_records(Reader& r, u16 count, std::vector<Record>& out, std::vector<u8>& rdata)
{
    out.reserve(count);
    for (u16 i = 0; i < count; ++i) {
        Record rec;
        rec.owner = TRY(r.read_name());
        rec.type = TRY(r.read_u16());
        rec.klass = TRY(r.read_u16());
        rec.ttl = TRY(r.read_u32());
        u16 length = TRY(r.read_u16());
        usize n = TRY(read_rdata(r, rec.type, length, rdata));
        rec.rdata.assign(rdata.begin(), rdata.begin() + std::ptrdiff_t(n));
        out.push_back(std::move(rec));
    }
    return {};
}

} // namespace

ErrorOr<Message, ParseError> Message::parse(std::span<const u8> bytes)
{
    Reader r(bytes);
    Message m;
    m.header = TRY(r.read_header());
    m.questions.reserve(m.header.qdcount < 16 ? m.header.qdcount : 16);
    for (u16 i = 0; i < m.header.qdcount; ++i) {
        Question q;
        q.name = TRY(r.read_name());
        q.type = TRY(r.read_u16());
        q.klass = TRY(r.read_u16());
        m.questions.push_back(q);
    }
    // Room for the largest RDATA once its names are decompressed.
    std::vector<u8> rdata(max_message + 2 * max_name_length);
    TRY(read_records(r, m.header.ancount, m.answers, rdata));
    TRY(read_records(r, m.header.nscount, m.authority, rdata));
    TRY(read_records(r, m.header.arcount, m.additional, rdata));
    if (r.remaining() != 0)
        return failure(ParseError::bad_counts);
    return m;
}

ErrorOr<usize, ParseError> Message::emit(std::span<u8> out) const
{
    Writer w(out, out.size() < max_message ? out.size() : max_message);
    Header h = header;
    h.qdcount = u16(questions.size());
    h.ancount = u16(answers.size());
    h.nscount = u16(authority.size());
    h.arcount = u16(additional.size());
    std::array<u8, header_size> head;
    write_header(head, h);
    if (!w.put_bytes(head))
        return failure(ParseError::truncated);
    for (const auto& q : questions) {
        if (!w.put_name(q.name.wire()) || !w.put_u16(q.type) || !w.put_u16(q.klass))
            return failure(ParseError::truncated);
    }
    for (const auto* section : { &answers, &authority, &additional }) {
        for (const auto& rec : *section) {
            bool ok = w.put_name(rec.owner.wire()) && w.put_u16(rec.type) && w.put_u16(rec.klass)
                && w.put_u32(rec.ttl) && write_rdata(w, rec.type, rec.rdata);
            if (!ok)
                return failure(ParseError::truncated);
        }
    }
    return w.size();
}

} // namespace sarab::dns
