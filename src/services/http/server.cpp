// The HTTP/1.1 server: one Connection per client, living in the frame of serve_connection.
#include <sarab/services/http/server.hpp>

#include <sarab/base/log.hpp>
#include <sarab/runtime/scheduler.hpp>
#include <sarab/runtime/sync.hpp>
#include <sarab/runtime/when.hpp>

#include <cstring>
#include <memory>

namespace sarab::http {

namespace {

log::Source g_log { "http" };

// A byte buffer that grows (rarely) and is otherwise reused: [0, size) holds data.
class Buffer {
public:
    char* data() { return m_data.get(); }
    usize size() const { return m_size; }
    usize capacity() const { return m_capacity; }
    void clear() { m_size = 0; }
    void reserve(usize capacity)
    {
        if (capacity <= m_capacity)
            return;
        auto bigger = std::unique_ptr<char[]>(new char[capacity]);
        if (m_size > 0)
            std::memcpy(bigger.get(), m_data.get(), m_size);
        m_data = std::move(bigger);
        m_capacity = capacity;
    }
    void append(const void* bytes, usize n)
    {
        if (m_size + n > m_capacity)
            reserve(m_size + n > 2 * m_capacity ? m_size + n : 2 * m_capacity);
        std::memcpy(m_data.get() + m_size, bytes, n);
        m_size += n;
    }
    void append(std::string_view s) { append(s.data(), s.size()); }
    void append(char c) { append(&c, 1); }
    void append_decimal(u64 v)
    {
        char digits[20];
        usize n = 0;
        do {
            digits[sizeof digits - 1 - n++] = char('0' + v % 10);
            v /= 10;
        } while (v != 0);
        append(digits + sizeof digits - n, n);
    }
    void append_hex(u64 v)
    {
        constexpr char hex[] = "0123456789abcdef";
        char digits[16];
        usize n = 0;
        do {
            digits[sizeof digits - 1 - n++] = hex[v & 0xf];
            v >>= 4;
        } while (v != 0);
        append(digits + sizeof digits - n, n);
    }
    std::span<const std::byte> bytes() const { return { reinterpret_cast<const std::byte*>(m_data.get()), m_size }; }
    // Takes storage of `capacity` bytes (from a pool) for an empty buffer; gives it back.
    void adopt(std::unique_ptr<char[]> storage, usize capacity)
    {
        VERIFY(m_capacity == 0);
        m_data = std::move(storage);
        m_capacity = capacity;
    }
    std::unique_ptr<char[]> release(usize& capacity)
    {
        capacity = m_capacity;
        m_size = m_capacity = 0;
        return std::move(m_data);
    }
    // The free space after the data, to read into, and how much of it was filled.
    std::span<std::byte> spare() { return { reinterpret_cast<std::byte*>(m_data.get()) + m_size, m_capacity - m_size }; }
    void commit(usize n)
    {
        VERIFY(m_size + n <= m_capacity);
        m_size += n;
    }
    // Forgets the first n bytes, moving the rest to the front.
    void drop_front(usize n)
    {
        VERIFY(n <= m_size);
        std::memmove(m_data.get(), m_data.get() + n, m_size - n);
        m_size -= n;
    }

private:
    std::unique_ptr<char[]> m_data;
    usize m_size = 0;
    usize m_capacity = 0;
};

// Connection buffers of one size, kept for the next connection: a server that takes one
// connection per request (Connection: close) does not go to the heap for each, nor make the
// C library grow and trim its heap by the buffers' size every time.
class BufferPool {
public:
    explicit BufferPool(usize size)
        : m_size(size)
    {
    }
    void take(Buffer& buffer)
    {
        if (m_free.empty()) {
            buffer.reserve(m_size);
            return;
        }
        buffer.adopt(std::move(m_free.back()), m_size);
        m_free.pop_back();
    }
    void give(Buffer& buffer)
    {
        usize capacity = 0;
        auto storage = buffer.release(capacity);
        if (storage && capacity == m_size && m_free.size() < max_kept)
            m_free.push_back(std::move(storage));
    }

private:
    static constexpr usize max_kept = 256;
    usize m_size;
    std::vector<std::unique_ptr<char[]>> m_free;
};

Task<void> sleep_task(Instant deadline) { co_await sleep_until(deadline); }
Task<void> event_task(Event& event) { co_await event.wait(); }

// How a response body is delimited.
enum class Framing : u8 { none, length, chunked, close };

} // namespace

namespace detail {

struct ConnectionPools {
    BufferPool in;
    BufferPool out;
};

class Connection {
public:
    enum class Phase : u8 { idle, header, body, handling, writing, linger };

