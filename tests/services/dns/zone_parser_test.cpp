#include "dns_test_support.hpp"

using namespace sarab;
using namespace sarab::dns;
using namespace sarab::dns::test;

namespace {

// The records of a zone as text, in the zone's (canonical) order.
std::vector<std::string> records(const Zone& z)
{
    std::vector<std::string> out;
    for (const Node& n : z.nodes()) {
        auto owner = Name::from_wire(z.owner(n));
        for (const RecordSet& s : z.sets(n)) {
            for (u32 i = 0; i < s.count; ++i) {
                auto rd = z.rdata(s, i);
                Record r { *owner, s.type, 1, s.ttl, { rd.begin(), rd.end() } };
                out.push_back(text(r));
            }
        }
    }
    return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::string error_of(std::string_view text, std::string_view file = "zones/example.org.zone")
{
    auto origin = origin_from_file_name(file);
    auto z = parse_zone(text, file, origin ? &*origin : nullptr);
    if (z) {
        ADD_FAILURE() << "expected an error";
        return {};
    }
    return zone_error_text(z.error());
}

constexpr std::string_view head = "$ORIGIN example.org.\n$TTL 3600\n@ SOA ns1 host 1 7200 3600 1209600 300\n  NS ns1\n";

} // namespace

TEST(DnsZoneParser, ReadsTheMasterFormat)
{
    auto z = zone(R"(; a comment line
$ORIGIN example.org.
$TTL 1h30m
@   IN  SOA ns1.example.org. hostmaster ( 2024010101 ; serial
            2h 30m 2w   ; refresh retry expire
            5m )        ; minimum
    IN  NS  ns1                 ; owner inherited from the line above
    NS  ns2.example.net.
ns1 300 IN A 198.18.0.53
ns1 IN 600 AAAA 2001:db8::53
www A 198.18.0.80
    A 198.18.0.81 ; same owner, same RRset
WWW.Example.ORG. A 198.18.0.82
text TXT "hello; world" unquoted "tab\009and \"quote\"" "\\"
$ORIGIN sub.example.org.
deep MX 10 mail.example.org.
@ TXT "at sub"
)");
    auto r = records(z);
    EXPECT_EQ(z.origin(), name("example.org."));
    EXPECT_EQ(z.serial(), 2024010101u);
    EXPECT_TRUE(has(r, "example.org. 5400 soa ns1.example.org. hostmaster.example.org. 2024010101 7200 1800 1209600 300")) << r[0];
    EXPECT_TRUE(has(r, "example.org. 5400 ns ns1.example.org."));
    EXPECT_TRUE(has(r, "example.org. 5400 ns ns2.example.net."));
    EXPECT_TRUE(has(r, "ns1.example.org. 300 a 198.18.0.53"));
    EXPECT_TRUE(has(r, "ns1.example.org. 600 aaaa 2001:db8:0:0:0:0:0:53"));
    EXPECT_TRUE(has(r, "www.example.org. 5400 a 198.18.0.80"));
    EXPECT_TRUE(has(r, "www.example.org. 5400 a 198.18.0.81"));
    EXPECT_TRUE(has(r, "www.example.org. 5400 a 198.18.0.82"));
    EXPECT_TRUE(has(r, "text.example.org. 5400 txt \"hello; world\" \"unquoted\" \"tab\\009and \\\"quote\\\"\" \"\\\\\""));
    EXPECT_TRUE(has(r, "deep.sub.example.org. 5400 mx 10 mail.example.org."));
    EXPECT_TRUE(has(r, "sub.example.org. 5400 txt \"at sub\""));
    EXPECT_EQ(z.record_count(), 11u);
}

TEST(DnsZoneParser, ReadsEveryType)
{
    auto z = zone(std::string(head) + R"(
a       A      198.18.0.1
aaaa    AAAA   2001:db8::1
aaaa    AAAA   ::ffff:198.18.0.2
cname   CNAME  a
ptr     PTR    a.example.org.
mx      MX     0 .
srv     SRV    1 2 53 a
caa     CAA    128 issue "ca.example.net; account=1"
unknown TYPE65280 \# 3 ABCDEF
empty   TYPE65281 \# 0
generic A      \# 4 c6120003
class1  CLASS1 TYPE1 198.18.0.4
)");
    auto r = records(z);
    EXPECT_TRUE(has(r, "a.example.org. 3600 a 198.18.0.1"));
    EXPECT_TRUE(has(r, "aaaa.example.org. 3600 aaaa 2001:db8:0:0:0:0:0:1"));
    EXPECT_TRUE(has(r, "aaaa.example.org. 3600 aaaa 0:0:0:0:0:ffff:c612:2"));
    EXPECT_TRUE(has(r, "cname.example.org. 3600 cname a.example.org."));
    EXPECT_TRUE(has(r, "ptr.example.org. 3600 ptr a.example.org."));
    EXPECT_TRUE(has(r, "mx.example.org. 3600 mx 0 ."));
    EXPECT_TRUE(has(r, "srv.example.org. 3600 srv 1 2 53 a.example.org."));
    EXPECT_TRUE(has(r, "caa.example.org. 3600 caa 128 issue \"ca.example.net; account=1\""));
    EXPECT_TRUE(has(r, "unknown.example.org. 3600 type65280 \\# 3 abcdef"));
    EXPECT_TRUE(has(r, "empty.example.org. 3600 type65281 \\# 0"));
    EXPECT_TRUE(has(r, "generic.example.org. 3600 a 198.18.0.3"));
    EXPECT_TRUE(has(r, "class1.example.org. 3600 a 198.18.0.4"));
}

TEST(DnsZoneParser, TakesTheOriginFromTheFileName)
{
    auto origin = origin_from_file_name("zones/example.net.zone");
    ASSERT_TRUE(origin.has_value());
    EXPECT_EQ(*origin, name("example.net."));
    EXPECT_EQ(*origin_from_file_name("example.com"), name("example.com."));
    EXPECT_FALSE(origin_from_file_name("bad..name.zone").has_value());
    auto z = parse_zone("$TTL 60\n@ SOA ns host 1 2 3 4 5\n NS ns\nns A 198.18.0.1\n", "example.net.zone", &*origin);
    ASSERT_TRUE(z.has_value());
    EXPECT_EQ(z->origin(), name("example.net."));
    EXPECT_NE(z->find(name("ns.example.net.").wire()), nullptr);
}

TEST(DnsZoneParser, KeepsTheLastExplicitTtlWithoutTtlDirective)
{
    auto z = zone("example.org. 100 SOA ns host 1 2 3 4 5\nexample.org. NS ns.example.org.\nns.example.org. 200 A 198.18.0.1\nx.example.org. A 198.18.0.2\n");
    auto r = records(z);
    EXPECT_TRUE(has(r, "example.org. 100 ns ns.example.org."));
    EXPECT_TRUE(has(r, "x.example.org. 200 a 198.18.0.2"));
}

TEST(DnsZoneParser, DropsDuplicatesAndUsesTheLowestTtlOfAnRrset)
{
    auto z = zone(std::string(head) + "ns1 A 198.18.0.1\nns1 A 198.18.0.1\nx 60 A 198.18.0.2\nx 30 A 198.18.0.3\n");
    auto r = records(z);
    EXPECT_EQ(std::count(r.begin(), r.end(), "ns1.example.org. 3600 a 198.18.0.1"), 1);
    EXPECT_TRUE(has(r, "x.example.org. 30 a 198.18.0.2"));
    EXPECT_TRUE(has(r, "x.example.org. 30 a 198.18.0.3"));
}

TEST(DnsZoneParser, ErrorsNameTheFileAndLine)
{
    const std::string f = "zones/example.org.zone";
    EXPECT_EQ(error_of(std::string(head) + "www A 198.18.0\n"),
        "zones/example.org.zone:5: bad RDATA: bad IPv4 address '198.18.0' (A record)");
    EXPECT_EQ(error_of(std::string(head) + "\nwww AAAA 2001:db8::1::2\n"),
        "zones/example.org.zone:6: bad RDATA: bad IPv6 address '2001:db8::1::2' (AAAA record)");
    EXPECT_EQ(error_of(std::string(head) + "www BOGUS 1\n"), "zones/example.org.zone:5: bad type: 'BOGUS'");
    EXPECT_EQ(error_of(std::string(head) + "www CH A 198.18.0.1\n"), "zones/example.org.zone:5: bad class: class 'CH': only IN is served");
    EXPECT_EQ(error_of("$TTL 60\nwww A 198.18.0.1\n"), "zones/example.org.zone:2: SOA not first: the first record must be the zone's SOA");
    EXPECT_EQ(error_of("@ SOA ns host 1 2 3 4 5\n"), "zones/example.org.zone:1: no TTL: give the record a TTL or set $TTL");
    EXPECT_EQ(error_of(std::string(head) + "www A 198.18.0.1\nwww CNAME other\n"),
        "zones/example.org.zone:6: CNAME and other data: www.example.org. has a CNAME and other records");
    EXPECT_EQ(error_of(std::string(head) + "x CNAME a\nx CNAME b\n"),
        "zones/example.org.zone:6: CNAME and other data: x.example.org. has a CNAME and other records");
    EXPECT_EQ(error_of(std::string(head) + "www.example.net. A 198.18.0.1\n"),
        "zones/example.org.zone:5: out of zone: www.example.net. is not in example.org.");
    EXPECT_EQ(error_of(std::string(head) + "x TXT ( \"a\"\n\"b\"\n"), "zones/example.org.zone:5: syntax error: '(' is never closed");
    EXPECT_EQ(error_of(std::string(head) + "x TXT \"open\n"), "zones/example.org.zone:5: syntax error: unterminated quoted string");
    EXPECT_EQ(error_of(std::string(head) + "x TXT a )\n"), "zones/example.org.zone:5: syntax error: ')' without '('");
    EXPECT_EQ(error_of(std::string(head) + "$INCLUDE other.zone\n"),
        "zones/example.org.zone:5: unsupported directive: $INCLUDE: one zone is one file here");
    EXPECT_EQ(error_of(std::string(head) + "$FOO bar\n"), "zones/example.org.zone:5: bad directive: unknown directive '$FOO'");
    EXPECT_EQ(error_of(std::string(head) + "$TTL 1x\n"), "zones/example.org.zone:5: bad TTL: $TTL '1x'");
    EXPECT_EQ(error_of(std::string(head) + "x 99999999999 A 198.18.0.1\n"), "zones/example.org.zone:5: bad TTL: '99999999999'");
    EXPECT_EQ(error_of(std::string(head) + std::string(64, 'a') + " A 198.18.0.1\n").substr(0, 47),
        "zones/example.org.zone:5: bad name: owner 'aaaa");
    EXPECT_EQ(error_of(std::string(head) + "sub SOA ns host 1 2 3 4 5\n"), "zones/example.org.zone:5: extra SOA: SOA below the apex");
    EXPECT_EQ(error_of("$TTL 60\n@ SOA ns host 1 2 3 4 5\nns A 198.18.0.1\n"),
        "zones/example.org.zone:2: no NS at the apex: no NS records at example.org.");
    EXPECT_EQ(error_of(std::string(head) + "x TXT \"" + std::string(256, 'a') + "\"\n").substr(0, 65),
        "zones/example.org.zone:5: bad RDATA: bad character-string 'aaaaaa");
    EXPECT_EQ(error_of(std::string(head) + "x A \\# 4 c61200\n"),
        "zones/example.org.zone:5: bad RDATA: bad \\# data 'c61200' (A record)");
    EXPECT_EQ(error_of(std::string(head) + "x A \\# 3 c61200\n"),
        "zones/example.org.zone:5: bad RDATA: RDATA not valid for its type 'c61200' (A record)");
    EXPECT_EQ(error_of(std::string(head) + "x MX 10\n"), "zones/example.org.zone:5: bad RDATA: missing field (MX record)");
    EXPECT_EQ(error_of(std::string(head) + "x A 198.18.0.1 198.18.0.2\n"),
        "zones/example.org.zone:5: bad RDATA: unexpected field '198.18.0.2' (A record)");
    EXPECT_EQ(error_of("$TTL 60\nwww A 198.18.0.1\n", "noorigin"), "noorigin:2: SOA not first: the first record must be the zone's SOA");
    EXPECT_EQ(error_of("$TTL 60\n@ SOA ns host 1 2 3 4 5\n", "bad..name"), "bad..name:2: no origin: owner '@': relative name without an origin");
    EXPECT_EQ(error_of(""), "zones/example.org.zone:1: no SOA: the file has no records");
}

TEST(DnsZoneParser, MnemonicsAnyCaseTtlAndClassInEitherOrder)
{
    auto z = zone(R"($origin example.org.
$ttl 2h
@ in soa ns1 host 1 2 3 4 5
@ ns ns1
ns1 IN 60 a 198.18.0.1
ns2 60 in A 198.18.0.2
ns3 1W2d3H4M5S A 198.18.0.3
$ORIGIN sub
x cname @
)");
    auto r = records(z);
    EXPECT_TRUE(has(r, "example.org. 7200 ns ns1.example.org."));
    EXPECT_TRUE(has(r, "ns1.example.org. 60 a 198.18.0.1"));
    EXPECT_TRUE(has(r, "ns2.example.org. 60 a 198.18.0.2"));
    EXPECT_TRUE(has(r, "ns3.example.org. 788645 a 198.18.0.3")); // 1w 2d 3h 4m 5s
    // "$ORIGIN sub" is relative to the origin before it; "@" in RDATA is the origin.
    EXPECT_TRUE(has(r, "x.sub.example.org. 7200 cname sub.example.org."));
}

TEST(DnsZoneParser, BlankOwnersFollowTheRecordAboveAcrossDirectives)
{
    auto z = zone(std::string(head) + "www A 198.18.0.1\n$TTL 60\n      AAAA 2001:db8::1\n");
    auto r = records(z);
    EXPECT_TRUE(has(r, "www.example.org. 60 aaaa 2001:db8:0:0:0:0:0:1"));
}

// What format_rdata writes, the parser reads back: the SOA's timers use all 32 bits on the
// wire, and a CAA whose tag is not 1-15 letters and digits is not a valid CAA at all (found
// by the dns_zone fuzzer, which writes every zone it parses out again).
TEST(DnsZoneParser, ReadsBackTheTextItWrites)
{
    const std::string full = "4294967295 4294967295 4294967295 4294967295 4294967295";
    struct Case {
        std::string soa;     // as given
        std::string written; // as format_rdata writes it
    };
    for (const Case& c : { Case { "@ 60 SOA ns host " + full, "example.org. 60 soa ns.example.org. host.example.org. " + full },
             Case { "@ 60 SOA \\# 22 00 00 ffffffff ffffffff ffffffff ffffffff ffffffff", "example.org. 60 soa . . " + full } }) {
        auto r = records(zone("$ORIGIN example.org.\n" + c.soa + "\n@ 60 NS ns\n"));
        ASSERT_TRUE(has(r, c.written)) << c.soa;
        EXPECT_EQ(records(zone(c.written + "\nexample.org. 60 ns ns.example.org.\n")), r);
    }
    EXPECT_EQ(error_of(std::string(head) + "x CAA \\# 5 00 02 2d21 41\n"),
        "zones/example.org.zone:5: bad RDATA: RDATA not valid for its type '00' (CAA record)");
    EXPECT_EQ(error_of(std::string(head) + "x CAA 0 is-sue \"ca.example.net\"\n"),
        "zones/example.org.zone:5: bad RDATA: bad CAA tag 'is-sue' (CAA record)");
    EXPECT_TRUE(has(records(zone(std::string(head) + "x CAA \\# 8 00 05 6973737565 61\n")), "x.example.org. 3600 caa 0 issue \"a\""));
}
