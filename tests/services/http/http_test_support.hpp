// Support for the HTTP tests: an in-memory TCP stream whose other end is the test (the
// client), a small response reader, and requests parsed from literal bytes.
#pragma once

#include "../../coroutine_assert.hpp"
#include "../../runtime/runtime_fixture.hpp"

#include <sarab/net/socket.hpp>
#include <sarab/runtime/sync.hpp>
#include <sarab/services/http/parser.hpp>

#include <cstring>
#include <map>
#include <memory>
#include <string>

namespace sarab::http::test {

// Both directions of one connection. The server's side is a net::TcpStream (see stream());
// the test writes requests with send() and reads what the server wrote.
struct Pipe {
    std::string to_server;
    usize server_read = 0;
    bool client_closed = false; // the server reads end of stream once to_server is drained
    std::string from_server;
    usize client_read = 0;
    bool server_shut_write = false;
    bool server_closed = false; // the stream was destroyed (closed) or aborted
    bool aborted = false;
    Instant closed_at {};       // when server_closed became true
    Instant shut_at {};         // when server_shut_write became true
    bool no_delay = false;
    usize max_read = ~usize(0); // the most one read gives the server
    usize reads = 0;
    usize writes = 0;
    Notifier server_wakeup;
    Notifier client_wakeup;

    void send(std::string_view bytes)
    {
        to_server.append(bytes);
        server_wakeup.notify_all();
    }
    void close()
    {
        client_closed = true;
        server_wakeup.notify_all();
    }
    // What the server wrote that the test has not taken yet.
    std::string_view unread() const { return std::string_view(from_server).substr(client_read); }
};

class MemoryStream final : public net::detail::TcpStreamImpl {
public:
    explicit MemoryStream(std::shared_ptr<Pipe> pipe)
        : m_pipe(std::move(pipe))
    {
    }
    ~MemoryStream() override
    {
        m_pipe->server_closed = true;
        m_pipe->closed_at = MonotonicClock::now();
        m_pipe->client_wakeup.notify_all();
    }
    Task<ErrorOr<usize, net::SocketError>> read(std::span<std::byte> buffer) override
    {
        Pipe& p = *m_pipe;
        while (p.server_read == p.to_server.size() && !p.client_closed)
            co_await p.server_wakeup.wait();
        usize n = p.to_server.size() - p.server_read;
        if (n > buffer.size())
            n = buffer.size();
        if (n > p.max_read)
            n = p.max_read;
        std::memcpy(buffer.data(), p.to_server.data() + p.server_read, n);
        p.server_read += n;
        ++p.reads;
        co_return n;
    }
    Task<ErrorOr<void, net::SocketError>> write(std::span<const std::byte> data) override
    {
        Pipe& p = *m_pipe;
        if (p.server_shut_write)
            co_return failure(net::SocketError::closed);
        p.from_server.append(reinterpret_cast<const char*>(data.data()), data.size());
        ++p.writes;
        p.client_wakeup.notify_all();
        co_return ErrorOr<void, net::SocketError>();
    }
    ErrorOr<void, net::SocketError> shutdown_write() override
    {
        m_pipe->server_shut_write = true;
        m_pipe->shut_at = MonotonicClock::now();
        m_pipe->client_wakeup.notify_all();
        return {};
    }
    void set_no_delay(bool on) override { m_pipe->no_delay = on; }
    void abort() override { m_pipe->aborted = true; }
    net::Endpoint local() const override { return {}; }
    net::Endpoint remote() const override { return {}; }

private:
    std::shared_ptr<Pipe> m_pipe;
};

inline net::TcpStream stream_of(const std::shared_ptr<Pipe>& pipe) { return net::TcpStream(std::make_unique<MemoryStream>(pipe)); }

struct ClientResponse {
    int status = 0;
    std::string reason;
    std::multimap<std::string, std::string> headers; // names in lower case
    std::string body;
    bool chunked = false;

    bool has(const std::string& name) const { return headers.count(name) > 0; }
    std::string get(const std::string& name) const
    {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// Parses one response at the start of `text`: its length in `used`, or 0 if incomplete.
// `head_only` for a response to HEAD (no body whatever the fields say).
inline ClientResponse parse_response(std::string_view text, usize& used, bool head_only = false)
{
    ClientResponse r;
    used = 0;
    usize end = text.find("\r\n\r\n");
    if (end == std::string_view::npos)
        return r;
    std::string_view head = text.substr(0, end);
    usize line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    r.status = std::stoi(std::string(status_line.substr(9, 3)));
    r.reason = std::string(status_line.substr(13));
    std::string_view fields = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    while (!fields.empty()) {
        usize e = fields.find("\r\n");
        std::string_view line = fields.substr(0, e);
        fields = e == std::string_view::npos ? std::string_view() : fields.substr(e + 2);
        usize colon = line.find(':');
        std::string name(line.substr(0, colon));
        for (char& c : name)
            c = char(std::tolower(static_cast<unsigned char>(c)));
        r.headers.emplace(name, std::string(line.substr(colon + 2)));
    }
    usize at = end + 4;
    bool no_body = head_only || r.status < 200 || r.status == 204 || r.status == 304;
    if (no_body) {
        used = at;
        return r;
    }
    if (r.get("transfer-encoding") == "chunked") {
        r.chunked = true;
        for (;;) {
            usize le = text.find("\r\n", at);
            if (le == std::string_view::npos)
                return r;
            usize size = std::stoul(std::string(text.substr(at, le - at)), nullptr, 16);
            if (text.size() < le + 2 + size + 2)
                return r;
            r.body.append(text.substr(le + 2, size));
            at = le + 2 + size + 2;
            if (size == 0)
                break;
        }
        used = at;
        return r;
    }
    if (r.has("content-length")) {
        usize length = std::stoul(r.get("content-length"));
        if (text.size() < at + length)
            return r;
        r.body = std::string(text.substr(at, length));
        used = at + length;
        return r;
    }
    // Delimited by the close: complete only when the caller says the stream ended.
    return r;
}

// Waits for the next complete response from the server (or its close: status 0).
inline Task<ClientResponse> next_response(Pipe& pipe, bool head_only = false)
{
    for (;;) {
        usize used = 0;
        ClientResponse r = parse_response(pipe.unread(), used, head_only);
        if (used > 0) {
            pipe.client_read += used;
            co_return r;
        }
        if (pipe.server_closed || pipe.server_shut_write) {
            if (r.status != 0 && !r.has("content-length") && !r.chunked) {
                // A close-delimited body.
                usize end = pipe.unread().find("\r\n\r\n");
                r.body = std::string(pipe.unread().substr(end + 4));
                pipe.client_read = pipe.from_server.size();
                co_return r;
            }
            co_return ClientResponse {};
        }
        co_await pipe.client_wakeup.wait();
    }
}

// Parses `text` as one complete request (the string is the buffer the request points into).
inline ErrorOr<Request*, ParseError> parse_request(RequestParser& parser, std::string& text)
{
    auto progress = parser.parse(std::span(text.data(), text.size()));
    if (!progress)
        return failure(progress.error());
    if (*progress != Progress::complete)
        return failure(ParseError::bad_request);
    return &parser.request();
}

} // namespace sarab::http::test
