#include "dns_test_support.hpp"

using namespace sarab;
using namespace sarab::dns;
using sarab::dns::test::name;

namespace {

std::string show(const Name& n)
{
    InlineFormatBuffer<1100> b;
    format_to(b, "{}", n);
    return std::string(b.view());
}

std::vector<u8> wire(const Name& n) { return { n.wire().begin(), n.wire().end() }; }

} // namespace

TEST(DnsName, ParsesAbsoluteAndRelativeNames)
{
    Name origin = name("example.org.");
    EXPECT_EQ(wire(origin), (std::vector<u8> { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0 }));
    EXPECT_EQ(origin.label_count(), 2u);
    auto www = Name::parse("www", &origin);
    ASSERT_TRUE(www.has_value());
    EXPECT_EQ(show(*www), "www.example.org.");
    EXPECT_EQ(show(Name::parse("@", &origin).value()), "example.org.");
    EXPECT_EQ(show(Name::parse(".").value()), ".");
    EXPECT_TRUE(Name::parse(".").value().is_root());
    EXPECT_EQ(Name::parse("www").error(), NameError::relative);
    EXPECT_EQ(Name::parse("@").error(), NameError::relative);
}

TEST(DnsName, LabelRules)
{
    EXPECT_EQ(Name::parse("a..b.").error(), NameError::empty_label);
    EXPECT_EQ(Name::parse(".a.").error(), NameError::empty_label);
    std::string label63(63, 'x');
    EXPECT_TRUE(Name::parse(label63 + ".").has_value());
    EXPECT_EQ(Name::parse(std::string(64, 'x') + ".").error(), NameError::label_too_long);
    // 4 labels of 63 make 256 bytes with the root: one too many.
    std::string longest = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'x') + ".";
    ASSERT_TRUE(Name::parse(longest).has_value());
    EXPECT_EQ(Name::parse(longest).value().length(), 255u);
    EXPECT_EQ(Name::parse(label63 + "." + label63 + "." + label63 + "." + std::string(62, 'x') + ".").error(), NameError::name_too_long);
    Name origin = name(label63 + "." + label63 + "." + label63 + ".");
    EXPECT_EQ(Name::parse(std::string(63, 'y'), &origin).error(), NameError::name_too_long);
}

TEST(DnsName, EscapesBothWays)
{
    auto n = Name::parse("a\\.b.c\\065\\\\.");
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(n->label_count(), 2u);
    EXPECT_EQ(wire(*n), (std::vector<u8> { 3, 'a', '.', 'b', 3, 'c', 'A', '\\', 0 }));
    EXPECT_EQ(show(*n), "a\\.b.cA\\\\.");
    EXPECT_EQ(show(Name::parse("sp\\032ace\\000.").value()), "sp\\032ace\\000.");
    EXPECT_EQ(Name::parse("bad\\256.").error(), NameError::bad_escape);
    EXPECT_EQ(Name::parse("bad\\12").error(), NameError::bad_escape);
    EXPECT_EQ(Name::parse("bad\\").error(), NameError::bad_escape);
}

TEST(DnsName, ComparesCaseInsensitivelyAndKeepsCase)
{
    Name a = name("WwW.Example.ORG.");
    Name b = name("www.example.org.");
    EXPECT_TRUE(a == b);
    EXPECT_EQ(show(a), "WwW.Example.ORG.");
    EXPECT_EQ(show(a.canonical()), "www.example.org.");
    EXPECT_TRUE(a.is_subdomain_of(name("EXAMPLE.org.")));
    EXPECT_TRUE(a.is_subdomain_of(a));
    EXPECT_TRUE(a.is_subdomain_of(Name()));
    EXPECT_FALSE(name("example.org.").is_subdomain_of(a));
    EXPECT_FALSE(name("wwwexample.org.").is_subdomain_of(name("www.example.org.")));
    EXPECT_FALSE(name("www.example.org.") == name("www.example.org.uk."));
}

TEST(DnsName, WalksUpAndBuilds)
{
    Name n = name("a.b.example.org.");
    EXPECT_EQ(show(n.parent()), "b.example.org.");
    EXPECT_EQ(show(n.parent(4)), ".");
    EXPECT_EQ(n.label(1).size(), 1u);
    std::array<u8, 1> star { '*' };
    auto w = n.parent(2).prepend(star);
    ASSERT_TRUE(w.has_value());
    EXPECT_EQ(show(*w), "*.example.org.");
    EXPECT_TRUE(w->is_wildcard());
    EXPECT_EQ(show(name("x.y.").concat(name("example.org.")).value()), "x.y.example.org.");
}

TEST(DnsName, CanonicalOrderIsRfc4034)
{
    // RFC 4034 6.1's example, in order.
    const char* ordered[] = { "example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.",
        "z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example." };
    for (usize i = 0; i + 1 < std::size(ordered); ++i) {
        Name a = name(ordered[i]);
        Name b = name(ordered[i + 1]);
        EXPECT_LT(canonical_compare(a.wire(), b.wire()), 0) << ordered[i] << " < " << ordered[i + 1];
        EXPECT_GT(canonical_compare(b.wire(), a.wire()), 0);
    }
    EXPECT_EQ(canonical_compare(name("A.example.").wire(), name("a.EXAMPLE.").wire()), 0);
}

TEST(DnsName, FromWireChecksTheLayout)
{
    std::vector<u8> good { 1, 'a', 0 };
    EXPECT_TRUE(Name::from_wire(good).has_value());
    std::vector<u8> short_label { 3, 'a', 0 };
    EXPECT_EQ(Name::from_wire(short_label).error(), NameError::bad_wire);
    std::vector<u8> trailing { 1, 'a', 0, 0 };
    EXPECT_EQ(Name::from_wire(trailing).error(), NameError::bad_wire);
    std::vector<u8> pointer { 0xc0, 0x0c };
    EXPECT_EQ(Name::from_wire(pointer).error(), NameError::bad_wire);
}
