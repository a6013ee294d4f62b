#include <sarab/net/address.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace sarab;
using namespace sarab::net;

template<class T>
static std::string text(const T& value)
{
    InlineFormatBuffer<64> out;
    format_to(out, "{}", value);
    return std::string(out.view());
}

TEST(Ipv4Address, ParsesAndFormats)
{
    auto a = Ipv4Address::parse("198.18.0.1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->to_host(), 0xc6120001u);
    EXPECT_EQ(text(*a), "198.18.0.1");
    EXPECT_EQ(Ipv4Address::from_host(0xc6120001u), *a);
    EXPECT_EQ(text(Ipv4Address::broadcast()), "255.255.255.255");
}

TEST(Ipv4Address, RejectsWhatIsNotAnAddress)
{
    for (const char* bad : { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "01.2.3.4", "1..2.3", "1.2.3.4 ", "a.b.c.d", "1.2.3.4/24" })
        EXPECT_FALSE(Ipv4Address::parse(bad)) << bad;
}

TEST(Ipv4Cidr, SubnetArithmetic)
{
    auto c = Ipv4Cidr::parse("198.18.5.7/22");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->prefix, 22);
    EXPECT_EQ(text(c->network()), "198.18.4.0");
    EXPECT_EQ(text(c->subnet_broadcast()), "198.18.7.255");
    EXPECT_TRUE(c->contains(*Ipv4Address::parse("198.18.6.200")));
    EXPECT_FALSE(c->contains(*Ipv4Address::parse("198.18.8.1")));
    EXPECT_EQ(text(*c), "198.18.5.7/22");
    EXPECT_FALSE(Ipv4Cidr::parse("198.18.5.7/33"));
    EXPECT_FALSE(Ipv4Cidr::parse("198.18.5.7"));
    EXPECT_TRUE(Ipv4Cidr::parse("0.0.0.0/0")->contains(Ipv4Address::broadcast()));
}

TEST(Endpoint, ParsesAndFormats)
{
    auto e = Endpoint::parse("127.0.0.1:8053");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->port, 8053);
    EXPECT_EQ(text(*e), "127.0.0.1:8053");
    EXPECT_FALSE(Endpoint::parse("127.0.0.1:65536"));
    EXPECT_FALSE(Endpoint::parse("127.0.0.1"));
}

TEST(MacAddress, Formats)
{
    InlineFormatBuffer<32> out;
    format_mac(out, MacAddress { 0x02, 0x53, 0x52, 0x0a, 0xb0, 0xff });
    EXPECT_EQ(out.view(), "02:53:52:0a:b0:ff");
}

TEST(Ipv4Address, IsABootArgument)
{
    BootArg<Ipv4Cidr> address { "test-ipv4", Ipv4Cidr { Ipv4Address(10, 0, 0, 2), 24 }, "address" };
    InlineFormatBuffer<128> error;
    EXPECT_TRUE(address.set("198.18.0.2/24", error));
    EXPECT_EQ(text(address.value()), "198.18.0.2/24");
    EXPECT_FALSE(address.set("198.18.0.2", error));
    EXPECT_EQ(error.view(), "'198.18.0.2' is not an IPv4 address with a prefix (a.b.c.d/n)");
    EXPECT_EQ(address.metavar(), "ADDR/PREFIX");
}
