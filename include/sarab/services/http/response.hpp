// HTTP service: responses, as handlers make them.
//
// A Response is a status, header fields and a body. Header fields are copied into storage
// inside the response (no allocation for the usual few hundred bytes; more spill to the heap,
// up to max_header_bytes); a response whose fields do not fit is sent as a 500, never cut. The body is either borrowed (bytes that outlive the response: a store's
// entries, static text) or owned (a std::string). The server adds what belongs to the
// connection and not to the handler: the status line, Date, Server, Content-Length or
// Transfer-Encoding, Connection; handlers must not set those. For HEAD the server sends the
// same fields as for GET and no body.
//
// A ResponseStream is for handlers that produce the body as they go: set the status and
// fields on head(), then write(). Without set_content_length() the body is sent chunked to an
// HTTP/1.1 client and ended by closing the connection for an HTTP/1.0 one. Writes wait while
// the client is slow to read (back-pressure) and are bounded by the server's write timeout.
#pragma once

#include <sarab/base/error.hpp>
#include <sarab/base/format.hpp>
#include <sarab/net/socket.hpp>
#include <sarab/runtime/task.hpp>
#include <sarab/services/http/message.hpp>

#include <array>
#include <optional>
#include <string>

namespace sarab::http {

class Response {
public:
    // Kept small so that a coroutine frame holding a Response stays within the runtime's
    // frame size classes.
    static constexpr usize inline_header_bytes = 256;
    static constexpr usize max_header_bytes = 16 * 1024;

    explicit Response(Status status = Status::ok)
        : m_status(status)
    {
    }
    // Copies only the part of the field storage in use.
    Response(const Response& other) { *this = other; }
    Response(Response&& other) noexcept { *this = std::move(other); }
    Response& operator=(const Response& other);
    Response& operator=(Response&& other) noexcept;

    // A text body (borrowed: it must outlive the response) with its Content-Type.
    static Response text(Status status, std::string_view body, std::string_view content_type = "text/plain; charset=utf-8");
    // The server's own short page for an error or other status without content of its own.
    static Response status_page(Status status);
    // A redirect to `location` (copied).
    static Response redirect(Status status, std::string_view location);

    Status status() const { return m_status; }
    void set_status(Status s) { m_status = s; }

    // Adds "name: value". The name must be a token and the value must not hold CR, LF or NUL
    // (a value that does is not added and the response becomes a 500: a handler that copies
    // request text into a field cannot split the response).
    void add_header(std::string_view name, std::string_view value);
    // The same without the checks, for a name and value known to be valid (constants, text
    // the caller generated and checked once): a static file server adds several per response.
    void add_trusted_header(std::string_view name, std::string_view value);
    // Adds a field whose value is formatted like format_to.
    template<class... Args>
    void add_header_format(std::string_view name, FormatString<Args...> fmt, const Args&... args)
    {
        std::array<char, 256> text;
        FormatBuffer value(text);
        format_to<Args...>(value, fmt, args...);
        if (value.truncated())
            m_overflow = true;
        else
            add_header(name, value.view());
    }
    // The fields as they go on the wire: "Name: value\r\n" each.
    std::string_view header_block() const { return m_spilled.empty() ? std::string_view(m_headers.data(), m_header_size) : std::string_view(m_spilled); }
    // The first field called `name` (case-insensitive), for tests and middleware.
    std::optional<std::string_view> header(std::string_view name) const;
    // A field did not fit, or was invalid: the server answers 500 instead.
    bool is_broken() const { return m_overflow; }

    // Bytes that outlive the response (a store entry, static data): no copy.
    void set_body(std::span<const std::byte> bytes)
    {
        m_owned.clear();
        m_owns = false;
        m_body = bytes;
    }
    void set_body(std::string_view text) { set_body(std::as_bytes(std::span(text))); }
    void set_owned_body(std::string text)
    {
        m_owned = std::move(text);
        m_owns = true;
        m_body = {};
    }
    std::span<const std::byte> body() const { return m_owns ? std::as_bytes(std::span(m_owned)) : m_body; }

    // For a ResponseStream: the body that follows will be `length` bytes.
    void set_content_length(u64 length) { m_content_length = length; }
    std::optional<u64> content_length() const { return m_content_length; }

    // Closes the connection after this response.
    void set_close() { m_close = true; }
    bool closes() const { return m_close; }

private:
    std::array<char, inline_header_bytes> m_headers;
    u16 m_header_size = 0;
    std::string m_spilled; // all the fields, once they outgrow m_headers
    Status m_status = Status::ok;
    bool m_overflow = false;
    bool m_close = false;
    bool m_owns = false;
    std::optional<u64> m_content_length;
    std::span<const std::byte> m_body;
    std::string m_owned;
};

namespace detail {
class Connection;
}

class ResponseStream {
public:
    ResponseStream(const ResponseStream&) = delete;
    ResponseStream& operator=(const ResponseStream&) = delete;

    // Status and fields, until the first write.
    Response& head() { return m_head; }
    // Sends the head first if it has not gone yet. An error means the client is gone.
    Task<ErrorOr<void, net::SocketError>> write(std::span<const std::byte> data);
    Task<ErrorOr<void, net::SocketError>> write(std::string_view text) { return write(std::as_bytes(std::span(text))); }
    // Sends what is buffered now (writes are gathered up to the server's send buffer).
    Task<ErrorOr<void, net::SocketError>> flush();
    // Ends the body (the server does it if the handler does not).
    Task<ErrorOr<void, net::SocketError>> finish();
    bool started() const { return m_started; }
    bool finished() const { return m_finished; }

private:
    friend class detail::Connection;
    ResponseStream(detail::Connection& connection, const Request& request)
        : m_connection(connection)
        , m_request(request)
    {
    }
    void start();

    detail::Connection& m_connection;
    const Request& m_request;
    Response m_head;
    u64 m_written = 0;
    bool m_started = false;
    bool m_finished = false;
    bool m_chunked = false;
    bool m_failed = false;
    bool m_discard = false; // HEAD, or a status without a body: writes are dropped
};

} // namespace sarab::http
