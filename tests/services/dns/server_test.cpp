// The authoritative answers of RFC 1034 4.3.2, RFC 2308 and RFC 4592, one case at a time.
#include "dns_test_support.hpp"

#include <sarab/services/dns/loader.hpp>
#include <sarab/storage/store.hpp>

using namespace sarab;
using namespace sarab::dns;
using namespace sarab::dns::test;
using V = std::vector<std::string>;

namespace {

constexpr std::string_view example_zone = R"($ORIGIN example.org.
$TTL 3600
@         SOA   ns1 hostmaster 7 7200 1800 1209600 300
          NS    ns1
          NS    ns2.example.net.
          MX    10 mail
ns1       A     198.18.0.53
mail      A     198.18.0.25
          AAAA  2001:db8::25
www       A     198.18.0.80
          A     198.18.0.81
alias     CNAME www
chain1    CNAME chain2
chain2    CNAME www
outside   CNAME www.example.net.
dangling  CNAME nothing
loop1     CNAME loop2
loop2     CNAME loop1
*.wild    A     198.18.1.1
*.wild    MX    10 mail
sub.wild  TXT   "exists"
*.cw      CNAME www
a.b.ent   A     198.18.2.1
*.ent     A     198.18.2.2
child     NS    ns1.child
          NS    ns.example.net.
ns1.child A     198.18.3.1
          AAAA  2001:db8:3::1
_sip._tcp SRV   0 0 5060 mail
)";

Server make_server(ServerOptions options = {})
{
    Server s(options);
    s.add_zone(zone(example_zone));
    return s;
}

constexpr u16 noerror = 0, formerr = 1, nxdomain = 3, notimp = 4, refused = 5, notauth = 9;
const std::string soa_negative = "example.org. 300 soa ns1.example.org. hostmaster.example.org. 7 7200 1800 1209600 300";
const std::string apex_ns1 = "example.org. 3600 ns ns1.example.org.";
const std::string apex_ns2 = "example.org. 3600 ns ns2.example.net.";

QueryOptions edns(u16 size = 1232)
{
    QueryOptions o;
    o.edns = true;
    o.udp_size = size;
    return o;
}

} // namespace

TEST(DnsServer, AnswersAuthoritatively)
{
    Server s = make_server();
    auto r = ask(s, "www.example.org.", RrType::a);
    EXPECT_EQ(r.rcode(), noerror);
    EXPECT_TRUE(r.has(flag::qr));
    EXPECT_TRUE(r.has(flag::aa));
    EXPECT_TRUE(r.has(flag::rd)); // copied from the query
    EXPECT_FALSE(r.has(flag::ra));
    EXPECT_FALSE(r.has(flag::tc));
    EXPECT_EQ(r.message.header.id, 0x1234);
    ASSERT_EQ(r.message.questions.size(), 1u);
    EXPECT_EQ(r.answer(), (V { "www.example.org. 3600 a 198.18.0.80", "www.example.org. 3600 a 198.18.0.81" }));
    // Not minimal: the zone's NS in authority, the addresses of the in-zone one in additional.
    EXPECT_EQ(r.authority(), (V { apex_ns1, apex_ns2 }));
    EXPECT_EQ(r.additional(), (V { "ns1.example.org. 3600 a 198.18.0.53" }));
}

TEST(DnsServer, AdditionalAddressesForMxAndSrv)
{
    Server s = make_server();
    auto mx = ask(s, "example.org.", RrType::mx);
    EXPECT_EQ(mx.answer(), (V { "example.org. 3600 mx 10 mail.example.org." }));
    EXPECT_EQ(mx.additional(), (V { "mail.example.org. 3600 a 198.18.0.25", "mail.example.org. 3600 aaaa 2001:db8:0:0:0:0:0:25",
                                   "ns1.example.org. 3600 a 198.18.0.53" }));
    auto srv = ask(s, "_sip._tcp.example.org.", RrType::srv);
    EXPECT_EQ(srv.answer(), (V { "_sip._tcp.example.org. 3600 srv 0 0 5060 mail.example.org." }));
    EXPECT_EQ(srv.additional().front(), "mail.example.org. 3600 a 198.18.0.25");
    // Asking for the apex NS puts them in the answer, not again in authority.
    auto ns = ask(s, "example.org.", RrType::ns);
    EXPECT_EQ(ns.answer(), (V { apex_ns1, apex_ns2 }));
    EXPECT_TRUE(ns.authority().empty());
    EXPECT_EQ(ns.additional(), (V { "ns1.example.org. 3600 a 198.18.0.53" }));
}

