// The field parsers behind static files (Range, Accept-Encoding) and the table of content
// types: apart from static_files.cpp so that they can be fuzzed without a store.
#include <sarab/services/http/static_files.hpp>

namespace sarab::http {

namespace {

struct TypeByExtension {
    std::string_view extension;
    std::string_view type;
};

// Sorted by extension, for a binary search.
constexpr TypeByExtension g_types[] = {
    { "avif", "image/avif" },
    { "css", "text/css; charset=utf-8" },
    { "csv", "text/csv; charset=utf-8" },
    { "gif", "image/gif" },
    { "gz", "application/gzip" },
    { "htm", "text/html; charset=utf-8" },
    { "html", "text/html; charset=utf-8" },
    { "ico", "image/vnd.microsoft.icon" },
    { "jpeg", "image/jpeg" },
    { "jpg", "image/jpeg" },
    { "js", "text/javascript; charset=utf-8" },
    { "json", "application/json" },
    { "map", "application/json" },
    { "md", "text/markdown; charset=utf-8" },
    { "mjs", "text/javascript; charset=utf-8" },
    { "mp4", "video/mp4" },
    { "otf", "font/otf" },
    { "pdf", "application/pdf" },
    { "png", "image/png" },
    { "svg", "image/svg+xml" },
    { "tar", "application/x-tar" },
    { "ttf", "font/ttf" },
    { "txt", "text/plain; charset=utf-8" },
    { "wasm", "application/wasm" },
    { "webm", "video/webm" },
    { "webp", "image/webp" },
    { "woff", "font/woff" },
    { "woff2", "font/woff2" },
    { "xml", "application/xml" },
    { "zip", "application/zip" },
};

constexpr bool types_sorted()
{
    for (usize i = 1; i < std::size(g_types); ++i) {
        if (!(g_types[i - 1].extension < g_types[i].extension))
            return false;
    }
    return true;
}
static_assert(types_sorted(), "g_types must be sorted by extension");

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s)
{
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

bool parse_u64(std::string_view s, u64& out)
{
    if (s.empty() || s.size() > 18)
        return false;
    u64 v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + u64(c - '0');
    }
    out = v;
    return true;
}

} // namespace

std::string_view content_type_for(std::string_view key)
{
    usize dot = key.rfind('.');
    usize slash = key.rfind('/');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
        return "application/octet-stream";
    std::array<char, 8> lower;
    std::string_view ext = key.substr(dot + 1);
    if (ext.size() > lower.size())
        return "application/octet-stream";
    for (usize i = 0; i < ext.size(); ++i)
        lower[i] = (ext[i] >= 'A' && ext[i] <= 'Z') ? char(ext[i] + 32) : ext[i];
    std::string_view want(lower.data(), ext.size());
    usize lo = 0, hi = std::size(g_types);
    while (lo < hi) {
        usize mid = (lo + hi) / 2;
        if (g_types[mid].extension < want)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < std::size(g_types) && g_types[lo].extension == want)
        return g_types[lo].type;
    return "application/octet-stream";
}

ByteRange parse_range(std::string_view range, u64 size)
{
    ByteRange none;
    range = trim(range);
    if (range.size() < 6 || !equals_ignore_case(range.substr(0, 6), "bytes="))
        return none; // another unit: ignore the field
    std::string_view spec = trim(range.substr(6));
    if (spec.find(',') != std::string_view::npos)
        return none; // several ranges: the whole representation is a valid answer
    usize dash = spec.find('-');
    if (dash == std::string_view::npos)
        return none;
    std::string_view first_text = trim(spec.substr(0, dash));
    std::string_view last_text = trim(spec.substr(dash + 1));
    ByteRange r;
    if (first_text.empty()) {
        // A suffix: the last N bytes.
        u64 n;
        if (!parse_u64(last_text, n))
            return none;
        if (n == 0 || size == 0)
            return { ByteRange::Kind::unsatisfiable, 0, 0 };
        r.first = n >= size ? 0 : size - n;
        r.last = size - 1;
    } else {
        u64 first;
        if (!parse_u64(first_text, first))
            return none;
        u64 last = size == 0 ? 0 : size - 1;
        if (!last_text.empty()) {
            if (!parse_u64(last_text, last) || last < first)
                return none;
            if (last >= size)
                last = size - 1;
        }
        if (first >= size)
            return { ByteRange::Kind::unsatisfiable, 0, 0 };
        r.first = first;
        r.last = last;
    }
    r.kind = ByteRange::Kind::single;
    return r;
}

bool accepts_gzip(std::string_view accept_encoding)
{
    // Elements are "coding;q=value"; gzip counts if named (or matched by "*") with q > 0.
    bool named = false, allowed = false, star = false;
    for_each_list_element(accept_encoding, [&](std::string_view element) {
        std::string_view coding = trim(element.substr(0, element.find(';')));
        bool positive = true;
        usize semicolon = element.find(';');
        if (semicolon != std::string_view::npos) {
            std::string_view param = trim(element.substr(semicolon + 1));
            if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
                // q is 0 only if every digit is zero: "0", "0.0", "0.000".
                std::string_view q = trim(param.substr(2));
                positive = false;
                for (char c : q) {
                    if (c >= '1' && c <= '9')
                        positive = true;
                }
            }
        }
        if (equals_ignore_case(coding, "gzip") || equals_ignore_case(coding, "x-gzip")) {
            named = true;
            allowed = positive;
        } else if (coding == "*") {
            star = positive;
        }
        return true;
    });
    return named ? allowed : star;
}

} // namespace sarab::http
