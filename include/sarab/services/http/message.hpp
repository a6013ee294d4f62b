// HTTP service: the vocabulary of messages (RFC 9110): methods, status codes, header fields
// and the request as a handler sees it.
//
// A Request is a set of views into the connection's receive buffer: it costs nothing to make
// and is valid only while its handler runs (the buffer is reused for the next request on the
// connection). Header names compare case-insensitively; values are as received, without the
// surrounding whitespace. The path and the route parameters are still percent-encoded:
// percent_decode() them where they name something.
#pragma once

#include <sarab/base/types.hpp>

#include <array>
#include <optional>
#include <span>
#include <string_view>

namespace sarab::http {

// The methods of RFC 9110 9.3 and PATCH (RFC 5789); any other token is `other`, which the
// server answers with 501.
enum class Method : u8 { get, head, post, put, delete_, connect, options, trace, patch, other };
inline constexpr usize method_count = 10;

std::string_view method_name(Method);
// The method named by a request-line token (case-sensitive, as RFC 9110 9.1 says).
Method parse_method(std::string_view token);

// A set of methods, for routes and the Allow header.
class MethodSet {
public:
    constexpr MethodSet() = default;
    constexpr MethodSet(Method m)
        : m_bits(u16(1u << u8(m)))
    {
    }
    constexpr MethodSet operator|(MethodSet other) const { return from_bits(u16(m_bits | other.m_bits)); }
    constexpr MethodSet& operator|=(MethodSet other)
    {
        m_bits |= other.m_bits;
        return *this;
    }
    constexpr bool contains(Method m) const { return (m_bits & (1u << u8(m))) != 0; }
    constexpr bool empty() const { return m_bits == 0; }
    constexpr bool operator==(const MethodSet&) const = default;

private:
    static constexpr MethodSet from_bits(u16 bits)
    {
        MethodSet s;
        s.m_bits = bits;
        return s;
    }
    u16 m_bits = 0;
};

inline constexpr MethodSet operator|(Method a, Method b) { return MethodSet(a) | MethodSet(b); }

enum class Version : u8 { http10, http11 };

// Status codes as numbers: any code from 100 to 999 can be sent; these are the ones the
// library itself uses or that have a reason phrase.
enum class Status : u16 {
    continue_ = 100,
    ok = 200,
    created = 201,
    accepted = 202,
    no_content = 204,
    partial_content = 206,
    moved_permanently = 301,
    found = 302,
    see_other = 303,
    not_modified = 304,
    temporary_redirect = 307,
    permanent_redirect = 308,
    bad_request = 400,
    unauthorized = 401,
    forbidden = 403,
    not_found = 404,
    method_not_allowed = 405,
    not_acceptable = 406,
    request_timeout = 408,
    conflict = 409,
    gone = 410,
    length_required = 411,
    precondition_failed = 412,
    content_too_large = 413,
    uri_too_long = 414,
    unsupported_media_type = 415,
    range_not_satisfiable = 416,
    expectation_failed = 417,
    too_many_requests = 429,
    request_header_fields_too_large = 431,
    internal_server_error = 500,
    not_implemented = 501,
    bad_gateway = 502,
    service_unavailable = 503,
    gateway_timeout = 504,
    http_version_not_supported = 505,
};

constexpr u16 code(Status s) { return u16(s); }
// "Not Found" for 404; "Unknown" for a code without a registered phrase.
std::string_view reason_phrase(Status);
// Responses that never have a body (RFC 9110 6.4.1): 1xx, 204 and 304.
constexpr bool status_has_body(Status s) { return code(s) >= 200 && s != Status::no_content && s != Status::not_modified; }

struct HeaderField {
    std::string_view name;
    std::string_view value;
};

// ASCII case-insensitive equality, for header names and tokens.
bool equals_ignore_case(std::string_view a, std::string_view b);

// Calls `f(element)` for each element of a comma-separated list (RFC 9110 5.6.1), with the
// whitespace around it removed and empty elements skipped. Stops early when f returns false.
template<class F>
void for_each_list_element(std::string_view list, F&& f)
{
    while (!list.empty()) {
        usize comma = list.find(',');
        std::string_view element = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view {} : list.substr(comma + 1);
        while (!element.empty() && (element.front() == ' ' || element.front() == '\t'))
            element.remove_prefix(1);
        while (!element.empty() && (element.back() == ' ' || element.back() == '\t'))
            element.remove_suffix(1);
        if (!element.empty() && !f(element))
            return;
    }
}

// True when the comma-separated `list` has `token` as an element (case-insensitive).
bool list_contains(std::string_view list, std::string_view token);

// Decodes %XX escapes of `in` into `out`. Fails (nullopt) on a malformed escape, on an
// encoded or literal NUL, or when `out` is too small. Does not treat '+' specially (that is
// form encoding, not URI syntax).
std::optional<std::string_view> percent_decode(std::string_view in, std::span<char> out);

struct RouteParam {
    std::string_view name;
    std::string_view value;
};

struct Request {
    static constexpr usize max_params = 8;

    Method method = Method::get;
    Version version = Version::http11;
    std::string_view method_token; // as received, also for Method::other
    std::string_view target;       // the request-target as received
    std::string_view path;         // its path (origin-form; from absolute-form too), percent-encoded
    std::string_view query;        // after '?', without it; empty if none
    std::span<const HeaderField> headers;
    std::span<const std::byte> body; // decoded (chunked bodies are de-chunked)
    bool keep_alive = true;        // what the client asks for, by version and Connection
    bool chunked = false;          // the body came chunked

    // Route parameters, filled by the router (":name" segments; "*" for a tail).
    std::array<RouteParam, max_params> params {};
    usize param_count = 0;

    // The value of the first field called `name`, if any.
    std::optional<std::string_view> header(std::string_view name) const;
    // The route parameter `name` (still percent-encoded), or empty.
    std::string_view param(std::string_view name) const;
    std::string_view body_text() const { return { reinterpret_cast<const char*>(body.data()), body.size() }; }
};

} // namespace sarab::http
