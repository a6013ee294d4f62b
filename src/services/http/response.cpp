#include <sarab/services/http/response.hpp>

#include <cstring>

namespace sarab::http {

namespace {

// Token characters (RFC 9110 5.6.2), for field names.
constexpr std::array<bool, 256> make_token_table()
{
    std::array<bool, 256> t {};
    for (int c = 0; c < 256; ++c) {
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        t[usize(c)] = alnum || (c != 0 && std::string_view("!#$%&'*+-.^_`|~").find(char(c)) != std::string_view::npos);
    }
    return t;
}
constexpr std::array<bool, 256> g_token = make_token_table();

bool valid_name(std::string_view name)
{
    if (name.empty())
        return false;
    for (char c : name) {
        if (!g_token[u8(c)])
            return false;
    }
    return true;
}

// What would end the field or the head early; other bytes are the handler's business.
bool valid_value(std::string_view value)
{
    for (char c : value) {
        if (u8(c) <= '\r' && (c == '\r' || c == '\n' || c == '\0'))
            return false;
    }
    return true;
}

// Short bodies for the statuses the server sends on its own: static text, so borrowed.
struct StatusPage {
    Status status;
    std::string_view body;
};

constexpr StatusPage g_pages[] = {
    { Status::bad_request, "400 Bad Request\n" },
    { Status::forbidden, "403 Forbidden\n" },
    { Status::not_found, "404 Not Found\n" },
    { Status::method_not_allowed, "405 Method Not Allowed\n" },
    { Status::request_timeout, "408 Request Timeout\n" },
    { Status::precondition_failed, "412 Precondition Failed\n" },
    { Status::content_too_large, "413 Content Too Large\n" },
    { Status::uri_too_long, "414 URI Too Long\n" },
    { Status::range_not_satisfiable, "416 Range Not Satisfiable\n" },
    { Status::expectation_failed, "417 Expectation Failed\n" },
    { Status::request_header_fields_too_large, "431 Request Header Fields Too Large\n" },
    { Status::internal_server_error, "500 Internal Server Error\n" },
    { Status::not_implemented, "501 Not Implemented\n" },
    { Status::service_unavailable, "503 Service Unavailable\n" },
    { Status::http_version_not_supported, "505 HTTP Version Not Supported\n" },
};

} // namespace

Response Response::text(Status status, std::string_view body, std::string_view content_type)
{
    Response r(status);
    r.add_header("Content-Type", content_type);
    r.set_body(body);
    return r;
}

Response Response::status_page(Status status)
{
    for (const StatusPage& page : g_pages) {
        if (page.status == status)
            return text(status, page.body);
    }
    return Response(status);
}

Response Response::redirect(Status status, std::string_view location)
{
    Response r(status);
    r.add_header("Location", location);
    return r;
}

Response& Response::operator=(const Response& other)
{
    if (this == &other)
        return *this;
    std::memcpy(m_headers.data(), other.m_headers.data(), other.m_header_size);
    m_header_size = other.m_header_size;
    m_spilled = other.m_spilled;
    m_status = other.m_status;
    m_overflow = other.m_overflow;
    m_close = other.m_close;
    m_owns = other.m_owns;
    m_content_length = other.m_content_length;
    m_body = other.m_body;
    m_owned = other.m_owned;
    return *this;
}

Response& Response::operator=(Response&& other) noexcept
{
    if (this == &other)
        return *this;
    std::memcpy(m_headers.data(), other.m_headers.data(), other.m_header_size);
    m_header_size = other.m_header_size;
    m_spilled = std::move(other.m_spilled);
    m_status = other.m_status;
    m_overflow = other.m_overflow;
    m_close = other.m_close;
    m_owns = other.m_owns;
    m_content_length = other.m_content_length;
    m_body = other.m_body;
    m_owned = std::move(other.m_owned);
    return *this;
}

void Response::add_header(std::string_view name, std::string_view value)
{
    if (!valid_name(name) || !valid_value(value)) {
        m_overflow = true;
        return;
    }
    add_trusted_header(name, value);
}

void Response::add_trusted_header(std::string_view name, std::string_view value)
{
    usize need = name.size() + 2 + value.size() + 2;
    if (m_spilled.empty() && m_header_size + need <= m_headers.size()) {
        char* at = m_headers.data() + m_header_size;
        std::memcpy(at, name.data(), name.size());
        at += name.size();
        *at++ = ':';
        *at++ = ' ';
        std::memcpy(at, value.data(), value.size());
        at += value.size();
        *at++ = '\r';
        *at++ = '\n';
        m_header_size = u16(m_header_size + need);
        return;
    }
    usize size = m_spilled.empty() ? m_header_size : m_spilled.size();
    if (size + need > max_header_bytes) {
        m_overflow = true;
        return;
    }
    if (m_spilled.empty())
        m_spilled.assign(m_headers.data(), m_header_size);
    m_spilled.append(name).append(": ").append(value).append("\r\n");
}

std::optional<std::string_view> Response::header(std::string_view name) const
{
    std::string_view block = header_block();
    while (!block.empty()) {
        usize end = block.find("\r\n");
        std::string_view line = block.substr(0, end);
        block.remove_prefix(end + 2);
        usize colon = line.find(':');
        if (equals_ignore_case(line.substr(0, colon), name))
            return line.substr(colon + 2);
    }
    return std::nullopt;
}

} // namespace sarab::http