    Connection(Server& server, net::TcpStream& stream)
        : m_server(server)
        , m_options(server.m_options)
        , m_stream(stream)
        , m_parser(server.m_options.limits)
    {
        const Limits& l = m_options.limits;
        // Room for a header block and an encoded body at their limits (see RequestParser).
        usize body_overhead = l.max_body_bytes > 65536 ? l.max_body_bytes : 65536;
        m_in_limit = l.max_header_bytes + l.max_body_bytes + body_overhead + 4096;
        m_server.m_pools->in.take(m_in);
    }
    ~Connection()
    {
        m_server.m_pools->in.give(m_in);
        m_server.m_pools->out.give(m_out);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    Task<void> run();
    Task<void> watchdog();
    // After the watchdog won: the answer, if the client was in the middle of a request.
    Task<void> after_timeout();
    Phase phase() const { return m_phase; }

    // For ResponseStream.
    void append_head(const Response& r, const Request& request, Framing framing, u64 length);
    Task<bool> send_body(std::span<const std::byte> body);
    Task<bool> flush();
    void close_after() { m_close = true; }
    usize buffered() const { return m_out.size(); }
    void append(std::span<const std::byte> bytes) { m_out.append(bytes.data(), bytes.size()); }
    void append(std::string_view text) { m_out.append(text); }
    void append_hex(u64 v) { m_out.append_hex(v); }
    const ServerOptions& options() const { return m_options; }
    void no_delay()
    {
        if (!m_no_delay) {
            m_stream.set_no_delay(true);
            m_no_delay = true;
        }
    }

private:
    Task<bool> handle(Request& request);
    Response own_answer(Request& request, const Router::Route*& route);
    std::span<const std::byte> append_response(const Request& request, Response& response);
    Task<bool> stream(Request& request, const Router::Route& route);
    Task<bool> write_direct(std::span<const std::byte> rest);
    Task<void> reject(ParseError error);
    Task<void> linger();
    Task<void> drain();
    void count(Status s)
    {
        u16 c = code(s) / 100;
        if (c >= 1 && c <= 5)
            ++m_server.m_stats.responses[c];
    }
    void set_deadline(Instant deadline)
    {
        m_deadline = deadline;
        // A deadline earlier than the one the watchdog sleeps until wakes it to re-arm; a later
        // one waits until the watchdog wakes anyway (the common case costs nothing).
        if (deadline < m_armed) {
            m_armed = deadline;
            m_rearm.set();
        }
    }
    bool make_room();

    Server& m_server;
    const ServerOptions& m_options;
    net::TcpStream& m_stream;
    RequestParser m_parser;
    Buffer m_in;
    usize m_begin = 0; // the current request starts here; [m_begin, m_in.size()) is unparsed
    usize m_in_limit;
    Buffer m_out;
    Phase m_phase = Phase::idle;
    Instant m_deadline = never;
    Instant m_armed = never;
    Instant m_request_start {};
    Event m_rearm;
    u64 m_served = 0;
    bool m_close = false;
    bool m_sent_continue = false;
    bool m_no_delay = false;
};

void Connection::append_head(const Response& r, const Request& request, Framing framing, u64 length)
{
    Status status = r.status();
    Buffer& out = m_out;
    if (out.capacity() == 0)
        m_server.m_pools->out.take(out);
    if (status == Status::ok) {
        out.append("HTTP/1.1 200 OK\r\n");
    } else {
        out.append("HTTP/1.1 ");
        out.append_decimal(code(status));
        out.append(' ');
        out.append(reason_phrase(status));
        out.append("\r\n");
    }
    out.append(m_server.common_fields());
    out.append(r.header_block());
    switch (framing) {
    case Framing::none:
        break;
    case Framing::length:
        out.append("Content-Length: ");
        out.append_decimal(length);
        out.append("\r\n");
        break;
    case Framing::chunked:
        out.append("Transfer-Encoding: chunked\r\n");
        break;
    case Framing::close:
        m_close = true;
        break;
    }
    if (m_close || r.closes() || !request.keep_alive) {
        m_close = true;
        out.append("Connection: close\r\n");
    } else if (request.version == Version::http10) {
        out.append("Connection: keep-alive\r\n");
    }
    out.append("\r\n");
    count(status);
    if (g_log.enabled(log::Level::debug))
        log::debug(g_log, "{} {} {}", request.method_token, request.target, code(status));
}

Task<bool> Connection::flush()
{
    if (m_out.size() == 0)
        co_return true;
    Phase was = m_phase;
    m_phase = Phase::writing;
    set_deadline(MonotonicClock::now() + m_options.write_timeout);
    auto written = co_await m_stream.write(m_out.bytes());
    m_out.clear();
    m_phase = was;
    co_return written.has_value();
}

// Copies a small body (or the start of a large one) behind what is buffered, so that a
// response usually leaves in one write; the rest goes to the stream from where it lies.
Task<bool> Connection::send_body(std::span<const std::byte> body)
{
    usize room = m_options.send_buffer > m_out.size() ? m_options.send_buffer - m_out.size() : 0;
    usize now = body.size() <= room ? body.size() : room;
    m_out.append(body.data(), now);
    if (now == body.size())
        co_return true;
    co_return co_await write_direct(body.subspan(now));
}

// Appends the response; returns the part of its body that did not fit in the send buffer
// (to be written from where it lies), usually nothing.
std::span<const std::byte> Connection::append_response(const Request& request, Response& response)
{
    if (response.is_broken()) {
        log::warn(g_log, "{} {}: the handler's response has invalid or too many header fields", request.method_token, request.target);
        response = Response::status_page(Status::internal_server_error);
    }
    std::span<const std::byte> body = response.body();
    Framing framing = Framing::length;
    if (!status_has_body(response.status())) {
        framing = Framing::none;
        body = {};
    }
    append_head(response, request, framing, body.size());
    if (request.method == Method::head || body.empty())
        return {};
    usize room = m_options.send_buffer > m_out.size() ? m_options.send_buffer - m_out.size() : 0;
    usize now = body.size() <= room ? body.size() : room;
    m_out.append(body.data(), now);
    return body.subspan(now);
}

// What the server answers by itself, when no route's handler is to answer; `route` is set
// (and the response unused) when one is.
Response Connection::own_answer(Request& request, const Router::Route*& route)
{
    route = nullptr;
    const Router& router = m_server.m_router;
    if (request.method == Method::other || request.method == Method::connect)
        return Response::status_page(Status::not_implemented);
    std::array<char, 96> allow;
    if (request.target == "*") {
        // OPTIONS * asks about the server as a whole.
        MethodSet all = Method::options;
        for (const Router::Route& r : router.routes())
            all |= r.methods;
        Response r(Status::no_content);
        r.add_header("Allow", allow_value(all, allow));
        return r;
    }
    Router::Match match = router.match(request);
    if (match.route) {
        route = match.route;
        return Response();
    }
    if (match.allowed.empty())
        return Response::status_page(Status::not_found);
    bool options = request.method == Method::options;
    Response r = options ? Response(Status::no_content) : Response::status_page(Status::method_not_allowed);
    r.add_header("Allow", allow_value(match.allowed | Method::options, allow));
    return r;
}

// One Response in the frame, and the work that needs no waiting done by plain functions: the
// frame stays small enough for the runtime's frame allocator.
Task<bool> Connection::handle(Request& request)
{
    ++m_server.m_stats.requests;
    const Router::Route* route;
    Response response = own_answer(request, route);
    if (route) {
        if (route->streams)
            co_return co_await stream(request, *route);
        response = co_await route->handler->respond(request);
    }
    std::span<const std::byte> rest = append_response(request, response);
    if (rest.empty())
        co_return true;
    co_return co_await write_direct(rest);
}

Task<bool> Connection::stream(Request& request, const Router::Route& route)
{
    ResponseStream out(*this, request);
    co_await route.handler->stream(request, out);
    if (out.m_failed)
        co_return false;
    if (!out.finished()) {
        auto finished = co_await out.finish();
        co_return finished.has_value();
    }
    co_return true;
}

// Sends what is buffered, then `rest` straight from where it lies.
Task<bool> Connection::write_direct(std::span<const std::byte> rest)
{
    // A response in more than one write: Nagle's algorithm could hold its last segment
    // until the client acknowledges the one before (40 ms with a delayed ACK).
    no_delay();
    if (!co_await flush())
        co_return false;
    Phase was = m_phase;
    m_phase = Phase::writing;
    set_deadline(MonotonicClock::now() + m_options.write_timeout);
    auto written = co_await m_stream.write(rest);
    m_phase = was;
    co_return written.has_value();
}

bool Connection::make_room()
{
    constexpr usize min_read = 1024;
    if (m_in.capacity() - m_in.size() >= min_read)
        return true;
    if (m_begin > 0) {
        // Earlier requests are done with. The parser keeps offsets from the start of its
        // request, so moving that start does not disturb it.
        m_in.drop_front(m_begin);
        m_begin = 0;
        if (m_in.capacity() - m_in.size() >= min_read)
            return true;
    }
    if (m_in.capacity() >= m_in_limit)
        return m_in.capacity() > m_in.size();
    usize grown = m_in.capacity() * 2;
    m_in.reserve(grown < m_in_limit ? grown : m_in_limit);
    return true;
}

Task<void> Connection::run()
{
    for (;;) {
        std::span<char> unparsed(m_in.data() + m_begin, m_in.size() - m_begin);
        auto parsed = m_parser.parse(unparsed);
        if (parsed.is_error()) {
            co_await reject(parsed.error());
            co_return;
        }
        if (*parsed == Progress::need_more) {
            if (m_parser.expects_continue() && !m_sent_continue) {
                if (m_out.capacity() == 0)
                    m_server.m_pools->out.take(m_out);
                m_out.append("HTTP/1.1 100 Continue\r\n\r\n");
                m_sent_continue = true;
            }
            // Nothing more is coming from the buffer: what was gathered goes now.
            if (!co_await flush())
                co_return;
            Instant now = MonotonicClock::now();
            if (!m_parser.started()) {
                m_phase = Phase::idle;
                set_deadline(now + (m_served == 0 ? m_options.header_timeout : m_options.keep_alive_timeout));
            } else if (!m_parser.headers_complete()) {
                if (m_phase != Phase::header) {
                    m_phase = Phase::header;
                    m_request_start = now;
                }
                set_deadline(m_request_start + m_options.header_timeout);
            } else {
                m_phase = Phase::body;
                set_deadline(now + m_options.body_timeout);
            }
            if (!make_room()) {
                co_await reject(ParseError::body_too_large);
                co_return;
            }
            auto n = co_await m_stream.read(m_in.spare());
            if (!n || *n == 0)
                co_return; // the client has gone; nothing to answer
            m_in.commit(*n);
            continue;
        }

        m_phase = Phase::handling;
        set_deadline(never);
        m_sent_continue = false;
        ++m_served;
        if (!co_await handle(m_parser.request()))
            co_return;
        m_begin += m_parser.consumed();
        m_parser.reset();
        // Responses to pipelined requests are gathered, but only up to the send buffer: a
        // client that pipelines a great many cannot make the server hold all their answers.
        if (m_out.size() >= m_options.send_buffer) {
            no_delay(); // more writes follow this one (see write_direct)
            if (!co_await flush())
                co_return;
        }
        if (m_begin == m_in.size()) {
            m_begin = 0;
            m_in.clear();
        }
        if (m_close) {
            (void)co_await flush();
            co_return;
        }
    }
}

Task<void> Connection::reject(ParseError error)
{
    ++m_server.m_stats.rejected;
    log::debug(g_log, "rejected a request: {}", error_name(error));
    // There is no request to speak of: answer as to an HTTP/1.1 GET, and close.
    Request unknown;
    unknown.keep_alive = false;
    unknown.method_token = "-";
    unknown.target = "-";
    Response r = Response::status_page(status_of(error));
    (void)append_response(unknown, r); // a status page always fits
    if (!co_await flush())
        co_return;
    co_await linger();
}

// Closing a socket with unread data makes the kernel send a reset, which can destroy an
// answer the client has not read yet. So after an error: no more writes, and read (and drop)
// what still comes until the client closes; the caller bounds the time.
Task<void> Connection::drain()
{
    if (!m_stream.shutdown_write())
        co_return;
    m_in.clear();
    m_begin = 0;
    if (m_in.capacity() < 4096)
        m_in.reserve(4096);
    usize total = 0;
    while (total < 4 * 1024 * 1024) {
        auto n = co_await m_stream.read(m_in.spare());
        if (!n || *n == 0)
            co_return;
        total += *n;
    }
}

Task<void> Connection::linger()
{
    m_phase = Phase::linger;
    set_deadline(MonotonicClock::now() + m_options.linger_timeout);
    co_await drain();
}

Task<void> Connection::watchdog()
{
    for (;;) {
        m_rearm.reset();
        if (m_deadline <= MonotonicClock::now())
            co_return;
        m_armed = m_deadline;
        if (m_armed == never)
            co_await m_rearm.wait();
        else
            co_await when_any(sleep_task(m_armed), event_task(m_rearm));
    }
}

Task<void> Connection::after_timeout()
{
    ++m_server.m_stats.timeouts;
    log::debug(g_log, "connection timed out ({})", m_phase == Phase::idle ? "idle" : m_phase == Phase::writing ? "writing" : "reading a request");
    if (m_phase != Phase::header && m_phase != Phase::body)
        co_return;
    // A client in the middle of a request is told why it is cut off; briefly, as it is slow.
    m_out.clear();
    Request unknown;
    unknown.keep_alive = false;
    unknown.method_token = "-";
    unknown.target = "-";
    Response r = Response::status_page(Status::request_timeout);
    append_head(r, unknown, Framing::length, r.body().size());
    m_out.append(r.body().data(), r.body().size());
    auto written = co_await with_timeout(m_options.linger_timeout, m_stream.write(m_out.bytes()));
    if (written && written->has_value())
        (void)co_await with_timeout(m_options.linger_timeout, drain());
}

} // namespace detail

// ---- ResponseStream ----------------------------------------------------------------------

void ResponseStream::start()
{
    m_started = true;
    m_connection.no_delay(); // a body in several writes (see write_direct)
    if (m_head.is_broken()) {
        log::warn(g_log, "{} {}: the stream's head has invalid or too many header fields", m_request.method_token, m_request.target);
        m_head = Response::status_page(Status::internal_server_error);
        m_connection.append_head(m_head, m_request, Framing::length, m_head.body().size());
        if (m_request.method != Method::head)
            m_connection.append(m_head.body());
        m_discard = true;
        return;
    }
    Framing framing = Framing::length;
    u64 length = 0;
    if (!status_has_body(m_head.status())) {
        framing = Framing::none;
        m_discard = true;
    } else if (auto declared = m_head.content_length()) {
        length = *declared;
    } else if (m_request.version == Version::http11) {
        framing = Framing::chunked;
        m_chunked = true;
    } else {
        framing = Framing::close; // an HTTP/1.0 client reads to the end
    }
    if (m_request.method == Method::head)
        m_discard = true;
    m_connection.append_head(m_head, m_request, framing, length);
}

Task<ErrorOr<void, net::SocketError>> ResponseStream::write(std::span<const std::byte> data)
{
    if (m_failed || m_finished)
        co_return failure(net::SocketError::closed);
    if (!m_started)
        start();
    if (m_discard || data.empty())
        co_return ErrorOr<void, net::SocketError>();
    if (auto declared = m_head.content_length(); declared && m_written + data.size() > *declared) {
        // More than the head promised: the framing would break, so the connection ends here.
        m_failed = true;
        co_return failure(net::SocketError::invalid_argument);
    }
    m_written += data.size();
    if (m_chunked) {
        m_connection.append_hex(data.size());
        m_connection.append("\r\n");
    }
    bool ok = co_await m_connection.send_body(data);
    if (m_chunked)
        m_connection.append("\r\n");
    if (ok && m_connection.buffered() >= m_connection.options().send_buffer)
        ok = co_await m_connection.flush();
    if (!ok) {
        m_failed = true;
        co_return failure(net::SocketError::connection_reset);
    }
    co_return ErrorOr<void, net::SocketError>();
}

Task<ErrorOr<void, net::SocketError>> ResponseStream::flush()
{
    if (m_failed)
        co_return failure(net::SocketError::closed);
    if (!m_started)
        start();
    if (!co_await m_connection.flush()) {
        m_failed = true;
        co_return failure(net::SocketError::connection_reset);
    }
    co_return ErrorOr<void, net::SocketError>();
}

Task<ErrorOr<void, net::SocketError>> ResponseStream::finish()
{
    if (m_failed)
        co_return failure(net::SocketError::closed);
    if (m_finished)
        co_return ErrorOr<void, net::SocketError>();
    if (!m_started) {
        // Nothing was written: the length is known after all.
        if (!m_head.content_length())
            m_head.set_content_length(0);
        start();
    }
    if (m_chunked && !m_discard)
        m_connection.append("0\r\n\r\n");
    if (auto declared = m_head.content_length(); declared && !m_discard && m_written != *declared)
        m_connection.close_after(); // fewer bytes than promised: only closing ends the body
    m_finished = true;
    co_return ErrorOr<void, net::SocketError>();
}

// ---- Server ------------------------------------------------------------------------------

std::string_view Server::common_fields()
{
    i64 second = std::chrono::duration_cast<std::chrono::seconds>(WallClock::now().time_since_epoch()).count();
    if (second != m_common_second) {
        FormatBuffer out(m_common);
        if (!m_options.server_name.empty())
            format_to(out, "Server: {}\r\n", m_options.server_name);
        format_to(out, "Date: {}\r\n", m_date.at(second));
        m_common_size = out.size();
        m_common_second = second;
    }
    return { m_common.data(), m_common_size };
}

Server::Server(const Router& router, ServerOptions options)
    : m_router(router)
    , m_options(options)
    , m_pools(new detail::ConnectionPools { BufferPool(options.receive_buffer), BufferPool(options.send_buffer) })
{
    VERIFY(m_options.send_buffer >= 1024 && m_options.receive_buffer >= 1024);
    VERIFY(m_options.server_name.size() <= 100 && m_options.server_name.find_first_of("\r\n") == std::string_view::npos,
        "ServerOptions::server_name is one short line");
}

Server::~Server() = default;

Task<ErrorOr<void, net::SocketError>> Server::serve(net::TcpListener& listener)
{
    for (;;) {
        auto stream = co_await listener.accept();
        if (!stream) {
            net::SocketError e = stream.error();
            if (e == net::SocketError::connection_aborted || e == net::SocketError::connection_reset || e == net::SocketError::no_buffers) {
                log::warn(g_log, "accept: {}", net::error_name(e));
                continue;
            }
            co_return failure(e);
        }
        if (m_stats.open >= m_options.max_connections) {
            stream->abort();
            continue;
        }
        spawn(serve_connection(stream.release_value()));
    }
}

Task<void> Server::serve_connection(net::TcpStream stream)
{
    ++m_stats.connections;
    ++m_stats.open;
    struct Open {
        u64& open;
        ~Open() { --open; }
    } counted { m_stats.open };
    detail::Connection connection(*this, stream);
    auto outcome = co_await when_any(connection.run(), connection.watchdog());
    if (outcome.index() == 1)
        co_await connection.after_timeout();
}

} // namespace sarab::http
