// The request parser: lines are handled as they complete, so each byte is looked at once
// (memchr finds the line ends), and a slow client costs no rescanning.
#include <sarab/services/http/parser.hpp>

#include <cstring>
#include <new>

namespace sarab::http {

namespace {

// Character classes of RFC 9110 5.6.2 (tchar) and 5.5 (field-vchar), in one table.
enum : u8 { token_char = 1, value_char = 2, target_char = 4 };

constexpr std::array<u8, 256> make_classes()
{
    std::array<u8, 256> t {};
    for (int c = 0; c < 256; ++c) {
        u8 bits = 0;
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (alnum || (c != 0 && std::string_view("!#$%&'*+-.^_`|~").find(char(c)) != std::string_view::npos))
            bits |= token_char;
        if (c == '\t' || (c >= 0x20 && c <= 0x7e) || c >= 0x80)
            bits |= value_char;
        if (c >= 0x21 && c <= 0x7e)
            bits |= target_char;
        t[usize(c)] = bits;
    }
    return t;
}

constexpr std::array<u8, 256> g_classes = make_classes();

bool all_of_class(std::string_view s, u8 cls)
{
    for (char c : s) {
        if (!(g_classes[u8(c)] & cls))
            return false;
    }
    return true;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool starts_with_ignore_case(std::string_view s, std::string_view prefix)
{
    return s.size() >= prefix.size() && equals_ignore_case(s.substr(0, prefix.size()), prefix);
}

// The line [from, lf) without a CR before the LF.
std::string_view line_at(const char* base, usize from, usize lf)
{
    usize end = lf;
    if (end > from && base[end - 1] == '\r')
        --end;
    return { base + from, end - from };
}

// A request line longer than any target allows: a long target if a method came first (414),
// else not a request line at all (400). `line` has at least 32 bytes.
ParseError long_request_line(const char* line)
{
    std::string_view head(line, 32);
    usize space = head.find(' ');
    if (space != std::string_view::npos && space > 0 && all_of_class(head.substr(0, space), token_char))
        return ParseError::target_too_long;
    return ParseError::bad_request;
}

} // namespace

const char* error_name(ParseError e)
{
    switch (e) {
    case ParseError::bad_request: return "malformed request";
    case ParseError::target_too_long: return "request-target too long";
    case ParseError::headers_too_large: return "header fields too large";
    case ParseError::body_too_large: return "body too large";
    case ParseError::version_not_supported: return "HTTP version not supported";
    case ParseError::not_implemented: return "transfer coding not implemented";
    case ParseError::expectation_failed: return "expectation not supported";
    }
    return "parse error";
}

Status status_of(ParseError e)
{
    switch (e) {
    case ParseError::bad_request: return Status::bad_request;
    case ParseError::target_too_long: return Status::uri_too_long;
    case ParseError::headers_too_large: return Status::request_header_fields_too_large;
    case ParseError::body_too_large: return Status::content_too_large;
    case ParseError::version_not_supported: return Status::http_version_not_supported;
    case ParseError::not_implemented: return Status::not_implemented;
    case ParseError::expectation_failed: return Status::expectation_failed;
    }
    return Status::bad_request;
}

RequestParser::RequestParser(const Limits& limits)
    : m_limits(limits)
{
    VERIFY(m_limits.max_header_count <= header_capacity, "Limits::max_header_count is above RequestParser::header_capacity");
    VERIFY(m_limits.max_header_bytes < (usize(1) << 31) && m_limits.max_body_bytes < (usize(1) << 40));
}

void RequestParser::reset()
{
    // Everything but the limits and the field arrays, which are overwritten before they are
    // read.
    m_stage = Stage::head;
    m_started = m_expect_continue = m_have_length = false;
    m_te_present = m_te_chunked_last = m_te_chunked_seen = m_te_bad = m_te_unknown = false;
    m_connection_close = m_connection_keep_alive = m_expect_other = m_line_done = m_expect_100 = false;
    m_host_count = 0;
    m_start = m_scan = m_field_count = m_header_fields = m_trailer_bytes = 0;
    m_content_length = 0;
    m_body_start = m_read = m_write = m_consumed = 0;
    m_chunk_left = 0;
    m_method_length = m_target_offset = m_target_length = 0;
    m_path_offset = m_path_length = m_query_offset = m_query_length = 0;
    m_path_is_root = false;
    m_request.param_count = 0;
}

ErrorOr<Progress, ParseError> RequestParser::parse(std::span<char> data)
{
    switch (m_stage) {
    case Stage::head: {
        auto head = TRY(parse_head(data));
        if (head == Progress::need_more)
            return Progress::need_more;
        if (m_stage == Stage::body)
            break;
        return parse_chunked(data);
    }
    case Stage::body:
        break;
    case Stage::chunk_size:
    case Stage::chunk_data:
    case Stage::chunk_end:
    case Stage::trailers:
        return parse_chunked(data);
    case Stage::done:
        return Progress::complete;
    }
    u64 need = m_body_start + m_content_length;
    if (data.size() < need)
        return Progress::need_more;
    return complete(data, m_body_start, usize(m_content_length), usize(need));
}

// Returns complete when the header block is done (the body may still be to come).
ErrorOr<Progress, ParseError> RequestParser::parse_head(std::span<char> data)
{
    const char* base = data.data();
    usize end = data.size();
    if (!m_started) {
        // RFC 9112 2.2: ignore empty lines before the request-line (some clients send a CRLF
        // after a POST body).
        while (m_start < end && (base[m_start] == '\r' || base[m_start] == '\n'))
            ++m_start;
        if (m_start > m_limits.max_header_bytes)
            return failure(ParseError::bad_request);
        if (m_start == end)
            return Progress::need_more;
        m_started = true;
        m_scan = m_start;
    }
    for (;;) {
        const void* lf = m_scan < end ? std::memchr(base + m_scan, '\n', end - m_scan) : nullptr;
        if (!lf) {
            usize pending = end - m_start;
            if (!m_line_done) {
                // What cannot start a request line is refused now, not after a timeout (a TLS
                // ClientHello sent to the plain port, binary garbage).
                for (usize i = m_start; i < end && i < m_start + 32 && base[i] != ' '; ++i) {
                    if (!(g_classes[u8(base[i])] & token_char))
                        return failure(ParseError::bad_request);
                }
            }
            // A CR at the end may yet turn out to end the line, which it is not part of.
            usize line_so_far = pending - (base[end - 1] == '\r' ? 1 : 0);
            if (!m_line_done && line_so_far > m_limits.max_target_bytes + 32)
                return failure(long_request_line(base + m_start));
            if (pending > m_limits.max_header_bytes)
                return failure(ParseError::headers_too_large);
            return Progress::need_more;
        }
        usize lf_at = usize(static_cast<const char*>(lf) - base);
        usize line_start = m_scan;
        m_scan = lf_at + 1;
        if (m_scan - m_start > m_limits.max_header_bytes && m_line_done)
            return failure(ParseError::headers_too_large);
        std::string_view line = line_at(base, line_start, lf_at);
        if (!m_line_done) {
            // Judged as when it arrives slowly, so that the answer does not depend on that.
            if (line.size() > m_limits.max_target_bytes + 32)
                return failure(long_request_line(line.data()));
            TRY(parse_request_line(line, line_start));
            m_line_done = true;
            continue;
        }
        if (line.empty()) {
            m_body_start = m_scan;
            TRY(finish_head());
            return Progress::complete;
        }
        TRY(parse_field(line, line_start, false));
    }
}

ErrorOr<void, ParseError> RequestParser::parse_request_line(std::string_view line, usize offset)
{
    usize sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0)
        return failure(ParseError::bad_request);
    std::string_view method = line.substr(0, sp1);
    if (!all_of_class(method, token_char))
        return failure(ParseError::bad_request);
    std::string_view rest = line.substr(sp1 + 1);
    usize sp2 = rest.find(' ');
    if (sp2 == std::string_view::npos || sp2 == 0)
        return failure(ParseError::bad_request); // HTTP/0.9, or a missing target
    std::string_view target = rest.substr(0, sp2);
    if (target.size() > m_limits.max_target_bytes)
        return failure(ParseError::target_too_long);
    if (!all_of_class(target, target_char))
        return failure(ParseError::bad_request);
    std::string_view version = rest.substr(sp2 + 1);
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !digit(version[5]) || version[6] != '.' || !digit(version[7]))
        return failure(ParseError::bad_request);
    if (version[5] != '1')
        return failure(ParseError::version_not_supported);
    // A later 1.x is answered as 1.1 (RFC 9110 6.2).
    m_request.version = version[7] == '0' ? Version::http10 : Version::http11;
    m_request.method = parse_method(method);
    m_method_length = u32(sp1);
    m_target_offset = u32(offset + sp1 + 1);
    m_target_length = u32(target.size());

