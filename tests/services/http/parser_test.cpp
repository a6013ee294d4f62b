// The request parser, with literal request bytes: whole, split at every byte, pipelined,
// with bodies of both kinds, at and over every limit, and malformed in the ways that matter
// (request smuggling, header injection, slow and oversized clients).
#include "http_test_support.hpp"

#include <sarab/services/http/parser.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace sarab;
using namespace sarab::http;

namespace {

std::string body_of(const Request& r) { return std::string(r.body_text()); }

// Feeds `text` one more byte at a time; every prefix but the whole must need more.
ErrorOr<Progress, ParseError> parse_bytewise(RequestParser& parser, std::string& text)
{
    for (usize n = 0; n < text.size(); ++n) {
        auto p = parser.parse(std::span(text.data(), n));
        if (!p)
            return p;
        EXPECT_EQ(*p, Progress::need_more) << "complete after " << n << " of " << text.size() << " bytes";
        if (*p == Progress::complete)
            return p;
    }
    return parser.parse(std::span(text.data(), text.size()));
}

ParseError error_of(std::string text, Limits limits = {})
{
    RequestParser parser(limits);
    auto p = parser.parse(std::span(text.data(), text.size()));
    EXPECT_TRUE(p.is_error()) << "accepted: " << text;
    return p.is_error() ? p.error() : ParseError::bad_request;
}

} // namespace

TEST(HttpParser, ParsesARequestLineAndFields)
{
    std::string text = "GET /docs/index.html?x=1&y=2 HTTP/1.1\r\n"
                       "Host: example.org\r\n"
                       "Accept-Encoding:gzip, br  \r\n"
                       "X-Empty:\r\n"
                       "\r\n";
    RequestParser parser;
    auto r = test::parse_request(parser, text);
    ASSERT_TRUE(r.has_value());
    Request& req = **r;
    EXPECT_EQ(req.method, Method::get);
    EXPECT_EQ(req.method_token, "GET");
    EXPECT_EQ(req.version, Version::http11);
    EXPECT_EQ(req.target, "/docs/index.html?x=1&y=2");
    EXPECT_EQ(req.path, "/docs/index.html");
    EXPECT_EQ(req.query, "x=1&y=2");
    ASSERT_EQ(req.headers.size(), 3u);
    EXPECT_EQ(req.headers[1].name, "Accept-Encoding");
    EXPECT_EQ(req.headers[1].value, "gzip, br"); // whitespace around the value is not part of it
    EXPECT_EQ(req.header("host"), "example.org");
    EXPECT_EQ(req.header("X-EMPTY"), "");
    EXPECT_FALSE(req.header("Cookie").has_value());
    EXPECT_TRUE(req.body.empty());
    EXPECT_TRUE(req.keep_alive);
    EXPECT_EQ(parser.consumed(), text.size());
}

TEST(HttpParser, CompletesOnlyWithTheLastByteWhereverItIsSplit)
{
    std::string text = "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
    RequestParser parser;
    auto p = parse_bytewise(parser, text);
    ASSERT_TRUE(p.has_value());
    ASSERT_EQ(*p, Progress::complete);
    EXPECT_EQ(body_of(parser.request()), "hello");
    EXPECT_EQ(parser.request().path, "/echo");
    EXPECT_EQ(parser.consumed(), text.size());
}

TEST(HttpParser, LeavesPipelinedRequestsInTheBuffer)
{
    std::string text = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                       "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
                       "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestParser parser;
    std::vector<std::string> seen;
    usize at = 0;
    while (at < text.size()) {
        auto p = parser.parse(std::span(text.data() + at, text.size() - at));
        ASSERT_TRUE(p.has_value());
        ASSERT_EQ(*p, Progress::complete);
        seen.push_back(std::string(parser.request().path) + ":" + body_of(parser.request()));
        at += parser.consumed();
        parser.reset();
    }
    EXPECT_EQ(seen, (std::vector<std::string> { "/a:", "/b:xyz", "/c:" }));
}

TEST(HttpParser, DecodesChunkedBodiesInPlaceWithExtensionsAndTrailers)
{
    std::string text = "POST /upload HTTP/1.1\r\n"
                       "Host: h\r\n"
                       "Transfer-Encoding: chunked\r\n"
                       "\r\n"
                       "5;name=value\r\nhello\r\n"
                       "1\r\n,\r\n"
                       "A \r\n0123456789\r\n"
                       "0\r\n"
                       "Checksum: abc\r\n"
                       "Content-Length: 99\r\n" // a trailer cannot change the framing
                       "\r\n"
                       "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    std::string copy = text;
    RequestParser parser;
    auto p = parser.parse(std::span(text.data(), text.size()));
    ASSERT_TRUE(p.has_value());
    ASSERT_EQ(*p, Progress::complete);
    EXPECT_TRUE(parser.request().chunked);
    EXPECT_EQ(body_of(parser.request()), "hello,0123456789");
    EXPECT_EQ(parser.request().headers.size(), 2u); // trailers are dropped
    EXPECT_EQ(std::string_view(text).substr(parser.consumed()), "GET /next HTTP/1.1\r\nHost: h\r\n\r\n");

    // The same, a byte at a time.
    RequestParser slow;
    std::string one = copy.substr(0, copy.find("GET /next"));
    auto q = parse_bytewise(slow, one);
    ASSERT_TRUE(q.has_value());
    ASSERT_EQ(*q, Progress::complete);
    EXPECT_EQ(body_of(slow.request()), "hello,0123456789");
    EXPECT_EQ(slow.consumed(), one.size());
}

