// Static files from a store: types, validators and conditional requests, ranges, gzip
// variants, directories, and every way of trying to leave the store.
#include "http_test_support.hpp"

#include <sarab/services/http/date.hpp>
#include <sarab/services/http/static_files.hpp>

#include <gtest/gtest.h>

using namespace sarab;
using namespace sarab::http;

namespace {

std::vector<std::byte> bytes(std::string_view s)
{
    auto b = std::as_bytes(std::span(s));
    return { b.begin(), b.end() };
}

std::string text(std::span<const std::byte> b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

constexpr i64 modified_ns = 1'700'000'000'000'000'000; // Tue, 14 Nov 2023 22:13:20 GMT

class StaticFilesTest : public ::testing::Test {
protected:
    StaticFilesTest()
    {
        auto c = std::make_unique<storage::OwnedContents>();
        c->add("index.html", bytes("<h1>home</h1>"), modified_ns);
        c->add("style.css", bytes("body{color:red}"), modified_ns);
        c->add("style.css.gz", bytes("GZDATA"), modified_ns);
        c->add("docs/index.html", bytes("<h1>docs</h1>"), modified_ns);
        c->add("docs/guide.txt", bytes("0123456789"), modified_ns);
        c->add("a b.txt", bytes("spaced"), modified_ns);
        c->add("404.html", bytes("<p>missing</p>"), modified_ns);
        c->add("nodate.bin", bytes("x"), 0);
        EXPECT_TRUE(c->finish());
        m_store.set_contents(std::move(c));
    }

    // Serves the request `head` (a request line and fields, without the final CRLF).
    Response get(std::string head)
    {
        m_text = head + (head.ends_with("\r\n") ? "\r\n" : "\r\n\r\n");
        m_parser.reset();
        auto r = test::parse_request(m_parser, m_text);
        EXPECT_TRUE(r.has_value()) << head;
        if (!r)
            return Response(Status::internal_server_error);
        return m_files.serve(**r);
    }

    std::string etag_of(std::string_view key)
    {
        std::array<char, 20> out;
        FormatBuffer f(out);
        format_to(f, "\"{:016x}\"", m_store.find(key)->hash);
        return std::string(f.view());
    }

    storage::ReadOnlyStore m_store { "test-htdocs", "files for the static file tests" };
    StaticFiles m_files { m_store };
    RequestParser m_parser;
    std::string m_text;
};

const std::string host = "\r\nHost: h\r\n";

} // namespace

TEST_F(StaticFilesTest, ServesAnEntryWithItsMetadata)
{
    Response r = get("GET /docs/guide.txt HTTP/1.1" + host);
    EXPECT_EQ(r.status(), Status::ok);
    EXPECT_EQ(text(r.body()), "0123456789");
    EXPECT_EQ(r.body().data(), m_store.find("docs/guide.txt")->data.data()); // not copied
    EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r.header("ETag"), etag_of("docs/guide.txt"));
    EXPECT_EQ(r.header("Last-Modified"), "Tue, 14 Nov 2023 22:13:20 GMT");
    EXPECT_EQ(r.header("Cache-Control"), "public, max-age=300");
    EXPECT_EQ(r.header("Accept-Ranges"), "bytes");
    EXPECT_FALSE(r.header("Vary").has_value());
    EXPECT_FALSE(get("GET /nodate.bin HTTP/1.1" + host).header("Last-Modified").has_value());
}

TEST_F(StaticFilesTest, DirectoriesServeTheirIndex)
{
    Response r = get("GET / HTTP/1.1" + host);
    EXPECT_EQ(text(r.body()), "<h1>home</h1>");
    EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(r.header("Cache-Control"), "no-cache"); // pages revalidate
    EXPECT_EQ(text(get("GET /docs/ HTTP/1.1" + host).body()), "<h1>docs</h1>");
    r = get("GET /docs HTTP/1.1" + host);
    EXPECT_EQ(r.status(), Status::moved_permanently);
    EXPECT_EQ(r.header("Location"), "/docs/");
    EXPECT_EQ(get("GET /docs?x=1 HTTP/1.1" + host).header("Location"), "/docs/?x=1");
    EXPECT_EQ(get("GET /index.html/ HTTP/1.1" + host).status(), Status::not_found);
}