    // The path and query, by the form of the target (RFC 9112 3.2).
    usize target_offset = m_target_offset;
    if (target.front() != '/') {
        if (starts_with_ignore_case(target, "http://") || starts_with_ignore_case(target, "https://")) {
            usize authority = target.find("//") + 2;
            usize path = target.find_first_of("/?", authority);
            if (path == std::string_view::npos || target[path] == '?') {
                m_path_is_root = true;
                target = path == std::string_view::npos ? std::string_view {} : target.substr(path);
                target_offset += path == std::string_view::npos ? 0 : path;
            } else {
                target_offset += path;
                target = target.substr(path);
            }
        } else if (target == "*") {
            if (m_request.method != Method::options)
                return failure(ParseError::bad_request);
        } else if (m_request.method != Method::connect) {
            return failure(ParseError::bad_request);
        }
    }
    usize question = target.find('?');
    if (!m_path_is_root) {
        m_path_offset = u32(target_offset);
        m_path_length = u32(question == std::string_view::npos ? target.size() : question);
    }
    if (question != std::string_view::npos) {
        m_query_offset = u32(target_offset + question + 1);
        m_query_length = u32(target.size() - question - 1);
    }
    return {};
}

ErrorOr<void, ParseError> RequestParser::parse_field(std::string_view line, usize offset, bool trailer)
{
    // A line that starts with whitespace is obs-fold (or whitespace before the first field):
    // rejected, as RFC 9112 5.2 allows, since recipients disagree on what it means.
    if (is_space(line.front()))
        return failure(ParseError::bad_request);
    usize colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
        return failure(ParseError::bad_request);
    std::string_view name = line.substr(0, colon);
    // Whitespace between the name and the colon is a token error, as RFC 9112 5.1 requires.
    if (!all_of_class(name, token_char))
        return failure(ParseError::bad_request);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && is_space(value.front()))
        value.remove_prefix(1);
    while (!value.empty() && is_space(value.back()))
        value.remove_suffix(1);
    if (!all_of_class(value, value_char))
        return failure(ParseError::bad_request); // NUL, a bare CR, other controls
    if (++m_field_count > m_limits.max_header_count)
        return failure(ParseError::headers_too_large);
    if (trailer)
        return {}; // trailer fields are checked and dropped (RFC 9110 6.5.1)

    usize value_offset = offset + usize(value.data() - line.data());
    m_fields[m_field_count - 1] = { u32(offset), u16(name.size()), u32(value_offset), u32(value.size()) };

    // The fields that decide framing and the connection's fate.
    switch (name.size()) {
    case 4:
        if (equals_ignore_case(name, "host") && m_host_count < 2)
            ++m_host_count;
        break;
    case 6:
        if (equals_ignore_case(name, "expect")) {
            if (equals_ignore_case(value, "100-continue"))
                m_expect_100 = true;
            else
                m_expect_other = true;
        }
        break;
    case 10:
        if (equals_ignore_case(name, "connection")) {
            for_each_list_element(value, [&](std::string_view token) {
                if (equals_ignore_case(token, "close"))
                    m_connection_close = true;
                else if (equals_ignore_case(token, "keep-alive"))
                    m_connection_keep_alive = true;
                return true;
            });
        }
        break;
    case 14:
        if (equals_ignore_case(name, "content-length")) {
            if (value.empty() || value.size() > 15)
                return failure(value.empty() ? ParseError::bad_request : ParseError::body_too_large);
            u64 length = 0;
            for (char c : value) {
                if (c < '0' || c > '9')
                    return failure(ParseError::bad_request);
                length = length * 10 + u64(c - '0');
            }
            // Repeated fields must agree (RFC 9112 6.3); a list is refused outright.
            if (m_have_length && length != m_content_length)
                return failure(ParseError::bad_request);
            m_have_length = true;
            m_content_length = length;
        }
        break;
    case 17:
        if (equals_ignore_case(name, "transfer-encoding")) {
            m_te_present = true;
            bool any = false;
            for_each_list_element(value, [&](std::string_view coding) {
                any = true;
                if (m_te_chunked_last)
                    m_te_bad = true; // something after chunked, or chunked twice
                if (equals_ignore_case(coding, "chunked")) {
                    m_te_chunked_last = true;
                    m_te_chunked_seen = true;
                } else {
                    m_te_unknown = true;
                    m_te_chunked_last = false;
                }
                return true;
            });
            if (!any)
                m_te_bad = true;
        }
        break;
    default:
        break;
    }
    return {};
}

