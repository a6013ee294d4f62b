// HTTP service: static files from a read-only store.
//
// StaticFiles answers GET and HEAD for the entries of a storage::ReadOnlyStore, without
// copying them: the response body is the entry's bytes. A path is percent-decoded and must
// then be a valid store key (storage::is_valid_key): NUL, backslashes, empty, "." and ".."
// segments are refused before any lookup, so no request can name anything outside the store.
// A path ending in '/' serves the directory's index.html; a directory named without its slash
// is redirected to it (301), as a browser must resolve relative links from "dir/".
//
// What it sends: Content-Type by extension; a strong ETag from the entry's 64-bit content
// hash, and If-None-Match (weak comparison) giving 304; Last-Modified and If-Modified-Since;
// If-Match and If-Unmodified-Since giving 412; Accept-Ranges, and a single byte range giving
// 206 with Content-Range (an unsatisfiable one 416; several ranges, the whole entry with 200;
// If-Range honoured); the gzip variant "x.gz" beside "x" when Accept-Encoding allows gzip,
// with Content-Encoding and Vary (a variant is its own representation: its own ETag and
// ranges); Cache-Control ("no-cache" for HTML, so pages revalidate, a max-age for the rest).
// A missing entry is a 404, with the store's 404.html as its body when there is one.
//
// What every response for an entry repeats (its type, ETag, Last-Modified text and gzip
// variant) is worked out once per store, on first use.
#pragma once

#include <sarab/services/http/date.hpp>
#include <sarab/services/http/response.hpp>
#include <sarab/storage/store.hpp>

#include <vector>

namespace sarab::http {

struct StaticOptions {
    std::string_view index = "index.html";
    std::string_view not_found_page = "404.html"; // served with 404 when present; "" for none
    std::string_view cache_control = "public, max-age=300";
    std::string_view html_cache_control = "no-cache";
    bool gzip_variants = true;
};

// "text/css; charset=utf-8" for "site.css"; application/octet-stream when unknown.
std::string_view content_type_for(std::string_view key);

// The result of reading a Range field against a representation of `size` bytes.
struct ByteRange {
    enum class Kind : u8 { none, single, unsatisfiable };
    Kind kind = Kind::none; // none: serve the whole representation (absent, malformed, several)
    u64 first = 0;
    u64 last = 0; // inclusive
};
ByteRange parse_range(std::string_view range, u64 size);

// Whether Accept-Encoding allows gzip (q > 0, by name or by "*").
bool accepts_gzip(std::string_view accept_encoding);

class StaticFiles {
public:
    explicit StaticFiles(const storage::ReadOnlyStore& store, StaticOptions options = {});

    // The response for `request` and its path (percent-encoded, starting with '/'), by
    // default the request's own path.
    Response serve(const Request& request) const { return serve(request, request.path); }
    Response serve(const Request& request, std::string_view path) const;

private:
    struct EntryInfo {
        std::string_view type;
        std::array<char, 18> etag;
        std::array<char, http_date_length> last_modified;
        i64 modified = 0; // seconds
        const storage::Entry* variant = nullptr; // "key.gz"
        bool has_date = false;
        bool html = false;
    };
    // The request fields static files look at, found in one pass.
    struct Conditions {
        std::optional<std::string_view> if_match, if_none_match, if_modified_since, if_unmodified_since, range, if_range, accept_encoding;
    };

    static Conditions conditions_of(const Request& request);
    const EntryInfo& info_of(const storage::Entry& entry) const;
    Response respond(const Request& request, const Conditions& conditions, const storage::Entry& entry, const EntryInfo& primary, bool has_variant) const;
    Response not_found(const Request& request) const;

    const storage::ReadOnlyStore& m_store;
    StaticOptions m_options;
    // A cache, filled on first use (the store may open after this object is made).
    mutable std::vector<EntryInfo> m_info;
    mutable const storage::Entry* m_info_for = nullptr;
};

} // namespace sarab::http
