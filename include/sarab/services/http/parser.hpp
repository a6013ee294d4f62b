// HTTP service: an incremental HTTP/1.1 request parser (RFC 9112) over a connection buffer.
//
// The parser is handed, on each call, every byte received on the connection that earlier
// requests did not consume, starting with the current request (the buffer may have moved or
// grown since the last call; its prefix must be the same bytes). It never copies a request:
// it keeps offsets, looks at each new byte once (lines are handled as they complete), and
// when the request is complete gives a Request of views into that buffer. A chunked body is
// de-chunked in place, so the buffer is written to, and the decoded body is contiguous.
// Pipelined requests simply stay in the buffer after consumed() bytes.
//
// Anything that breaks the message syntax, or framing that could be read two ways (both
// Content-Length and Transfer-Encoding, two Host fields, whitespace before a colon, a bare
// CR, obs-fold), is an error: the connection answers it and closes. Limits bound what a
// client can make the server hold: the header block (431), the number of fields (431), the
// request-target (414) and the decoded body (413). The parser does not allocate.
#pragma once

#include <sarab/base/error.hpp>
#include <sarab/services/http/message.hpp>

namespace sarab::http {

struct Limits {
    usize max_header_bytes = 16 * 1024; // request line, fields and the empty line -> 431
    usize max_header_count = 100;       // fields (and trailer fields) -> 431; at most header_capacity
    usize max_target_bytes = 8 * 1024;  // the request-target -> 414
    usize max_body_bytes = 1024 * 1024; // the decoded body -> 413
    usize max_chunk_line = 1024;        // a chunk-size line with its extensions -> 400
};

enum class ParseError : u8 {
    bad_request,           // 400: malformed, or ambiguous framing
    target_too_long,       // 414
    headers_too_large,     // 431: header block or field count over the limit
    body_too_large,        // 413
    version_not_supported, // 505: HTTP/2.0 and other majors in a request line
    not_implemented,       // 501: a transfer coding other than chunked
    expectation_failed,    // 417: an Expect other than 100-continue
};

const char* error_name(ParseError);
Status status_of(ParseError);

enum class Progress : u8 { need_more, complete };

class RequestParser {
public:
    // Fields kept per request (and the most Limits::max_header_count may say).
    static constexpr usize header_capacity = 128;

    explicit RequestParser(const Limits& limits = {});

    // Goes on parsing the request at the start of `data`. complete: request() and consumed()
    // are ready. need_more: call again with more bytes. An error is final for the connection.
    ErrorOr<Progress, ParseError> parse(std::span<char> data);

    // Forgets the request, ready for the next one (whose bytes start at consumed()).
    void reset();

    // The complete request, with views into the `data` of the last parse call.
    Request& request() { return m_request; }
    // How many bytes of `data` the complete request took (leading empty lines included).
    usize consumed() const { return m_consumed; }

    // Some byte of a request (other than leading empty lines) has arrived.
    bool started() const { return m_started; }
    // The header block is complete and was valid; the body may not be.
    bool headers_complete() const { return m_stage > Stage::head; }
    // The client sent "Expect: 100-continue" and waits for a 100 before it sends the body.
    bool expects_continue() const { return m_expect_continue; }

private:
    enum class Stage : u8 { head, body, chunk_size, chunk_data, chunk_end, trailers, done };

    struct FieldOffsets {
        u32 name;
        u16 name_length;
        u32 value;
        u32 value_length;
    };

    ErrorOr<Progress, ParseError> parse_head(std::span<char> data);
    ErrorOr<void, ParseError> parse_request_line(std::string_view line, usize offset);
    ErrorOr<void, ParseError> parse_field(std::string_view line, usize offset, bool trailer);
    ErrorOr<void, ParseError> finish_head();
    ErrorOr<Progress, ParseError> parse_chunked(std::span<char> data);
    Progress complete(std::span<char> data, usize body_start, usize body_size, usize consumed);

    Limits m_limits;
    Stage m_stage = Stage::head;
    bool m_started = false;
    bool m_expect_continue = false;
    bool m_have_length = false;
    bool m_te_present = false;
    bool m_te_chunked_last = false;
    bool m_te_chunked_seen = false;
    bool m_te_bad = false;
    bool m_te_unknown = false;
    bool m_connection_close = false;
    bool m_connection_keep_alive = false;
    bool m_expect_other = false;
    bool m_expect_100 = false;
    bool m_line_done = false;    // the request line is parsed
    bool m_path_is_root = false; // an absolute-form target without a path
    u8 m_host_count = 0;
    usize m_start = 0;      // where the request line starts (after leading empty lines)
    usize m_scan = 0;       // where the current line starts: bytes before it are handled
    usize m_field_count = 0;   // header fields, then trailer fields too
    usize m_header_fields = 0; // header fields only
    usize m_trailer_bytes = 0;
    u64 m_content_length = 0;
    usize m_body_start = 0; // after the header block
    usize m_read = 0;       // chunked: the next encoded byte
    usize m_write = 0;      // chunked: the end of the decoded body
    u64 m_chunk_left = 0;
    usize m_consumed = 0;
    // The request line's parts, as offsets.
    u32 m_method_length = 0;
    u32 m_target_offset = 0;
    u32 m_target_length = 0;
    u32 m_path_offset = 0;
    u32 m_path_length = 0;
    u32 m_query_offset = 0;
    u32 m_query_length = 0;
    std::array<FieldOffsets, header_capacity> m_fields;
    // Made only for the fields a request has (a new parser per connection need not clear
    // 4 KiB of views it may never use).
    union Views {
        Views() { }
        HeaderField fields[header_capacity];
    } m_views;
    Request m_request;
};

} // namespace sarab::http