ErrorOr<void, ParseError> RequestParser::finish_head()
{
    bool http11 = m_request.version == Version::http11;
    // RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one before.
    if (m_host_count > 1 || (http11 && m_host_count == 0))
        return failure(ParseError::bad_request);
    if (m_te_present) {
        // Framing that a proxy in front could read differently is refused (RFC 9112 6.1, 6.3).
        if (!http11 || m_have_length || m_te_bad || !m_te_chunked_last)
            return failure(ParseError::bad_request);
        if (m_te_unknown)
            return failure(ParseError::not_implemented);
    }
    // An HTTP/1.0 client's Expect is ignored (RFC 9110 10.1.1).
    if (http11 && m_expect_other)
        return failure(ParseError::expectation_failed);
    if (m_have_length && m_content_length > m_limits.max_body_bytes)
        return failure(ParseError::body_too_large);
    m_request.chunked = m_te_present;
    m_expect_continue = http11 && m_expect_100 && (m_te_present || m_content_length > 0);
    m_request.keep_alive = !m_connection_close && (http11 || m_connection_keep_alive);
    m_header_fields = m_field_count;
    m_read = m_write = m_body_start;
    m_stage = m_te_present ? Stage::chunk_size : Stage::body;
    return {};
}

ErrorOr<Progress, ParseError> RequestParser::parse_chunked(std::span<char> data)
{
    char* base = data.data();
    usize end = data.size();
    for (;;) {
        switch (m_stage) {
        case Stage::chunk_size: {
            const void* lf = m_read < end ? std::memchr(base + m_read, '\n', end - m_read) : nullptr;
            if (!lf) {
                usize line_so_far = end - m_read - (end > m_read && base[end - 1] == '\r' ? 1 : 0);
                if (line_so_far > m_limits.max_chunk_line)
                    return failure(ParseError::bad_request);
                return Progress::need_more;
            }
            usize lf_at = usize(static_cast<const char*>(lf) - base);
            std::string_view line = line_at(base, m_read, lf_at);
            if (line.size() > m_limits.max_chunk_line)
                return failure(ParseError::bad_request);
            u64 size = 0;
            usize i = 0;
            for (; i < line.size(); ++i) {
                int d = hex_digit(line[i]);
                if (d < 0)
                    break;
                size = size * 16 + u64(d);
                if (size > m_limits.max_body_bytes)
                    return failure(ParseError::body_too_large);
            }
            if (i == 0)
                return failure(ParseError::bad_request);
            // Chunk extensions (RFC 9112 7.1.1) are allowed and ignored.
            std::string_view rest = line.substr(i);
            while (!rest.empty() && is_space(rest.front()))
                rest.remove_prefix(1);
            if (!rest.empty() && (rest.front() != ';' || !all_of_class(rest, value_char)))
                return failure(ParseError::bad_request);
            m_read = lf_at + 1;
            if (size == 0) {
                m_stage = Stage::trailers;
                continue;
            }
            if (m_write - m_body_start + size > m_limits.max_body_bytes)
                return failure(ParseError::body_too_large);
            // What the chunk lines add to the buffer is bounded too, so that tiny chunks cannot
            // make the connection hold many times the body limit.
            usize overhead = m_read - m_write;
            if (overhead > (m_limits.max_body_bytes > 65536 ? m_limits.max_body_bytes : 65536))
                return failure(ParseError::body_too_large);
            m_chunk_left = size;
            m_stage = Stage::chunk_data;
            continue;
        }
        case Stage::chunk_data: {
            usize available = end - m_read;
            if (available == 0)
                return Progress::need_more;
            usize n = available < m_chunk_left ? available : usize(m_chunk_left);
            if (m_write != m_read)
                std::memmove(base + m_write, base + m_read, n);
            m_write += n;
            m_read += n;
            m_chunk_left -= n;
            if (m_chunk_left > 0)
                return Progress::need_more;
            m_stage = Stage::chunk_end;
            continue;
        }
        case Stage::chunk_end:
            if (m_read == end)
                return Progress::need_more;
            if (base[m_read] == '\n') {
                m_read += 1;
            } else if (base[m_read] == '\r') {
                if (m_read + 1 == end)
                    return Progress::need_more;
                if (base[m_read + 1] != '\n')
                    return failure(ParseError::bad_request);
                m_read += 2;
            } else {
                return failure(ParseError::bad_request);
            }
            m_stage = Stage::chunk_size;
            continue;
        case Stage::trailers: {
            const void* lf = m_read < end ? std::memchr(base + m_read, '\n', end - m_read) : nullptr;
            if (!lf) {
                if (m_trailer_bytes + (end - m_read) > m_limits.max_header_bytes)
                    return failure(ParseError::headers_too_large);
                return Progress::need_more;
            }
            usize lf_at = usize(static_cast<const char*>(lf) - base);
            std::string_view line = line_at(base, m_read, lf_at);
            m_trailer_bytes += lf_at + 1 - m_read;
            if (m_trailer_bytes > m_limits.max_header_bytes)
                return failure(ParseError::headers_too_large);
            usize line_start = m_read;
            m_read = lf_at + 1;
            if (line.empty())
                return complete(data, m_body_start, m_write - m_body_start, m_read);
            TRY(parse_field(line, line_start, true));
            continue;
        }
        case Stage::head:
        case Stage::body:
        case Stage::done:
            VERIFY_NOT_REACHED();
        }
    }
}

Progress RequestParser::complete(std::span<char> data, usize body_start, usize body_size, usize consumed)
{
    const char* base = data.data();
    Request& r = m_request;
    r.method_token = { base + m_start, m_method_length };
    r.target = { base + m_target_offset, m_target_length };
    r.path = m_path_is_root ? std::string_view("/") : std::string_view(base + m_path_offset, m_path_length);
    r.query = { base + m_query_offset, m_query_length };
    usize fields = m_header_fields; // trailer fields were counted, not kept
    for (usize i = 0; i < fields; ++i) {
        const FieldOffsets& f = m_fields[i];
        new (&m_views.fields[i]) HeaderField { { base + f.name, f.name_length }, { base + f.value, f.value_length } };
    }
    r.headers = std::span<const HeaderField>(m_views.fields, fields);
    r.body = std::as_bytes(std::span<const char>(base + body_start, body_size));
    m_consumed = consumed;
    m_stage = Stage::done;
    return Progress::complete;
}

} // namespace sarab::http
