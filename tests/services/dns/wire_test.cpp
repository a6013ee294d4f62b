#include "dns_test_support.hpp"

using namespace sarab;
using namespace sarab::dns;
using sarab::dns::test::name;

namespace {

// A query for www.example.org A, ID 0xabcd, RD set, written out by hand.
const std::vector<u8> www_query {
    0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
    3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0, //
    0x00, 0x01, 0x00, 0x01,
};

std::vector<u8> header(u16 id, u16 flags, u16 qd, u16 an, u16 ns, u16 ar)
{
    return { u8(id >> 8), u8(id), u8(flags >> 8), u8(flags), 0, u8(qd), 0, u8(an), 0, u8(ns), 0, u8(ar) };
}

std::vector<u8> operator+(std::vector<u8> a, const std::vector<u8>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace

TEST(DnsWire, ParsesAQuery)
{
    Query q;
    bool has_question = false;
    ASSERT_TRUE(parse_query(www_query, q, has_question).has_value());
    EXPECT_TRUE(has_question);
    EXPECT_EQ(q.header.id, 0xabcd);
    EXPECT_TRUE(q.header.has(flag::rd));
    EXPECT_EQ(q.question.type, 1);
    EXPECT_EQ(q.question.klass, 1);
    EXPECT_TRUE(q.question.name == name("www.example.org."));
    EXPECT_FALSE(q.edns.present);
    EXPECT_EQ(q.question_end, www_query.size());
}

TEST(DnsWire, ParsesEdns)
{
    // OPT: root owner, type 41, UDP size 4096, TTL with DO, no options.
    auto q_bytes = www_query;
    q_bytes[11] = 1;
    q_bytes = q_bytes + std::vector<u8> { 0, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00 };
    Query q;
    bool has_question;
    ASSERT_TRUE(parse_query(q_bytes, q, has_question).has_value());
    EXPECT_TRUE(q.edns.present);
    EXPECT_EQ(q.edns.udp_size, 4096);
    EXPECT_TRUE(q.edns.do_bit);
    EXPECT_EQ(q.edns.version, 0);

    // Two OPT records, or one not owned by the root, are FORMERR (RFC 6891 6.1.1).
    auto two = q_bytes + std::vector<u8> { 0, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00 };
    two[11] = 2;
    EXPECT_EQ(parse_query(two, q, has_question).error(), QueryError::formerr);
    auto named = www_query + std::vector<u8> { 1, 'x', 0, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
    named[11] = 1;
    EXPECT_EQ(parse_query(named, q, has_question).error(), QueryError::formerr);
}

TEST(DnsWire, SaysWhatToDoWithBadQueries)
{
    Query q;
    bool has_question;
    EXPECT_EQ(parse_query(std::vector<u8>(11, 0), q, has_question).error(), QueryError::drop);
    auto response = www_query;
    response[2] |= 0x80;
    EXPECT_EQ(parse_query(response, q, has_question).error(), QueryError::drop);
    EXPECT_EQ(parse_query(header(1, 0, 0, 0, 0, 0), q, has_question).error(), QueryError::formerr);
    auto notify = www_query;
    notify[2] = 0x20; // opcode 4
    EXPECT_EQ(parse_query(notify, q, has_question).error(), QueryError::notimp);
    EXPECT_TRUE(has_question);
    auto cut = std::vector<u8>(www_query.begin(), www_query.end() - 3);
    EXPECT_EQ(parse_query(cut, q, has_question).error(), QueryError::formerr);
    auto trailing = www_query + std::vector<u8> { 0 };
    EXPECT_EQ(parse_query(trailing, q, has_question).error(), QueryError::formerr);
    auto with_answer = www_query;
    with_answer[7] = 1;
    EXPECT_EQ(parse_query(with_answer, q, has_question).error(), QueryError::formerr);
}

TEST(DnsWire, EmitsWithCompression)
{
    Message m;
    m.header.id = 0xabcd;
    m.header.flags = flag::qr | flag::aa | flag::rd;
    m.questions.push_back({ name("www.example.org."), 1, 1 });
    Record a { name("www.example.org."), 1, 1, 3600, { 198, 18, 0, 80 } };
    Record mx { name("example.org."), 15, 1, 60, {} };
    auto mail = name("mail.example.org.");
    mx.rdata = { 0, 10 };
    mx.rdata.insert(mx.rdata.end(), mail.wire().begin(), mail.wire().end());
    m.answers = { a, mx };
    std::vector<u8> out(512);
    auto n = m.emit(out);
    ASSERT_TRUE(n.has_value());
    out.resize(*n);
    auto expected = header(0xabcd, 0x8500, 1, 2, 0, 0)
        + std::vector<u8> { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0, 0, 1, 0, 1 }
        // www.example.org. A: the owner points at the question (offset 12)
        + std::vector<u8> { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 198, 18, 0, 80 }
        // example.org. MX 10 mail.example.org.: owner at offset 16, exchange "mail" + pointer
        + std::vector<u8> { 0xc0, 0x10, 0, 15, 0, 1, 0, 0, 0, 60, 0, 9, 0, 10, 4, 'm', 'a', 'i', 'l', 0xc0, 0x10 };
    EXPECT_EQ(out, expected);

    auto back = Message::parse(out);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->answers.size(), 2u);
    EXPECT_EQ(back->answers[1], mx); // the exchange comes back uncompressed
}

TEST(DnsWire, SrvTargetsAreNotCompressed)
{
    Message m;
    m.questions.push_back({ name("example.org."), 33, 1 });
    auto target = name("sip.example.org.");
    Record srv { name("_sip._tcp.example.org."), 33, 1, 60, { 0, 10, 0, 60, 0x13, 0xc4 } };
    srv.rdata.insert(srv.rdata.end(), target.wire().begin(), target.wire().end());
    m.answers = { srv };
    std::vector<u8> out(512);
    auto n = m.emit(out);
    ASSERT_TRUE(n.has_value());
    // RDLENGTH is the full 6 + 17 bytes: no pointer inside (RFC 2782, RFC 3597 4).
    usize rdlength_at = *n - 23 - 2;
    EXPECT_EQ(load_u16(out.data() + rdlength_at), 23);
}

TEST(DnsWire, PointerLoopsAndBadPointersAreRejected)
{
    auto base = header(1, 0x8000, 1, 0, 0, 0);
    // A pointer to itself.
    auto self = base + std::vector<u8> { 0xc0, 12, 0, 1, 0, 1 };
    EXPECT_EQ(Message::parse(self).error(), ParseError::bad_pointer);
    // A label, then a pointer back to that label: a loop through a backwards pointer.
    auto loop = base + std::vector<u8> { 1, 'a', 0xc0, 12, 0, 1, 0, 1 };
    EXPECT_EQ(Message::parse(loop).error(), ParseError::bad_pointer);
    // A pointer forwards.
    auto forward = base + std::vector<u8> { 0xc0, 14, 1, 'a', 0, 0, 1, 0, 1 };
    EXPECT_EQ(Message::parse(forward).error(), ParseError::bad_pointer);
    // A pointer past the end.
    auto past = base + std::vector<u8> { 0xff, 0xff, 0, 1, 0, 1 };
    EXPECT_EQ(Message::parse(past).error(), ParseError::bad_pointer);
    // The retired label types 0x40 and 0x80.
    auto extended = base + std::vector<u8> { 0x41, 0, 0, 1, 0, 1 };
    EXPECT_EQ(Message::parse(extended).error(), ParseError::bad_label);
    // A name cut short.
    auto cut = base + std::vector<u8> { 3, 'w', 'w' };
    EXPECT_EQ(Message::parse(cut).error(), ParseError::truncated);
}

TEST(DnsWire, CompressedNamesCannotGrowPast255Bytes)
{
    // A question of 63-byte labels, then answers whose owners add a label each in front of a
    // pointer to the previous one: the fifth owner would be longer than 255 bytes.
    std::vector<u8> m = header(1, 0x8000, 1, 5, 0, 0);
    std::vector<u8> label(64, 'x');
    label[0] = 63;
    m = m + label + std::vector<u8> { 0, 0, 1, 0, 1 };
    usize previous = 12;
    for (int i = 0; i < 5; ++i) {
        usize here = m.size();
        m = m + label + std::vector<u8> { u8(0xc0 | previous >> 8), u8(previous), 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4 };
        previous = here;
    }
    EXPECT_EQ(Message::parse(m).error(), ParseError::name_too_long);
}

TEST(DnsWire, RdataNamesStayInsideTheirRecord)
{
    // An NS record whose RDLENGTH is shorter than the name in it.
    auto m = header(1, 0x8000, 0, 1, 0, 0) + std::vector<u8> { 0, 0, 2, 0, 1, 0, 0, 0, 1, 0, 2, 3, 'a', 'b', 'c', 0 };
    EXPECT_EQ(Message::parse(m).error(), ParseError::bad_rdata);
    // An A record with RDLENGTH past the end.
    auto a = header(1, 0x8000, 0, 1, 0, 0) + std::vector<u8> { 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 8, 1, 2, 3, 4 };
    EXPECT_EQ(Message::parse(a).error(), ParseError::truncated);
}

TEST(DnsWire, WriterKeepsToItsLimitAndRollsBack)
{
    std::array<u8, 64> buffer {};
    Writer w(buffer, 18);
    EXPECT_TRUE(w.put_bytes(std::vector<u8>(12, 0)));
    auto mark = w.mark();
    EXPECT_TRUE(w.put_u32(1));
    EXPECT_FALSE(w.put_u32(2)); // 20 bytes: past the limit, nothing written
    EXPECT_EQ(w.size(), 16u);
    EXPECT_TRUE(w.put_u16(3));
    EXPECT_FALSE(w.put_u8(4));
    w.rollback(mark);
    EXPECT_EQ(w.size(), 12u);
}

TEST(DnsWire, CompressionIgnoresCase)
{
    std::array<u8, 512> buffer {};
    Writer w(buffer, buffer.size());
    ASSERT_TRUE(w.put_bytes(std::vector<u8>(12, 0)));
    ASSERT_TRUE(w.put_name(name("www.EXAMPLE.org.").wire()));
    usize before = w.size();
    ASSERT_TRUE(w.put_name(name("Mail.example.ORG.").wire()));
    // "Mail" and a pointer to the "EXAMPLE.org" written first (offset 16).
    EXPECT_EQ(w.size() - before, 5u + 2u);
    EXPECT_EQ(load_u16(buffer.data() + before + 5), 0xc000 | 16);
    // The same name again: one pointer.
    before = w.size();
    ASSERT_TRUE(w.put_name(name("WWW.example.org.").wire()));
    EXPECT_EQ(w.size() - before, 2u);
    EXPECT_EQ(load_u16(buffer.data() + before), 0xc000 | 12);
}