TEST(DnsServer, MinimalResponsesLeaveOutAuthorityAndAdditional)
{
    ServerOptions o;
    o.minimal_responses = true;
    Server s = make_server(o);
    auto r = ask(s, "example.org.", RrType::mx);
    EXPECT_EQ(r.answer(), (V { "example.org. 3600 mx 10 mail.example.org." }));
    EXPECT_TRUE(r.authority().empty());
    EXPECT_TRUE(r.additional().empty());
    // Referrals keep their glue, negative answers their SOA.
    auto ref = ask(s, "www.child.example.org.", RrType::a);
    EXPECT_EQ(ref.additional(), (V { "ns1.child.example.org. 3600 a 198.18.3.1", "ns1.child.example.org. 3600 aaaa 2001:db8:3:0:0:0:0:1" }));
    EXPECT_EQ(ask(s, "nothing.example.org.", RrType::a).authority(), (V { soa_negative }));
}

TEST(DnsServer, NxdomainCarriesTheSoaWithTheNegativeTtl)
{
    Server s = make_server();
    auto r = ask(s, "nothing.example.org.", RrType::a);
    EXPECT_EQ(r.rcode(), nxdomain);
    EXPECT_TRUE(r.has(flag::aa));
    EXPECT_TRUE(r.answer().empty());
    // TTL = min(SOA TTL 3600, MINIMUM 300) (RFC 2308 3).
    EXPECT_EQ(r.authority(), (V { soa_negative }));
    EXPECT_TRUE(r.additional().empty());

    // The other way round: an SOA TTL below MINIMUM wins.
    Server low;
    low.add_zone(zone("example.com. 60 SOA ns host 1 2 3 4 900\nexample.com. 60 NS ns.example.com.\n"));
    auto l = ask(low, "x.example.com.", RrType::a);
    EXPECT_EQ(l.authority(), (V { "example.com. 60 soa ns.example.com. host.example.com. 1 2 3 4 900" }));
}

TEST(DnsServer, NodataCarriesTheSoa)
{
    Server s = make_server();
    auto r = ask(s, "www.example.org.", RrType::aaaa);
    EXPECT_EQ(r.rcode(), noerror);
    EXPECT_TRUE(r.has(flag::aa));
    EXPECT_TRUE(r.answer().empty());
    EXPECT_EQ(r.authority(), (V { soa_negative }));
    // An empty non-terminal exists (RFC 4592 2.2.2): NODATA, not NXDOMAIN, and it is not
    // covered by *.ent either.
    auto ent = ask(s, "b.ent.example.org.", RrType::a);
    EXPECT_EQ(ent.rcode(), noerror);
    EXPECT_TRUE(ent.answer().empty());
    EXPECT_EQ(ent.authority(), (V { soa_negative }));
}

