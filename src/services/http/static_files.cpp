#include <sarab/services/http/static_files.hpp>

#include <sarab/services/http/date.hpp>

#include <cstring>

namespace sarab::http {

namespace {

bool is_html(std::string_view key) { return key.ends_with(".html") || key.ends_with(".htm"); }

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s)
{
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

// The opaque part of our strong ETag for `hash`: "0123456789abcdef" (with the quotes).
void etag_of(u64 hash, std::array<char, 18>& out)
{
    constexpr char digits[] = "0123456789abcdef";
    out[0] = '"';
    for (int i = 0; i < 16; ++i)
        out[usize(1 + i)] = digits[(hash >> (60 - 4 * i)) & 0xf];
    out[17] = '"';
}

// Whether a list of entity-tags (If-Match, If-None-Match) holds `etag`. "*" matches any.
// With `weak`, W/"x" matches "x" (weak comparison, RFC 9110 8.8.3.2); without, a weak tag
// never matches.
bool etag_list_matches(std::string_view list, std::string_view etag, bool weak)
{
    std::string_view rest = trim(list);
    if (rest == "*")
        return true;
    while (!rest.empty()) {
        while (!rest.empty() && (is_space(rest.front()) || rest.front() == ','))
            rest.remove_prefix(1);
        if (rest.empty())
            break;
        bool is_weak = false;
        if (rest.starts_with("W/")) {
            is_weak = true;
            rest.remove_prefix(2);
        }
        if (rest.empty() || rest.front() != '"')
            return false; // malformed: no match
        usize close = rest.find('"', 1);
        if (close == std::string_view::npos)
            return false;
        std::string_view tag = rest.substr(0, close + 1);
        rest.remove_prefix(close + 1);
        if (tag == etag && (weak || !is_weak))
            return true;
    }
    return false;
}

constexpr usize max_path = 1024;

} // namespace

StaticFiles::StaticFiles(const storage::ReadOnlyStore& store, StaticOptions options)
    : m_store(store)
    , m_options(options)
{
    // Checked once here, so that responses can add them without checking.
    Response check;
    check.add_header("Cache-Control", m_options.cache_control);
    check.add_header("Cache-Control", m_options.html_cache_control);
    VERIFY(!check.is_broken(), "StaticOptions: a Cache-Control value holds CR, LF or NUL");
}

Response StaticFiles::serve(const Request& request, std::string_view path) const
{
    if (request.method != Method::get && request.method != Method::head) {
        Response r = Response::status_page(Status::method_not_allowed);
        r.add_header("Allow", "GET, HEAD");
        return r;
    }
    if (path.empty() || path.front() != '/')
        return not_found(request);
    if (path.size() > max_path)
        return Response::status_page(Status::uri_too_long);

    // Decode, then refuse whatever could leave the store before looking anything up.
    std::array<char, max_path + 16> decoded_storage;
    auto decoded = percent_decode(path, std::span(decoded_storage).first(max_path));
    if (!decoded)
        return Response::status_page(Status::bad_request);
    std::string_view key = decoded->substr(1);
    if (key.find('\\') != std::string_view::npos)
        return Response::status_page(Status::bad_request);
    for (std::string_view rest = key; !rest.empty();) {
        usize slash = rest.find('/');
        if (rest.substr(0, slash) == "..")
            return Response::status_page(Status::bad_request);
        rest = slash == std::string_view::npos ? std::string_view {} : rest.substr(slash + 1);
    }

    std::array<char, max_path + 64> key_storage;
    bool directory = key.empty() || key.back() == '/';
    if (directory) {
        if (key.size() + m_options.index.size() > key_storage.size())
            return not_found(request);
        std::memcpy(key_storage.data(), key.data(), key.size());
        std::memcpy(key_storage.data() + key.size(), m_options.index.data(), m_options.index.size());
        key = { key_storage.data(), key.size() + m_options.index.size() };
    }
    if (!storage::is_valid_key(key))
        return not_found(request);

    const storage::Entry* entry = m_store.find(key);
    if (!entry) {
        if (!directory) {
            // "dir" for a directory: send the client to "dir/", where relative links work.
            std::array<char, max_path + 2> prefix;
            std::memcpy(prefix.data(), key.data(), key.size());
            prefix[key.size()] = '/';
            if (!m_store.with_prefix({ prefix.data(), key.size() + 1 }).empty()) {
                std::array<char, max_path * 2> location;
                FormatBuffer out(location);
                format_to(out, "{}/", path);
                if (!request.query.empty())
                    format_to(out, "?{}", request.query);
                if (!out.truncated())
                    return Response::redirect(Status::moved_permanently, out.view());
            }
        }
        return not_found(request);
    }

    const EntryInfo& info = info_of(*entry);
    Conditions conditions = conditions_of(request);
    // The gzip variant, when there is one and the client takes it.
    if (info.variant && conditions.accept_encoding && accepts_gzip(*conditions.accept_encoding)) {
        Response r = respond(request, conditions, *info.variant, info, true);
        if (code(r.status()) < 300)
            r.add_trusted_header("Content-Encoding", "gzip");
        return r;
    }
    return respond(request, conditions, *entry, info, info.variant != nullptr);
}

StaticFiles::Conditions StaticFiles::conditions_of(const Request& request)
{
    // One pass over the fields, by length first; the first of each name counts.
    Conditions c;
    auto take = [](std::optional<std::string_view>& slot, std::string_view value) {
        if (!slot)
            slot = value;
    };
    for (const HeaderField& f : request.headers) {
        switch (f.name.size()) {
        case 5:
            if (equals_ignore_case(f.name, "range"))
                take(c.range, f.value);
            break;
        case 8:
            if (equals_ignore_case(f.name, "if-match"))
                take(c.if_match, f.value);
            else if (equals_ignore_case(f.name, "if-range"))
                take(c.if_range, f.value);
            break;
        case 13:
            if (equals_ignore_case(f.name, "if-none-match"))
                take(c.if_none_match, f.value);
            break;
        case 15:
            if (equals_ignore_case(f.name, "accept-encoding"))
                take(c.accept_encoding, f.value);
            break;
        case 17:
            if (equals_ignore_case(f.name, "if-modified-since"))
                take(c.if_modified_since, f.value);
            break;
        case 19:
            if (equals_ignore_case(f.name, "if-unmodified-since"))
                take(c.if_unmodified_since, f.value);
            break;
        default:
            break;
        }
    }
    return c;
}

const StaticFiles::EntryInfo& StaticFiles::info_of(const storage::Entry& entry) const
{
    std::span<const storage::Entry> entries = m_store.entries();
    if (m_info_for != entries.data() || m_info.size() != entries.size()) {
        // Made once per store: what every response for an entry repeats.
        m_info.clear();
        m_info.resize(entries.size());
        std::string gz;
        for (usize i = 0; i < entries.size(); ++i) {
            const storage::Entry& e = entries[i];
            EntryInfo& info = m_info[i];
            info.type = content_type_for(e.key);
            info.html = is_html(e.key);
            etag_of(e.hash, info.etag);
            info.has_date = e.modified_ns > 0;
            info.modified = e.modified_ns / 1'000'000'000;
            format_http_date(info.modified, info.last_modified);
            if (m_options.gzip_variants) {
                gz.assign(e.key).append(".gz");
                info.variant = m_store.find(gz);
            }
        }
        m_info_for = entries.data();
    }
    usize index = usize(&entry - entries.data());
    VERIFY(index < m_info.size(), "an entry of another store");
    return m_info[index];
}

Response StaticFiles::respond(const Request& request, const Conditions& conditions, const storage::Entry& entry, const EntryInfo& primary,
    bool has_variant) const
{
    // The chosen entry's own validators (a variant is a representation of its own); the
    // primary's type and caching.
    const EntryInfo& chosen = &entry == primary.variant ? info_of(entry) : primary;
    std::string_view etag(chosen.etag.data(), chosen.etag.size());
    std::string_view last_modified(chosen.last_modified.data(), chosen.last_modified.size());
    std::string_view cache_control = primary.html ? m_options.html_cache_control : m_options.cache_control;

    // Values made here or checked when the options were given: no need to check each time.
    auto metadata = [&](Response& r) {
        r.add_trusted_header("ETag", etag);
        if (!cache_control.empty())
            r.add_trusted_header("Cache-Control", cache_control);
        if (has_variant)
            r.add_trusted_header("Vary", "Accept-Encoding");
    };

    // Preconditions, in the order of RFC 9110 13.2.2.
    if (conditions.if_match) {
        if (!etag_list_matches(*conditions.if_match, etag, false))
            return Response::status_page(Status::precondition_failed);
    } else if (conditions.if_unmodified_since && chosen.has_date) {
        auto limit = parse_http_date(*conditions.if_unmodified_since);
        if (limit && chosen.modified > *limit)
            return Response::status_page(Status::precondition_failed);
    }
    bool not_modified = false;
    if (conditions.if_none_match) {
        not_modified = etag_list_matches(*conditions.if_none_match, etag, true);
    } else if (conditions.if_modified_since && chosen.has_date) {
        auto limit = parse_http_date(*conditions.if_modified_since);
        not_modified = limit && chosen.modified <= *limit;
    }
    if (not_modified) {
        Response r(Status::not_modified);
        metadata(r);
        return r;
    }

    u64 size = entry.data.size();
    ByteRange range;
    if (request.method == Method::get && conditions.range) {
        bool current = true;
        if (conditions.if_range) {
            // A strong validator that still matches; otherwise the whole, new entry.
            std::string_view v = trim(*conditions.if_range);
            if (!v.empty() && v.front() == '"')
                current = v == etag;
            else if (auto date = parse_http_date(v))
                current = chosen.has_date && *date == chosen.modified;
            else
                current = false;
        }
        if (current)
            range = parse_range(*conditions.range, size);
    }

    if (range.kind == ByteRange::Kind::unsatisfiable) {
        Response r = Response::status_page(Status::range_not_satisfiable);
        r.add_header_format("Content-Range", "bytes */{}", size);
        return r;
    }
    Response r(range.kind == ByteRange::Kind::single ? Status::partial_content : Status::ok);
    r.add_trusted_header("Content-Type", primary.type);
    metadata(r);
    if (chosen.has_date)
        r.add_trusted_header("Last-Modified", last_modified);
    r.add_trusted_header("Accept-Ranges", "bytes");
    if (range.kind == ByteRange::Kind::single) {
        r.add_header_format("Content-Range", "bytes {}-{}/{}", range.first, range.last, size);
        r.set_body(entry.data.subspan(usize(range.first), usize(range.last - range.first + 1)));
    } else {
        r.set_body(entry.data);
    }
    return r;
}

Response StaticFiles::not_found(const Request&) const
{
    if (!m_options.not_found_page.empty()) {
        if (const storage::Entry* page = m_store.find(m_options.not_found_page)) {
            Response r(Status::not_found);
            r.add_header("Content-Type", content_type_for(m_options.not_found_page));
            r.add_header("Cache-Control", "no-cache");
            r.set_body(page->data);
            return r;
        }
    }
    return Response::status_page(Status::not_found);
}

} // namespace sarab::http