TEST(HttpParser, AcceptsBareLineFeedsAndLeadingEmptyLines)
{
    std::string text = "\r\n\r\nGET / HTTP/1.1\nHost: h\n\n";
    RequestParser parser;
    auto r = test::parse_request(parser, text);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)->path, "/");
    EXPECT_EQ((*r)->method_token, "GET");
    EXPECT_EQ(parser.consumed(), text.size());
}

TEST(HttpParser, KeepAliveByVersionAndConnection)
{
    auto keep_alive = [](std::string text) {
        RequestParser parser;
        auto r = test::parse_request(parser, text);
        EXPECT_TRUE(r.has_value()) << text;
        return r.has_value() && (*r)->keep_alive;
    };
    EXPECT_TRUE(keep_alive("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
    EXPECT_FALSE(keep_alive("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n"));
    EXPECT_FALSE(keep_alive("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, close\r\n\r\n"));
    EXPECT_FALSE(keep_alive("GET / HTTP/1.0\r\n\r\n"));
    EXPECT_TRUE(keep_alive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    EXPECT_TRUE(keep_alive("GET / HTTP/1.2\r\nHost: h\r\n\r\n")); // a later minor is 1.1
}

TEST(HttpParser, TargetForms)
{
    std::string absolute = "GET http://example.org/a/b?q HTTP/1.1\r\nHost: example.org\r\n\r\n";
    RequestParser parser;
    auto r = test::parse_request(parser, absolute);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)->path, "/a/b");
    EXPECT_EQ((*r)->query, "q");

    std::string bare = "GET HTTP://example.org HTTP/1.1\r\nHost: example.org\r\n\r\n";
    RequestParser parser2;
    r = test::parse_request(parser2, bare);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)->path, "/");

    std::string star = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestParser parser3;
    r = test::parse_request(parser3, star);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)->target, "*");

    EXPECT_EQ(error_of("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("GET example.org:80 HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::bad_request);
}

TEST(HttpParser, UnknownMethodsParseForA501)
{
    std::string text = "BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestParser parser;
    auto r = test::parse_request(parser, text);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)->method, Method::other);
    EXPECT_EQ((*r)->method_token, "BREW");
}

TEST(HttpParser, ExpectContinue)
{
    std::string text = "PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
    RequestParser parser;
    auto p = parser.parse(std::span(text.data(), text.size()));
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(*p, Progress::need_more);
    EXPECT_TRUE(parser.headers_complete());
    EXPECT_TRUE(parser.expects_continue());
    text += "data";
    p = parser.parse(std::span(text.data(), text.size()));
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(*p, Progress::complete);
    EXPECT_EQ(error_of("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\nContent-Length: 4\r\n\r\n"), ParseError::expectation_failed);
}

TEST(HttpParser, RefusesAmbiguousFraming)
{
    // Request smuggling: what a proxy and this server could read differently.
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length : 3\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), ParseError::not_implemented);
    EXPECT_EQ(error_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\n\r\n"), ParseError::bad_request); // no Host
    // Keeping the same length twice is fine.
    std::string twice = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok";
    RequestParser parser;
    EXPECT_TRUE(test::parse_request(parser, twice).has_value());
}

