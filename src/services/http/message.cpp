#include <sarab/services/http/message.hpp>

namespace sarab::http {

namespace {

constexpr std::string_view g_method_names[method_count] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "",
};

constexpr char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c + ('a' - 'A')) : c; }

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

} // namespace

std::string_view method_name(Method m) { return g_method_names[usize(m)]; }

Method parse_method(std::string_view token)
{
    // The common case first; the rest are rare enough for a scan.
    if (token == "GET")
        return Method::get;
    for (usize i = 1; i + 1 < method_count; ++i) {
        if (token == g_method_names[i])
            return Method(i);
    }
    return Method::other;
}

std::string_view reason_phrase(Status s)
{
    switch (s) {
    case Status::continue_: return "Continue";
    case Status::ok: return "OK";
    case Status::created: return "Created";
    case Status::accepted: return "Accepted";
    case Status::no_content: return "No Content";
    case Status::partial_content: return "Partial Content";
    case Status::moved_permanently: return "Moved Permanently";
    case Status::found: return "Found";
    case Status::see_other: return "See Other";
    case Status::not_modified: return "Not Modified";
    case Status::temporary_redirect: return "Temporary Redirect";
    case Status::permanent_redirect: return "Permanent Redirect";
    case Status::bad_request: return "Bad Request";
    case Status::unauthorized: return "Unauthorized";
    case Status::forbidden: return "Forbidden";
    case Status::not_found: return "Not Found";
    case Status::method_not_allowed: return "Method Not Allowed";
    case Status::not_acceptable: return "Not Acceptable";
    case Status::request_timeout: return "Request Timeout";
    case Status::conflict: return "Conflict";
    case Status::gone: return "Gone";
    case Status::length_required: return "Length Required";
    case Status::precondition_failed: return "Precondition Failed";
    case Status::content_too_large: return "Content Too Large";
    case Status::uri_too_long: return "URI Too Long";
    case Status::unsupported_media_type: return "Unsupported Media Type";
    case Status::range_not_satisfiable: return "Range Not Satisfiable";
    case Status::expectation_failed: return "Expectation Failed";
    case Status::too_many_requests: return "Too Many Requests";
    case Status::request_header_fields_too_large: return "Request Header Fields Too Large";
    case Status::internal_server_error: return "Internal Server Error";
    case Status::not_implemented: return "Not Implemented";
    case Status::bad_gateway: return "Bad Gateway";
    case Status::service_unavailable: return "Service Unavailable";
    case Status::gateway_timeout: return "Gateway Timeout";
    case Status::http_version_not_supported: return "HTTP Version Not Supported";
    }
    return "Unknown";
}

bool equals_ignore_case(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (usize i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i]))
            return false;
    }
    return true;
}

bool list_contains(std::string_view list, std::string_view token)
{
    bool found = false;
    for_each_list_element(list, [&](std::string_view element) {
        found = equals_ignore_case(element, token);
        return !found;
    });
    return found;
}

std::optional<std::string_view> percent_decode(std::string_view in, std::span<char> out)
{
    usize n = 0;
    for (usize i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= in.size())
                return std::nullopt;
            int hi = hex_value(in[i + 1]);
            int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            c = char(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || n == out.size())
            return std::nullopt;
        out[n++] = c;
    }
    return std::string_view(out.data(), n);
}

std::optional<std::string_view> Request::header(std::string_view name) const
{
    for (const HeaderField& f : headers) {
        if (equals_ignore_case(f.name, name))
            return f.value;
    }
    return std::nullopt;
}

std::string_view Request::param(std::string_view name) const
{
    for (usize i = 0; i < param_count; ++i) {
        if (params[i].name == name)
            return params[i].value;
    }
    return {};
}

} // namespace sarab::http