TEST(DnsServer, FollowsCnameChainsInsideTheZone)
{
    Server s = make_server();
    auto one = ask(s, "alias.example.org.", RrType::a);
    EXPECT_EQ(one.rcode(), noerror);
    EXPECT_EQ(one.answer(), (V { "alias.example.org. 3600 cname www.example.org.", "www.example.org. 3600 a 198.18.0.80",
                                "www.example.org. 3600 a 198.18.0.81" }));
    auto chain = ask(s, "chain1.example.org.", RrType::a);
    EXPECT_EQ(chain.answer().size(), 4u);
    EXPECT_EQ(chain.answer()[1], "chain2.example.org. 3600 cname www.example.org.");
    // A CNAME asked for is answered, not followed.
    EXPECT_EQ(ask(s, "alias.example.org.", RrType::cname).answer(), (V { "alias.example.org. 3600 cname www.example.org." }));
    // Out of the zone: the CNAME alone, for the resolver to follow.
    auto out = ask(s, "outside.example.org.", RrType::a);
    EXPECT_EQ(out.rcode(), noerror);
    EXPECT_EQ(out.answer(), (V { "outside.example.org. 3600 cname www.example.net." }));
    // The rcode is that of the last name of the chain (RFC 6604).
    auto dangling = ask(s, "dangling.example.org.", RrType::a);
    EXPECT_EQ(dangling.rcode(), nxdomain);
    EXPECT_EQ(dangling.answer(), (V { "dangling.example.org. 3600 cname nothing.example.org." }));
    EXPECT_EQ(dangling.authority(), (V { soa_negative }));
    // NODATA at the end of a chain: the CNAME and the SOA.
    auto nodata = ask(s, "alias.example.org.", RrType::txt);
    EXPECT_EQ(nodata.rcode(), noerror);
    EXPECT_EQ(nodata.answer(), (V { "alias.example.org. 3600 cname www.example.org." }));
    EXPECT_EQ(nodata.authority(), (V { soa_negative }));
    // A target whose bytes end like the zone's name but whose labels do not is outside it.
    Server t;
    t.add_zone(zone(std::string(example_zone) + "odd CNAME x\\007example.org.\n"));
    auto odd = ask(t, "odd.example.org.", RrType::a);
    EXPECT_EQ(odd.rcode(), noerror);
    EXPECT_EQ(odd.answer().size(), 1u);
    EXPECT_TRUE(odd.authority().empty());
    // A loop ends.
    auto loop = ask(s, "loop1.example.org.", RrType::a);
    EXPECT_EQ(loop.rcode(), noerror);
    EXPECT_GE(loop.answer().size(), 2u);
    EXPECT_LE(loop.answer().size(), 12u);
}

TEST(DnsServer, WildcardsSynthesizeFromTheClosestEncloser)
{
    Server s = make_server();
    auto r = ask(s, "anything.wild.example.org.", RrType::a);
    EXPECT_EQ(r.rcode(), noerror);
    EXPECT_TRUE(r.has(flag::aa));
    EXPECT_EQ(r.answer(), (V { "anything.wild.example.org. 3600 a 198.18.1.1" })); // owner is the question
    // Several labels below the closest encloser are covered too.
    EXPECT_EQ(ask(s, "a.b.c.wild.example.org.", RrType::a).answer(), (V { "a.b.c.wild.example.org. 3600 a 198.18.1.1" }));
    // The wildcard's additional processing: MX target addresses.
    auto mx = ask(s, "x.wild.example.org.", RrType::mx);
    EXPECT_EQ(mx.answer(), (V { "x.wild.example.org. 3600 mx 10 mail.example.org." }));
    EXPECT_EQ(mx.additional().front(), "mail.example.org. 3600 a 198.18.0.25");
    // NODATA from a wildcard.
    auto nodata = ask(s, "x.wild.example.org.", RrType::txt);
    EXPECT_EQ(nodata.rcode(), noerror);
    EXPECT_TRUE(nodata.answer().empty());
    EXPECT_EQ(nodata.authority(), (V { soa_negative }));
    // A name that exists is not covered by the wildcard beside it...
    auto exists = ask(s, "sub.wild.example.org.", RrType::a);
    EXPECT_EQ(exists.rcode(), noerror);
    EXPECT_TRUE(exists.answer().empty());
    // ...and below it the closest encloser is sub.wild, which has no wildcard: NXDOMAIN.
    EXPECT_EQ(ask(s, "x.sub.wild.example.org.", RrType::a).rcode(), nxdomain);
    // The wildcard's own name can be asked for.
    EXPECT_EQ(ask(s, "*.wild.example.org.", RrType::a).answer(), (V { "*.wild.example.org. 3600 a 198.18.1.1" }));
    // Below an empty non-terminal that has no wildcard of its own: NXDOMAIN (RFC 4592 2.2.2).
    EXPECT_EQ(ask(s, "x.b.ent.example.org.", RrType::a).rcode(), nxdomain);
    // *.ent covers names of ent that do not exist.
    EXPECT_EQ(ask(s, "x.ent.example.org.", RrType::a).answer(), (V { "x.ent.example.org. 3600 a 198.18.2.2" }));
}

TEST(DnsServer, WildcardCnamesAreFollowed)
{
    Server s = make_server();
    auto r = ask(s, "foo.cw.example.org.", RrType::a);
    EXPECT_EQ(r.rcode(), noerror);
    EXPECT_EQ(r.answer(), (V { "foo.cw.example.org. 3600 cname www.example.org.", "www.example.org. 3600 a 198.18.0.80",
                              "www.example.org. 3600 a 198.18.0.81" }));
}