TEST_F(StaticFilesTest, MissingEntriesGetTheStoresNotFoundPage)
{
    Response r = get("GET /nothing.html HTTP/1.1" + host);
    EXPECT_EQ(r.status(), Status::not_found);
    EXPECT_EQ(text(r.body()), "<p>missing</p>");
    EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
    StaticFiles plain(m_store, StaticOptions { .not_found_page = "" });
    m_text = "GET /nothing HTTP/1.1\r\nHost: h\r\n\r\n";
    m_parser.reset();
    auto req = test::parse_request(m_parser, m_text);
    ASSERT_TRUE(req.has_value());
    EXPECT_EQ(text(plain.serve(**req).body()), "404 Not Found\n");
}

TEST_F(StaticFilesTest, OnlyGetAndHead)
{
    Response r = get("DELETE /index.html HTTP/1.1" + host);
    EXPECT_EQ(r.status(), Status::method_not_allowed);
    EXPECT_EQ(r.header("Allow"), "GET, HEAD");
    EXPECT_EQ(get("HEAD /index.html HTTP/1.1" + host).status(), Status::ok);
}

TEST_F(StaticFilesTest, IfNoneMatchGives304)
{
    std::string etag = etag_of("index.html");
    Response r = get("GET / HTTP/1.1" + host + "If-None-Match: " + etag);
    EXPECT_EQ(r.status(), Status::not_modified);
    EXPECT_TRUE(r.body().empty());
    EXPECT_EQ(r.header("ETag"), etag);
    EXPECT_EQ(r.header("Cache-Control"), "no-cache");
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-None-Match: \"other\", W/" + etag).status(), Status::not_modified);
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-None-Match: *").status(), Status::not_modified);
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-None-Match: \"other\"").status(), Status::ok);
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-None-Match: garbage").status(), Status::ok);
    // If-None-Match decides; If-Modified-Since is then ignored.
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-None-Match: \"other\"\r\nIf-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT").status(), Status::ok);
}

TEST_F(StaticFilesTest, IfModifiedSinceGives304)
{
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT").status(), Status::not_modified);
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-Modified-Since: Wed, 15 Nov 2023 00:00:00 GMT").status(), Status::not_modified);
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-Modified-Since: Tuesday, 14-Nov-23 22:13:20 GMT").status(), Status::not_modified);
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-Modified-Since: Tue Nov 14 22:13:20 2023").status(), Status::not_modified);
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-Modified-Since: Tue, 14 Nov 2023 22:13:19 GMT").status(), Status::ok);
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-Modified-Since: yesterday").status(), Status::ok);
}

TEST_F(StaticFilesTest, FailedPreconditionsGive412)
{
    std::string etag = etag_of("index.html");
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-Match: \"other\"").status(), Status::precondition_failed);
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-Match: W/" + etag).status(), Status::precondition_failed); // strong comparison
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-Match: " + etag).status(), Status::ok);
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-Unmodified-Since: Mon, 13 Nov 2023 00:00:00 GMT").status(), Status::precondition_failed);
    EXPECT_EQ(get("GET / HTTP/1.1" + host + "If-Unmodified-Since: Tue, 14 Nov 2023 22:13:20 GMT").status(), Status::ok);
}

TEST_F(StaticFilesTest, ASingleRangeGives206)
{
    auto range = [&](std::string spec) { return get("GET /docs/guide.txt HTTP/1.1" + host + "Range: " + spec); };
    Response r = range("bytes=2-5");
    EXPECT_EQ(r.status(), Status::partial_content);
    EXPECT_EQ(text(r.body()), "2345");
    EXPECT_EQ(r.header("Content-Range"), "bytes 2-5/10");
    EXPECT_EQ(r.header("ETag"), etag_of("docs/guide.txt"));
    EXPECT_EQ(text(range("bytes=-3").body()), "789");
    EXPECT_EQ(text(range("bytes=7-").body()), "789");
    EXPECT_EQ(text(range("bytes=5-100").body()), "56789");
    EXPECT_EQ(range("bytes=5-100").header("Content-Range"), "bytes 5-9/10");
    EXPECT_EQ(text(range("bytes=-100").body()), "0123456789");
    EXPECT_EQ(range("bytes=0-0").header("Content-Range"), "bytes 0-0/10");
}

TEST_F(StaticFilesTest, UnsatisfiableRangesGive416)
{
    auto range = [&](std::string spec) { return get("GET /docs/guide.txt HTTP/1.1" + host + "Range: " + spec); };
    Response r = range("bytes=10-");
    EXPECT_EQ(r.status(), Status::range_not_satisfiable);
    EXPECT_EQ(r.header("Content-Range"), "bytes */10");
    EXPECT_EQ(range("bytes=-0").status(), Status::range_not_satisfiable);
    EXPECT_EQ(range("bytes=99-200").status(), Status::range_not_satisfiable);
}

