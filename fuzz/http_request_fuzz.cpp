// The HTTP request parser, fed the input as a connection would: all at once, and again in
// pieces of a size taken from the input, through every pipelined request until an error or
// the end. Both feedings must agree on every request (the same path, fields and de-chunked
// body, the same bytes consumed) and on the error that stops them, and every view a request
// holds must lie inside the buffer. The field parsers a static file server applies to what
// it receives (dates, Range, Accept-Encoding, route patterns) run on every field value.
#include <sarab/services/http/date.hpp>
#include <sarab/services/http/parser.hpp>
#include <sarab/services/http/router.hpp>
#include <sarab/services/http/static_files.hpp>

#include "fuzz_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace sarab;
using namespace sarab::http;

// parse_http_date reads the wall clock for two-digit years; the fuzzer's is fixed.
u64 sarab::platform::wall_ns() { return 1'767'225'600'000'000'000ull; }

namespace {

struct Outcome {
    std::vector<std::string> requests; // a digest of each complete request
    int error = -1;                    // the ParseError that stopped parsing, if any
    bool operator==(const Outcome&) const = default;
};

bool inside(std::string_view view, const char* begin, const char* end)
{
    return view.empty() || (view.data() >= begin && view.data() + view.size() <= end);
}

std::string digest(const Request& r, const char* begin, const char* end)
{
    VERIFY(inside(r.method_token, begin, end) && inside(r.target, begin, end) && inside(r.query, begin, end));
    VERIFY(r.path == "/" || inside(r.path, begin, end));
    VERIFY(!r.method_token.empty() && !r.target.empty());
    std::string_view body = r.body_text();
    VERIFY(inside(body, begin, end));
    std::string d;
    d += r.method_token;
    d += ' ';
    d += r.target;
    d += r.keep_alive ? " k" : " c";
    for (const HeaderField& f : r.headers) {
        VERIFY(inside(f.name, begin, end) && inside(f.value, begin, end) && !f.name.empty());
        d += '\n';
        d += f.name;
        d += ':';
        d += f.value;
        // What a server does with field values next.
        if (auto t = parse_http_date(f.value)) {
            std::array<char, http_date_length> text;
            VERIFY(*t >= 0);
            fuzz::touch(format_http_date(*t, text).size());
        }
        ByteRange range = parse_range(f.value, 1000);
        VERIFY(range.kind != ByteRange::Kind::single || (range.first <= range.last && range.last < 1000));
        fuzz::touch(accepts_gzip(f.value));
    }
    d += "\n\n";
    d += body;
    Request copy = r;
    fuzz::touch(match_pattern("/a/:b/*", r.path, copy));
    std::array<char, 256> decoded;
    if (auto p = percent_decode(r.path, decoded))
        VERIFY(p->find('\0') == std::string_view::npos);
    return d;
}

// Parses `buffer` as a connection's receive buffer filled `step` bytes at a time (0: all at
// once), request after request.
Outcome run(std::string buffer, usize step)
{
    Limits limits;
    limits.max_header_bytes = 2048;
    limits.max_header_count = 32;
    limits.max_target_bytes = 512;
    limits.max_body_bytes = 4096;
    RequestParser parser(limits);
    Outcome out;
    usize begin = 0;
    usize filled = step == 0 ? buffer.size() : 0;
    for (;;) {
        if (step != 0 && filled < buffer.size())
            filled = std::min(buffer.size(), filled + step);
        auto p = parser.parse(std::span(buffer.data() + begin, filled - begin));
        if (!p) {
            out.error = int(p.error());
            return out;
        }
        if (*p == Progress::need_more) {
            if (filled == buffer.size())
                return out;
            continue;
        }
        VERIFY(parser.consumed() > 0 && begin + parser.consumed() <= filled);
        out.requests.push_back(digest(parser.request(), buffer.data() + begin, buffer.data() + filled));
        begin += parser.consumed();
        parser.reset();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    std::string input(reinterpret_cast<const char*>(data), size);
    Outcome whole = run(input, 0);
    usize step = size == 0 ? 1 : 1 + data[size - 1] % 13;
    Outcome pieces = run(input, step);
    if (whole != pieces && std::getenv("SARAB_FUZZ_DEBUG")) {
        for (const Outcome* o : { &whole, &pieces }) {
            std::fprintf(stderr, "%s: error %d after %zu requests\n", o == &whole ? "whole" : "pieces", o->error, o->requests.size());
            for (const std::string& r : o->requests)
                std::fprintf(stderr, "---\n%s\n", r.c_str());
        }
    }
    VERIFY(whole == pieces, "the parser's result depends on how the bytes arrived");
    return 0;
}