TEST(DnsServer, RefersAtDelegations)
{
    Server s = make_server();
    for (const char* q : { "child.example.org.", "www.child.example.org.", "a.b.child.example.org.", "ns1.child.example.org." }) {
        auto r = ask(s, q, RrType::a);
        EXPECT_EQ(r.rcode(), noerror) << q;
        EXPECT_FALSE(r.has(flag::aa)) << q;
        EXPECT_TRUE(r.answer().empty()) << q;
        EXPECT_EQ(r.authority(), (V { "child.example.org. 3600 ns ns.example.net.", "child.example.org. 3600 ns ns1.child.example.org." })) << q;
        // Glue for the name under the cut; none for the one out of the zone.
        EXPECT_EQ(r.additional(), (V { "ns1.child.example.org. 3600 a 198.18.3.1", "ns1.child.example.org. 3600 aaaa 2001:db8:3:0:0:0:0:1" })) << q;
    }
    // The NS of a cut are the child's: a referral too.
    EXPECT_FALSE(ask(s, "child.example.org.", RrType::ns).has(flag::aa));
    // DS belongs to the parent: an authoritative NODATA, not a referral.
    auto ds = ask(s, "child.example.org.", RrType::ds);
    EXPECT_TRUE(ds.has(flag::aa));
    EXPECT_EQ(ds.authority(), (V { soa_negative }));
    // A CNAME into a delegation: the CNAME, then the referral.
    Server t;
    t.add_zone(zone(std::string(example_zone) + "into CNAME www.child\n"));
    auto into = ask(t, "into.example.org.", RrType::a);
    EXPECT_TRUE(into.has(flag::aa));
    EXPECT_EQ(into.answer(), (V { "into.example.org. 3600 cname www.child.example.org." }));
    EXPECT_EQ(into.authority().size(), 2u);
}

TEST(DnsServer, RefusesWhatItDoesNotServe)
{
    Server s = make_server();
    for (const char* q : { "www.example.net.", "org.", ".", "example.org.uk." }) {
        auto r = ask(s, q, RrType::a);
        EXPECT_EQ(r.rcode(), refused) << q;
        EXPECT_FALSE(r.has(flag::aa)) << q;
        EXPECT_TRUE(r.answer().empty());
    }
    QueryOptions chaos;
    chaos.klass = 3;
    EXPECT_EQ(ask(s, "version.bind.", RrType::txt, chaos).rcode(), refused);
    QueryOptions any_class;
    any_class.klass = 255;
    EXPECT_EQ(ask(s, "www.example.org.", RrType::a, any_class).rcode(), noerror);
}

TEST(DnsServer, FormerrNotimpAndSilence)
{
    Server s = make_server();
    auto q = make_query("www.example.org.", RrType::a);
    // No question.
    auto empty = q;
    empty.resize(header_size);
    empty[5] = 0;
    auto r = ask(s, empty);
    EXPECT_EQ(r.rcode(), formerr);
    EXPECT_EQ(r.message.header.id, 0x1234);
    EXPECT_TRUE(r.message.questions.empty());
    // A question cut short.
    auto cut = q;
    cut.resize(cut.size() - 2);
    EXPECT_EQ(ask(s, cut).rcode(), formerr);
    // UPDATE (opcode 5): not implemented; the question is echoed.
    auto update = q;
    update[2] = 0x28;
    auto u = ask(s, update);
    EXPECT_EQ(u.rcode(), notimp);
    EXPECT_EQ((u.message.header.flags & flag::opcode_mask) >> 11, 5);
    EXPECT_EQ(u.message.questions.size(), 1u);
    // A response, or a runt, gets nothing back.
    auto response = q;
    response[2] |= 0x80;
    EXPECT_EQ(ask(s, response).size, 0u);
    EXPECT_EQ(ask(s, std::span<const u8>(q.data(), 5)).size, 0u);
    EXPECT_EQ(s.stats().dropped, 2u);
    // MAILA is obsolete.
    EXPECT_EQ(ask(s, "www.example.org.", RrType::maila).rcode(), notimp);
}