TEST(HttpParser, RefusesMalformedLinesAndFields)
{
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\rX-Injected: 1\r\n\r\n"), ParseError::bad_request);
    constexpr char with_nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
    EXPECT_EQ(error_of(std::string(with_nul, sizeof with_nul - 1)), ParseError::bad_request);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHo(s)t: h\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("GET /\r\n\r\n"), ParseError::bad_request); // HTTP/0.9
    EXPECT_EQ(error_of("GET / http/1.1\r\nHost: h\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::bad_request);
    EXPECT_EQ(error_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), ParseError::version_not_supported);
    EXPECT_EQ(error_of("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), ParseError::version_not_supported);
    // Refused before the line is complete: it cannot be a method.
    EXPECT_EQ(error_of("\x16\x03\x01\x02\x00"), ParseError::bad_request);
    EXPECT_EQ(error_of("GE{"), ParseError::bad_request);
}

TEST(HttpParser, RefusesMalformedChunks)
{
    auto chunked = [](std::string body) { return "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body; };
    EXPECT_EQ(error_of(chunked("x\r\n")), ParseError::bad_request);
    EXPECT_EQ(error_of(chunked("\r\n")), ParseError::bad_request);
    EXPECT_EQ(error_of(chunked("-1\r\n")), ParseError::bad_request);
    EXPECT_EQ(error_of(chunked("3\r\nabcX\r\n")), ParseError::bad_request); // no CRLF after the data
    EXPECT_EQ(error_of(chunked("3 junk\r\nabc\r\n")), ParseError::bad_request);
    EXPECT_EQ(error_of(chunked("3;ext\x01\r\nabc\r\n")), ParseError::bad_request);
    EXPECT_EQ(error_of(chunked("0\r\nBad Trailer\r\n\r\n")), ParseError::bad_request);
    EXPECT_EQ(error_of(chunked("ffffffffffffffffffff\r\n")), ParseError::body_too_large);
}

TEST(HttpParser, LimitsTheHeaderBlock)
{
    Limits limits;
    limits.max_header_bytes = 256;
    limits.max_header_count = 4;
    std::string ok = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    RequestParser parser(limits);
    EXPECT_TRUE(test::parse_request(parser, ok).has_value());
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits), ParseError::headers_too_large);
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nBig: " + std::string(300, 'x') + "\r\n\r\n", limits), ParseError::headers_too_large);
    // Incomplete, but already over the limit: no need to wait for the rest.
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nBig: " + std::string(300, 'x'), limits), ParseError::headers_too_large);
    // A trickle of short fields hits the count.
    EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n", limits), ParseError::headers_too_large);
}

TEST(HttpParser, LimitsTheTarget)
{
    Limits limits;
    limits.max_target_bytes = 64;
    EXPECT_EQ(error_of("GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", limits), ParseError::target_too_long);
    // Still arriving, and already too long.
    EXPECT_EQ(error_of("GET /" + std::string(100, 'a'), limits), ParseError::target_too_long);
    EXPECT_EQ(error_of(std::string(200, 'G'), limits), ParseError::bad_request);
    std::string ok = "GET /" + std::string(63, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestParser parser(limits);
    EXPECT_TRUE(test::parse_request(parser, ok).has_value());
}

TEST(HttpParser, LimitsTheBody)
{
    Limits limits;
    limits.max_body_bytes = 10;
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits), ParseError::body_too_large);
    EXPECT_EQ(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", limits), ParseError::body_too_large);
    auto chunked = [](std::string body) { return "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body; };
    EXPECT_EQ(error_of(chunked("b\r\n"), limits), ParseError::body_too_large);
    EXPECT_EQ(error_of(chunked("6\r\nabcdef\r\n5\r\n"), limits), ParseError::body_too_large);
    std::string ok = chunked("6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n");
    RequestParser parser(limits);
    auto r = test::parse_request(parser, ok);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(body_of(**r), "abcdefghij");
}

TEST(HttpParser, ResetsCompletely)
{
    RequestParser parser;
    std::string first = "POST /a HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx";
    ASSERT_TRUE(test::parse_request(parser, first).has_value());
    parser.reset();
    EXPECT_FALSE(parser.started());
    std::string second = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    auto r = test::parse_request(parser, second);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)->path, "/b");
    EXPECT_EQ((*r)->query, "");
    EXPECT_TRUE((*r)->body.empty());
    EXPECT_FALSE((*r)->chunked);
    EXPECT_TRUE((*r)->keep_alive);
    EXPECT_EQ((*r)->headers.size(), 1u);
}

TEST(HttpMessage, PercentDecoding)
{
    std::array<char, 32> out;
    EXPECT_EQ(percent_decode("/a%20b%2Fc", out), "/a b/c");
    EXPECT_EQ(percent_decode("%7e%7E", out), "~~");
    EXPECT_FALSE(percent_decode("%", out).has_value());
    EXPECT_FALSE(percent_decode("%2", out).has_value());
    EXPECT_FALSE(percent_decode("%zz", out).has_value());
    EXPECT_FALSE(percent_decode("a%00b", out).has_value());
    EXPECT_FALSE(percent_decode(std::string(40, 'a'), out).has_value());
}

TEST(HttpMessage, ListsAndMethods)
{
    EXPECT_TRUE(list_contains("keep-alive, Upgrade", "upgrade"));
    EXPECT_FALSE(list_contains("keep-alive,,", "close"));
    EXPECT_EQ(parse_method("DELETE"), Method::delete_);
    EXPECT_EQ(parse_method("get"), Method::other); // methods are case-sensitive
    EXPECT_EQ(method_name(Method::options), "OPTIONS");
    EXPECT_EQ(reason_phrase(Status::request_header_fields_too_large), "Request Header Fields Too Large");
    EXPECT_EQ(status_of(ParseError::target_too_long), Status::uri_too_long);
}
