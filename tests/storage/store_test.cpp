#include <sarab/storage/store.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace sarab;
using namespace sarab::storage;

namespace {

std::vector<std::byte> bytes(std::string_view s)
{
    auto b = std::as_bytes(std::span(s));
    return { b.begin(), b.end() };
}

std::string text(std::span<const std::byte> b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

std::unique_ptr<OwnedContents> sample()
{
    auto c = std::make_unique<OwnedContents>();
    c->add("index.html", bytes("<h1>home</h1>"), 1'700'000'000'000'000'000);
    c->add("css/site.css", bytes("body{}"));
    c->add("css/print.css", bytes("@media print{}"));
    c->add("docs/a.txt", bytes("a"));
    EXPECT_TRUE(c->finish());
    return c;
}

} // namespace

TEST(ReadOnlyStore, FindsKeysAndHandsOutTheBytes)
{
    ReadOnlyStore store { "test-site", "a test store" };
    store.set_contents(sample());
    EXPECT_TRUE(store.is_open());
    const Entry* e = store.find("index.html");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(text(e->data), "<h1>home</h1>");
    EXPECT_EQ(e->modified_ns, 1'700'000'000'000'000'000);
    EXPECT_EQ(e->hash, content_hash(bytes("<h1>home</h1>")));
    EXPECT_EQ(store.find("missing.html"), nullptr);
    EXPECT_EQ(store.find("css"), nullptr); // a directory is not an entry
    EXPECT_EQ(store.size(), 4u);
    EXPECT_EQ(store.total_bytes(), 13u + 6 + 14 + 1);
}

TEST(ReadOnlyStore, ListsByPrefixInOrder)
{
    ReadOnlyStore store { "test-site2", "a test store" };
    store.set_contents(sample());
    auto css = store.with_prefix("css/");
    ASSERT_EQ(css.size(), 2u);
    EXPECT_EQ(css[0].key, "css/print.css");
    EXPECT_EQ(css[1].key, "css/site.css");
    EXPECT_TRUE(store.with_prefix("nothing/").empty());
    EXPECT_EQ(store.with_prefix("").size(), 4u);
}

TEST(ReadOnlyStore, DuplicateKeysAreRefused)
{
    OwnedContents c;
    c.add("a", bytes("1"));
    c.add("a", bytes("2"));
    EXPECT_FALSE(c.finish());
}

TEST(ReadOnlyStore, KeysCannotLeaveTheStore)
{
    for (const char* good : { "a", "a/b.txt", "dir/sub/file", ".well-known/x", "a..b" })
        EXPECT_TRUE(is_valid_key(good)) << good;
    for (const char* bad : { "", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a/", "." })
        EXPECT_FALSE(is_valid_key(bad)) << bad;
    EXPECT_FALSE(is_valid_key(std::string_view("a\0b", 3)));
}

TEST(ReadOnlyStore, AnUnboundStoreSaysHowToBindIt)
{
    ReadOnlyStore store { "test-unbound", "nothing behind it" };
    InlineFormatBuffer<256> error;
    auto opened = store.open_declared(error);
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error(), OpenError::not_bound);
    EXPECT_NE(error.view().find("--kv test-unbound=DIR"), std::string_view::npos);
}

TEST(CompiledStore, FilesAreEmbeddedAtBuildTime)
{
    // tests/CMakeLists.txt compiles tests/storage/data into this binary as "test-compiled".
    ReadOnlyStore store { "test-compiled", "compiled in" };
    InlineFormatBuffer<256> error;
    ASSERT_TRUE(store.open_declared(error)) << error.view();
    ASSERT_EQ(store.size(), 2u);
    EXPECT_EQ(store.entries()[0].key, "hello.txt");
    EXPECT_EQ(store.entries()[1].key, "sub/deep.txt");
    const Entry* hello = store.find("hello.txt");
    ASSERT_NE(hello, nullptr);
    EXPECT_EQ(text(hello->data), "compiled in\n");
    EXPECT_EQ(hello->hash, content_hash(bytes("compiled in\n")));
    EXPECT_GT(hello->modified_ns, 1'500'000'000'000'000'000);
    EXPECT_EQ(text(store.find("sub/deep.txt")->data), "deeper");
}