TEST(DnsServer, EdnsSizeVersionAndDo)
{
    Server s = make_server();
    auto plain = ask(s, "www.example.org.", RrType::a);
    EXPECT_EQ(plain.opt(), nullptr);
    QueryOptions o = edns(4096);
    o.do_bit = true;
    auto r = ask(s, "www.example.org.", RrType::a, o);
    ASSERT_NE(r.opt(), nullptr);
    EXPECT_EQ(r.opt()->klass, 1232); // ours
    EXPECT_EQ(r.opt()->ttl, u32(edns_do_bit));
    EXPECT_TRUE(r.opt()->owner.is_root());
    // EDNS version 1: BADVERS (16), extended rcode 1 in the OPT.
    auto v1 = make_query("www.example.org.", RrType::a, edns());
    v1[v1.size() - 5] = 1; // the OPT TTL's version byte
    auto bad = ask(s, v1);
    EXPECT_EQ(bad.rcode(), 0);
    ASSERT_NE(bad.opt(), nullptr);
    EXPECT_EQ(bad.opt()->ttl >> 24, 1u);
}

namespace {

// A zone with an RRset too large for 512 bytes.
std::string big_zone()
{
    std::string z = "$ORIGIN example.com.\n$TTL 60\n@ SOA ns host 1 2 3 4 5\n NS ns\nns A 198.18.0.1\n";
    for (int i = 0; i < 40; ++i)
        z += "big A 198.18.4." + std::to_string(i + 1) + "\n";
    z += "mx MX 10 big\n";
    return z;
}

} // namespace

TEST(DnsServer, TruncatesOverUdpAndAnswersInFullOverTcp)
{
    Server s;
    s.add_zone(zone(big_zone()));
    // 40 A records of 16 bytes: 640 bytes > 512.
    auto udp = ask(s, "big.example.com.", RrType::a);
    EXPECT_TRUE(udp.has(flag::tc));
    EXPECT_LE(udp.size, 512u);
    EXPECT_TRUE(udp.answer().empty()); // the RRset is whole or not there
    // With EDNS the client's size (capped by ours) is the limit.
    auto large = ask(s, "big.example.com.", RrType::a, edns(4096));
    EXPECT_FALSE(large.has(flag::tc));
    EXPECT_EQ(large.answer().size(), 40u);
    auto small = ask(s, "big.example.com.", RrType::a, edns(600));
    EXPECT_TRUE(small.has(flag::tc));
    EXPECT_LE(small.size, 600u);
    ASSERT_NE(small.opt(), nullptr); // the OPT is kept even when truncated
    // TCP has room for everything.
    auto tcp = ask(s, "big.example.com.", RrType::a, {}, Transport::tcp);
    EXPECT_FALSE(tcp.has(flag::tc));
    EXPECT_EQ(tcp.answer().size(), 40u);
    // Additional records that do not fit are left out without TC (RFC 2181 9).
    auto mx = ask(s, "mx.example.com.", RrType::mx);
    EXPECT_FALSE(mx.has(flag::tc));
    EXPECT_EQ(mx.answer().size(), 1u);
    auto additional = mx.additional();
    EXPECT_TRUE(std::none_of(additional.begin(), additional.end(), [](auto& t) { return t.starts_with("big."); }));
}

TEST(DnsServer, MemoisesAnswersAndPatchesIdCaseAndFlags)
{
    Server s = make_server();
    auto first = ask(s, "www.example.org.", RrType::a);
    EXPECT_EQ(s.stats().memo_hits, 0u);
    QueryOptions o;
    o.id = 0x4321;
    o.flags = flag::cd; // RD clear, CD set
    auto second = ask(s, "WwW.eXaMpLe.OrG.", RrType::a, o);
    EXPECT_EQ(s.stats().memo_hits, 1u);
    EXPECT_EQ(second.message.header.id, 0x4321);
    EXPECT_FALSE(second.has(flag::rd));
    EXPECT_TRUE(second.has(flag::cd));
    EXPECT_TRUE(second.has(flag::aa));
    // The question, and the owner compressed against it, come back in the client's case.
    InlineFormatBuffer<128> b;
    format_to(b, "{} {}", second.message.questions[0].name, second.message.answers[0].owner);
    EXPECT_EQ(b.view(), "WwW.eXaMpLe.OrG. WwW.eXaMpLe.OrG.");
    EXPECT_EQ(second.answer(), first.answer());
    EXPECT_EQ(second.authority(), first.authority());
    // A different EDNS size or transport is a different answer.
    (void)ask(s, "www.example.org.", RrType::a, edns());
    EXPECT_EQ(s.stats().memo_hits, 1u);
    (void)ask(s, "www.example.org.", RrType::a, edns());
    EXPECT_EQ(s.stats().memo_hits, 2u);
}