TEST_F(StaticFilesTest, OtherRangesGetTheWholeEntry)
{
    auto range = [&](std::string spec) { return get("GET /docs/guide.txt HTTP/1.1" + host + "Range: " + spec); };
    for (std::string spec : { "bytes=0-1,3-4", "bytes=5-2", "bytes=x-", "bytes=1", "items=0-1", "bytes=--1" }) {
        Response r = range(spec);
        EXPECT_EQ(r.status(), Status::ok) << spec;
        EXPECT_EQ(text(r.body()), "0123456789") << spec;
    }
    // Only GET has ranges.
    EXPECT_EQ(get("HEAD /docs/guide.txt HTTP/1.1" + host + "Range: bytes=0-1").status(), Status::ok);
}

TEST_F(StaticFilesTest, IfRangeKeepsTheRangeOnlyWhileTheEntryIsTheSame)
{
    std::string etag = etag_of("docs/guide.txt");
    auto with = [&](std::string if_range) { return get("GET /docs/guide.txt HTTP/1.1" + host + "Range: bytes=0-1\r\nIf-Range: " + if_range).status(); };
    EXPECT_EQ(with(etag), Status::partial_content);
    EXPECT_EQ(with("\"stale\""), Status::ok);
    EXPECT_EQ(with("W/" + etag), Status::ok);
    EXPECT_EQ(with("Tue, 14 Nov 2023 22:13:20 GMT"), Status::partial_content);
    EXPECT_EQ(with("Wed, 15 Nov 2023 22:13:20 GMT"), Status::ok);
}

TEST_F(StaticFilesTest, ChoosesTheGzipVariantByAcceptEncoding)
{
    Response gz = get("GET /style.css HTTP/1.1" + host + "Accept-Encoding: br, gzip");
    EXPECT_EQ(text(gz.body()), "GZDATA");
    EXPECT_EQ(gz.header("Content-Encoding"), "gzip");
    EXPECT_EQ(gz.header("Content-Type"), "text/css; charset=utf-8");
    EXPECT_EQ(gz.header("Vary"), "Accept-Encoding");
    EXPECT_EQ(gz.header("ETag"), etag_of("style.css.gz")); // a representation of its own

    Response plain = get("GET /style.css HTTP/1.1" + host);
    EXPECT_EQ(text(plain.body()), "body{color:red}");
    EXPECT_FALSE(plain.header("Content-Encoding").has_value());
    EXPECT_EQ(plain.header("Vary"), "Accept-Encoding"); // caches must know it varies
    EXPECT_EQ(plain.header("ETag"), etag_of("style.css"));

    EXPECT_EQ(text(get("GET /style.css HTTP/1.1" + host + "Accept-Encoding: gzip;q=0, br").body()), "body{color:red}");
    EXPECT_EQ(text(get("GET /style.css HTTP/1.1" + host + "Accept-Encoding: *").body()), "GZDATA");
    EXPECT_EQ(text(get("GET /style.css HTTP/1.1" + host + "Accept-Encoding: *;q=0").body()), "body{color:red}");
    EXPECT_EQ(text(get("GET /style.css HTTP/1.1" + host + "Accept-Encoding: GZIP;q=0.5").body()), "GZDATA");

    // Validators and ranges work on the variant that was chosen.
    Response nm = get("GET /style.css HTTP/1.1" + host + "Accept-Encoding: gzip\r\nIf-None-Match: " + etag_of("style.css.gz"));
    EXPECT_EQ(nm.status(), Status::not_modified);
    EXPECT_EQ(nm.header("Vary"), "Accept-Encoding");
    EXPECT_FALSE(nm.header("Content-Encoding").has_value());
    Response part = get("GET /style.css HTTP/1.1" + host + "Accept-Encoding: gzip\r\nRange: bytes=0-1");
    EXPECT_EQ(text(part.body()), "GZ");
    EXPECT_EQ(part.header("Content-Range"), "bytes 0-1/6");
    EXPECT_EQ(get("GET /style.css HTTP/1.1" + host + "If-None-Match: " + etag_of("style.css.gz")).status(), Status::ok);
}

TEST_F(StaticFilesTest, PercentEncodedPathsAreDecoded)
{
    EXPECT_EQ(text(get("GET /a%20b.txt HTTP/1.1" + host).body()), "spaced");
    EXPECT_EQ(text(get("GET /docs/%67uide.txt HTTP/1.1" + host).body()), "0123456789");
    EXPECT_EQ(text(get("GET /docs%2Fguide.txt HTTP/1.1" + host).body()), "0123456789");
}

