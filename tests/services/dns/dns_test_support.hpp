// Helpers for the DNS tests: building queries, asking a Server, reading the answer.
#pragma once

#include <sarab/services/dns/message.hpp>
#include <sarab/services/dns/rdata.hpp>
#include <sarab/services/dns/server.hpp>
#include <sarab/services/dns/zone.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sarab::dns::test {

inline Name name(std::string_view text)
{
    auto n = Name::parse(text);
    EXPECT_TRUE(n.has_value()) << text;
    return n ? *n : Name();
}

struct QueryOptions {
    u16 id = 0x1234;
    u16 flags = flag::rd;
    bool edns = false;
    u16 udp_size = 1232;
    bool do_bit = false;
    u16 klass = 1;
};

inline std::vector<u8> make_query(std::string_view qname, RrType type, QueryOptions o = {})
{
    Message m;
    m.header.id = o.id;
    m.header.flags = o.flags;
    m.questions.push_back({ name(qname), u16(type), o.klass });
    if (o.edns) {
        Record opt;
        opt.type = u16(RrType::opt);
        opt.klass = o.udp_size;
        opt.ttl = o.do_bit ? edns_do_bit : 0;
        m.additional.push_back(opt);
    }
    std::vector<u8> out(512);
    auto n = m.emit(out);
    EXPECT_TRUE(n.has_value());
    out.resize(n ? *n : 0);
    return out;
}

inline std::string zone_error_text(const ZoneError& e)
{
    InlineFormatBuffer<256> b;
    format_to(b, "{}", e);
    return std::string(b.view());
}

inline Zone zone(std::string_view text, std::string_view file = "test.zone")
{
    auto z = parse_zone(text, file, nullptr);
    if (!z) {
        ADD_FAILURE() << zone_error_text(z.error());
        return Zone();
    }
    return z.release_value();
}

// The presentation form of a record: "www.example.org. 3600 A 198.18.0.80", names lower-case.
inline std::string text(const Record& r)
{
    InlineFormatBuffer<1024> b;
    format_to(b, "{} {} ", r.owner.canonical(), r.ttl);
    format_type(b, r.type);
    b.append(' ');
    format_rdata(b, r.type, r.rdata);
    std::string s(b.view());
    for (auto& c : s)
        c = char(ascii_lower(u8(c)));
    return s;
}

inline std::vector<std::string> texts(const std::vector<Record>& rs)
{
    std::vector<std::string> out;
    for (const auto& r : rs) {
        if (r.type != u16(RrType::opt))
            out.push_back(text(r));
    }
    return out;
}

struct Reply {
    Message message;
    usize size = 0;
    u16 rcode() const { return message.header.flags & flag::rcode_mask; }
    bool has(u16 f) const { return (message.header.flags & f) != 0; }
    std::vector<std::string> answer() const { return texts(message.answers); }
    std::vector<std::string> authority() const { return texts(message.authority); }
    std::vector<std::string> additional() const { return texts(message.additional); }
    const Record* opt() const
    {
        for (const auto& r : message.additional) {
            if (r.type == u16(RrType::opt))
                return &r;
        }
        return nullptr;
    }
};

inline Reply ask(Server& server, std::span<const u8> query, Transport t = Transport::udp)
{
    std::vector<u8> out(max_message);
    Reply reply;
    reply.size = server.answer(query, t, out);
    if (reply.size == 0)
        return reply;
    auto m = Message::parse({ out.data(), reply.size });
    EXPECT_TRUE(m.has_value()) << "the server's response does not parse";
    if (m)
        reply.message = m.release_value();
    return reply;
}

inline Reply ask(Server& server, std::string_view qname, RrType type, QueryOptions o = {}, Transport t = Transport::udp)
{
    auto q = make_query(qname, type, o);
    return ask(server, q, t);
}

} // namespace sarab::dns::test