TEST(DnsServer, ZoneChangesDropMemoisedAnswers)
{
    Server s = make_server();
    EXPECT_EQ(ask(s, "www.example.org.", RrType::a).answer().size(), 2u);
    EXPECT_EQ(ask(s, "www.example.org.", RrType::a).answer().size(), 2u);
    EXPECT_EQ(s.stats().memo_hits, 1u);
    s.add_zone(zone("$ORIGIN example.org.\n$TTL 60\n@ SOA ns1 h 8 1 1 1 1\n NS ns1\nns1 A 198.18.0.53\nwww A 198.18.9.9\n"));
    EXPECT_EQ(s.zone_count(), 1u); // replaced
    EXPECT_EQ(ask(s, "www.example.org.", RrType::a).answer(), (V { "www.example.org. 60 a 198.18.9.9" }));
    EXPECT_EQ(s.stats().memo_hits, 1u);
    EXPECT_TRUE(s.remove_zone(name("EXAMPLE.org.")));
    EXPECT_EQ(ask(s, "www.example.org.", RrType::a).rcode(), refused);
}

TEST(DnsServer, ServesManyZonesMostSpecificFirst)
{
    Server s = make_server();
    s.add_zone(zone("$ORIGIN sub.example.org.\n$TTL 60\n@ SOA ns h 1 1 1 1 1\n NS ns\nns A 198.18.7.1\nwww A 198.18.7.80\n"));
    s.add_zone(zone("$ORIGIN example.net.\n$TTL 60\n@ SOA ns h 1 1 1 1 1\n NS ns\nns A 198.18.8.1\n"));
    EXPECT_EQ(s.zone_count(), 3u);
    EXPECT_EQ(ask(s, "www.sub.example.org.", RrType::a).answer(), (V { "www.sub.example.org. 60 a 198.18.7.80" }));
    EXPECT_EQ(ask(s, "www.example.org.", RrType::a).answer().size(), 2u);
    EXPECT_EQ(ask(s, "ns.example.net.", RrType::a).answer(), (V { "ns.example.net. 60 a 198.18.8.1" }));
}

TEST(DnsServer, AnyGivesOneSet)
{
    // RFC 8482: one RRset, so that ANY cannot amplify; the SOA at the apex.
    Server s = make_server();
    EXPECT_EQ(ask(s, "mail.example.org.", RrType::any).answer(), (V { "mail.example.org. 3600 a 198.18.0.25" }));
    EXPECT_EQ(ask(s, "example.org.", RrType::any).answer(),
        (V { "example.org. 3600 soa ns1.example.org. hostmaster.example.org. 7 7200 1800 1209600 300" }));
    EXPECT_EQ(ask(s, "alias.example.org.", RrType::any).answer(), (V { "alias.example.org. 3600 cname www.example.org." }));
    auto ent = ask(s, "b.ent.example.org.", RrType::any);
    EXPECT_TRUE(ent.answer().empty());
    EXPECT_EQ(ent.authority(), (V { soa_negative }));
}