TEST_F(StaticFilesTest, NothingOutsideTheStoreCanBeNamed)
{
    for (std::string path : { "/../etc/passwd", "/docs/../../etc/passwd", "/%2e%2e/etc/passwd", "/docs/..%2f..%2fetc", "/%2E%2E",
             "/docs\\..\\index.html", "/docs%5c..%5cindex.html", "/a%00b", "/%" , "/%zz" }) {
        Response r = get("GET " + path + " HTTP/1.1" + host);
        EXPECT_EQ(r.status(), Status::bad_request) << path;
    }
    for (std::string path : { "//etc/passwd", "/%2Fetc/passwd", "/./index.html", "/docs//guide.txt", "/docs/./guide.txt" }) {
        Response r = get("GET " + path + " HTTP/1.1" + host);
        EXPECT_EQ(r.status(), Status::not_found) << path;
    }
    EXPECT_EQ(get("GET /" + std::string(2000, 'a') + " HTTP/1.1" + host).status(), Status::uri_too_long);
}

TEST(HttpContentTypes, ByExtension)
{
    EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("INDEX.HTML"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("a/b.c/d"), "application/octet-stream");
    EXPECT_EQ(content_type_for("font.woff2"), "font/woff2");
    EXPECT_EQ(content_type_for("logo.svg"), "image/svg+xml");
    EXPECT_EQ(content_type_for("Makefile"), "application/octet-stream");
    EXPECT_EQ(content_type_for("x.verylongextension"), "application/octet-stream");
}

TEST(HttpRanges, Parsing)
{
    auto r = parse_range("bytes=0-499", 1000);
    EXPECT_EQ(r.kind, ByteRange::Kind::single);
    EXPECT_EQ(r.first, 0u);
    EXPECT_EQ(r.last, 499u);
    r = parse_range(" Bytes = 500- ", 1000);
    EXPECT_EQ(r.kind, ByteRange::Kind::none); // "Bytes " is not the unit
    r = parse_range("bytes= 500 - 999", 1000);
    EXPECT_EQ(r.kind, ByteRange::Kind::single);
    EXPECT_EQ(r.first, 500u);
    EXPECT_EQ(parse_range("bytes=0-", 0).kind, ByteRange::Kind::unsatisfiable);
    EXPECT_EQ(parse_range("bytes=99999999999999999999-", 10).kind, ByteRange::Kind::none);
}

TEST(HttpDates, FormatsAndParsesTheThreeForms)
{
    std::array<char, http_date_length> out;
    EXPECT_EQ(format_http_date(784111777, out), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(format_http_date(0, out), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(format_http_date(951782400, out), "Tue, 29 Feb 2000 00:00:00 GMT");
    EXPECT_EQ(format_http_date(4102444799, out), "Thu, 31 Dec 2099 23:59:59 GMT");
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
    EXPECT_EQ(parse_http_date("Thu, 29 Feb 2024 12:00:00 GMT"), 1709208000);
    EXPECT_FALSE(parse_http_date("Wed, 29 Feb 2023 12:00:00 GMT").has_value());
    EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC").has_value());
    EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 24:00:00 GMT").has_value());
    EXPECT_FALSE(parse_http_date("Sun, 6 Nov 1994 08:49:37 GMT").has_value());
    EXPECT_FALSE(parse_http_date("").has_value());
    // Every day for 200 years goes there and back.
    for (i64 day = 0; day < 200 * 366; day += 1) {
        i64 t = day * 86400 + 3723;
        auto back = parse_http_date(format_http_date(t, out));
        ASSERT_TRUE(back.has_value()) << t;
        ASSERT_EQ(*back, t);
    }
    DateCache cache;
    EXPECT_EQ(cache.at(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(HttpGzip, AcceptEncoding)
{
    EXPECT_TRUE(accepts_gzip("gzip"));
    EXPECT_TRUE(accepts_gzip("deflate, gzip;q=1.0, *;q=0.5"));
    EXPECT_TRUE(accepts_gzip("x-gzip"));
    EXPECT_FALSE(accepts_gzip("gzip;q=0"));
    EXPECT_FALSE(accepts_gzip("gzip;q=0.000, *"));
    EXPECT_FALSE(accepts_gzip("identity"));
    EXPECT_FALSE(accepts_gzip(""));
    EXPECT_TRUE(accepts_gzip("*"));
    EXPECT_TRUE(accepts_gzip("gzip;q=0.001"));
}