TEST(DnsServer, TransfersZonesOverTcpOnly)
{
    Server s = make_server();
    auto q = make_query("example.org.", RrType::axfr);
    std::vector<u8> out(max_message);
    Transfer transfer;
    usize n = s.answer(q, Transport::tcp, out, &transfer);
    std::vector<Record> all;
    int messages = 0;
    while (n > 0) {
        auto m = Message::parse({ out.data(), n });
        ASSERT_TRUE(m.has_value());
        EXPECT_EQ(m->header.id, 0x1234);
        EXPECT_TRUE(m->header.has(flag::aa));
        EXPECT_EQ(m->questions.size(), messages == 0 ? 1u : 0u);
        all.insert(all.end(), m->answers.begin(), m->answers.end());
        ++messages;
        n = transfer.next(out);
    }
    EXPECT_FALSE(transfer.active());
    ASSERT_GE(all.size(), 2u);
    EXPECT_EQ(all.front().type, u16(RrType::soa));
    EXPECT_EQ(all.back().type, u16(RrType::soa));
    EXPECT_EQ(all.size(), s.zone_for(name("example.org."))->record_count() + 1); // the SOA twice
    EXPECT_EQ(s.stats().transfers, 1u);

    EXPECT_EQ(ask(s, "example.org.", RrType::axfr).rcode(), notimp); // over UDP
    std::vector<u8> out2(max_message);
    Transfer t2;
    auto sub = make_query("www.example.org.", RrType::axfr);
    usize m = s.answer(sub, Transport::tcp, out2, &t2);
    ASSERT_GT(m, 0u);
    EXPECT_EQ(load_u16(out2.data() + 2) & flag::rcode_mask, notauth);
    EXPECT_FALSE(t2.active());
    // IXFR over UDP: the SOA, to send the client to TCP.
    auto ixfr = ask(s, "example.org.", RrType::ixfr);
    EXPECT_EQ(ixfr.answer().size(), 1u);
}

TEST(DnsServer, LargeTransfersSpanMessages)
{
    std::string z = "$ORIGIN example.com.\n$TTL 60\n@ SOA ns host 1 2 3 4 5\n NS ns\nns A 198.18.0.1\n";
    for (int i = 0; i < 3000; ++i)
        z += "h" + std::to_string(i) + " A 198.18." + std::to_string(i / 250) + "." + std::to_string(i % 250) + "\n";
    Server s;
    s.add_zone(zone(z));
    auto q = make_query("example.com.", RrType::axfr);
    std::vector<u8> out(max_message);
    Transfer transfer;
    usize n = s.answer(q, Transport::tcp, out, &transfer);
    usize records = 0;
    int messages = 0;
    while (n > 0) {
        EXPECT_LE(n, 16384u);
        auto m = Message::parse({ out.data(), n });
        ASSERT_TRUE(m.has_value());
        records += m->answers.size();
        ++messages;
        n = transfer.next(out);
    }
    EXPECT_GT(messages, 1);
    EXPECT_EQ(records, 3000u + 2 + 1 + 1);
}

TEST(DnsServer, LoadsEveryZoneOfAStoreOrNone)
{
    auto bytes = [](std::string_view s) {
        auto b = std::as_bytes(std::span(s));
        return std::vector<std::byte>(b.begin(), b.end());
    };
    {
        auto c = std::make_unique<storage::OwnedContents>();
        c->add("example.org.zone", bytes(example_zone));
        c->add("example.net", bytes("$TTL 60\n@ SOA ns h 1 1 1 1 1\n NS ns\nns A 198.18.8.1\n"));
        c->add(".hidden", bytes("not a zone"));
        ASSERT_TRUE(c->finish());
        storage::ReadOnlyStore store { "dns-test-zones", "test" };
        store.set_contents(std::move(c));
        Server s;
        auto loaded = load_zones(store, s);
        ASSERT_TRUE(loaded.has_value()) << zone_error_text(loaded.error());
        EXPECT_EQ(loaded->zones, 2u);
        EXPECT_EQ(s.zone_count(), 2u);
        EXPECT_EQ(ask(s, "ns.example.net.", RrType::a).answer(), (V { "ns.example.net. 60 a 198.18.8.1" }));
    }
    {
        auto c = std::make_unique<storage::OwnedContents>();
        c->add("a.example.zone", bytes("$TTL 60\n@ SOA ns h 1 1 1 1 1\n NS ns\nns A 198.18.8.1\n"));
        c->add("b.example.zone", bytes("$TTL 60\n@ SOA ns h 1 1 1 1 1\n NS ns\nns A 198.18.8\n"));
        ASSERT_TRUE(c->finish());
        storage::ReadOnlyStore store { "dns-test-bad", "test" };
        store.set_contents(std::move(c));
        Server s;
        auto loaded = load_zones(store, s);
        ASSERT_FALSE(loaded.has_value());
        EXPECT_EQ(zone_error_text(loaded.error()), "b.example.zone:4: bad RDATA: bad IPv4 address '198.18.8' (A record)");
        EXPECT_EQ(s.zone_count(), 0u); // not even the good one
    }
}
