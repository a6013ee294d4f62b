// The server over an in-memory stream on the simulated platform: literal requests in, whole
// responses out, in virtual time (so the timeouts of minutes take microseconds).
#include "http_test_support.hpp"

#include <sarab/runtime/when.hpp>
#include <sarab/services/http/server.hpp>

#include <functional>

using namespace sarab;
using namespace sarab::http;
using namespace std::chrono_literals;

namespace {

class HttpServerTest : public RuntimeTest {
protected:
    HttpServerTest()
    {
        m_router.get("/hello", [](Request&) -> Task<Response> { co_return Response::text(Status::ok, "hello\n"); });
        m_router.get("/users/:id", [](Request& r) -> Task<Response> {
            Response response(Status::ok);
            response.set_owned_body("user " + std::string(r.param("id")));
            co_return response;
        });
        // The request's body lives until its response is written: it can be sent back as is.
        m_router.add(Method::post | Method::put, "/echo", [](Request& r) -> Task<Response> {
            Response response(Status::ok);
            response.add_header("Content-Type", "application/octet-stream");
            response.set_body(r.body);
            co_return response;
        });
        m_router.get("/big", [this](Request&) -> Task<Response> {
            Response response(Status::ok);
            response.set_body(std::as_bytes(std::span(m_big)));
            co_return response;
        });
        m_router.get("/slow", [](Request&) -> Task<Response> {
            co_await sleep_for(2s);
            co_return Response::text(Status::ok, "slow\n");
        });
        m_router.get("/broken", [](Request&) -> Task<Response> {
            Response response(Status::ok);
            response.add_header("X-Injected", "a\r\nSet-Cookie: b");
            co_return response;
        });
        m_router.add_stream(Method::get, "/stream", [](Request& r, ResponseStream& out) -> Task<void> {
            out.head().add_header("Content-Type", "text/plain");
            if (r.query == "length")
                out.head().set_content_length(12);
            for (int i = 0; i < 3; ++i) {
                if (!co_await out.write("part"))
                    co_return;
            }
        });
        m_router.get("/many-fields", [](Request&) -> Task<Response> {
            // More than a Response keeps inline: the fields spill to the heap, all kept.
            Response response(Status::ok);
            for (int i = 0; i < 40; ++i)
                response.add_header_format("X-Field-" + std::to_string(i), "value number {}", i);
            co_return response;
        });
        m_router.add_stream(Method::get, "/empty-stream", [](Request&, ResponseStream&) -> Task<void> { co_return; });
        for (usize i = 0; i < m_big.size(); ++i)
            m_big[i] = char('a' + i % 26);
    }

    // Runs `client` against one connection of a server with `options`, then closes the
    // client's side and waits for the server to finish with the connection.
    void serve(std::function<Task<void>(test::Pipe&)> client, ServerOptions options = {})
    {
        Server server(m_router, options);
        auto pipe = std::make_shared<test::Pipe>();
        m_pipe = pipe;
        Scheduler s;
        s.run([&]() -> Task<void> {
            TaskHandle connection = spawn(server.serve_connection(test::stream_of(pipe)));
            co_await client(*pipe);
            pipe->close();
            (void)co_await connection.join();
        }());
        m_stats = server.stats();
    }

    Router m_router;
    std::string m_big = std::string(100 * 1024, 'x');
    std::shared_ptr<test::Pipe> m_pipe;
    ServerStats m_stats;
};

const std::string get_hello = "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n";

} // namespace

TEST_F(HttpServerTest, AnswersAndKeepsTheConnection)
{
    serve([](test::Pipe& pipe) -> Task<void> {
        pipe.send(get_hello);
        auto r = co_await test::next_response(pipe);
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.reason, "OK");
        EXPECT_EQ(r.body, "hello\n");
        EXPECT_EQ(r.get("content-length"), "6");
        EXPECT_EQ(r.get("content-type"), "text/plain; charset=utf-8");
        EXPECT_EQ(r.get("server"), "sarab");
        EXPECT_EQ(r.get("date").size(), 29u);
        EXPECT_TRUE(r.get("date").ends_with(" GMT"));
        EXPECT_FALSE(r.has("connection"));
        pipe.send("GET /users/42 HTTP/1.1\r\nHost: h\r\n\r\n");
        r = co_await test::next_response(pipe);
        EXPECT_EQ(r.body, "user 42");
        EXPECT_FALSE(pipe.server_closed);
    });
    EXPECT_FALSE(m_pipe->no_delay); // one write per response: Nagle's algorithm never waits
    EXPECT_EQ(m_stats.requests, 2u);
    EXPECT_EQ(m_stats.responses[2], 2u);
    EXPECT_EQ(m_stats.open, 0u);
}

TEST_F(HttpServerTest, AnswersPipelinedRequestsInOrderWithOneWrite)
{
    serve([](test::Pipe& pipe) -> Task<void> {
        pipe.send(get_hello + "GET /users/1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody"
            + "GET /users/2 HTTP/1.1\r\nHost: h\r\n\r\n");
        std::vector<std::string> bodies;
        for (int i = 0; i < 4; ++i)
            bodies.push_back((co_await test::next_response(pipe)).body);
        EXPECT_EQ(bodies, (std::vector<std::string> { "hello\n", "user 1", "body", "user 2" }));
        EXPECT_EQ(pipe.writes, 1u);
    });
}

TEST_F(HttpServerTest, ManyPipelinedRequestsAreAnsweredInOrderInBoundedWrites)
{
    serve([](test::Pipe& pipe) -> Task<void> {
        std::string burst;
        for (int i = 0; i < 300; ++i)
            burst += "GET /users/" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n";
        pipe.send(burst);
        for (int i = 0; i < 300; ++i) {
            auto r = co_await test::next_response(pipe);
            EXPECT_EQ(r.body, "user " + std::to_string(i));
        }
        // Gathered, but never more than the send buffer (16 KiB) at a time.
        EXPECT_GT(pipe.writes, 1u);
        EXPECT_LT(pipe.writes, 10u);
    });
}

TEST_F(HttpServerTest, ReadsRequestsThatArriveAByteAtATime)
{
    serve([](test::Pipe& pipe) -> Task<void> {
        pipe.max_read = 1;
        pipe.send("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n");
        auto r = co_await test::next_response(pipe);
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "abcde");
        pipe.send(get_hello);
        r = co_await test::next_response(pipe);
        EXPECT_EQ(r.body, "hello\n");
    });
}

TEST_F(HttpServerTest, HeadHasTheFieldsOfGetAndNoBody)
{
    serve([](test::Pipe& pipe) -> Task<void> {
        pipe.send("HEAD /hello HTTP/1.1\r\nHost: h\r\n\r\n");
        auto r = co_await test::next_response(pipe, true);
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.get("content-length"), "6");
        EXPECT_EQ(pipe.unread(), "");
        pipe.send("HEAD /stream HTTP/1.1\r\nHost: h\r\n\r\n");
        r = co_await test::next_response(pipe, true);
        EXPECT_EQ(r.get("transfer-encoding"), "chunked");
        pipe.send(get_hello);
        r = co_await test::next_response(pipe);
        EXPECT_EQ(r.body, "hello\n"); // nothing stray came before it
    });
}

TEST_F(HttpServerTest, AnswersWhatHasNoRoute)
{
    serve([](test::Pipe& pipe) -> Task<void> {
        pipe.send("GET /nothing HTTP/1.1\r\nHost: h\r\n\r\n");
        auto r = co_await test::next_response(pipe);
        EXPECT_EQ(r.status, 404);
        pipe.send("DELETE /hello HTTP/1.1\r\nHost: h\r\n\r\n");
        r = co_await test::next_response(pipe);
        EXPECT_EQ(r.status, 405);
        EXPECT_EQ(r.get("allow"), "GET, HEAD, OPTIONS");
        pipe.send("OPTIONS /echo HTTP/1.1\r\nHost: h\r\n\r\n");
        r = co_await test::next_response(pipe);
        EXPECT_EQ(r.status, 204);
        EXPECT_EQ(r.get("allow"), "POST, PUT, OPTIONS");
        pipe.send("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
        r = co_await test::next_response(pipe);
        EXPECT_EQ(r.status, 204);
        EXPECT_EQ(r.get("allow"), "GET, HEAD, POST, PUT, OPTIONS");
        pipe.send("BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n");
        r = co_await test::next_response(pipe);
        EXPECT_EQ(r.status, 501);
        // None of these closes the connection.
        pipe.send(get_hello);
        r = co_await test::next_response(pipe);
        EXPECT_EQ(r.status, 200);
    });
}

TEST_F(HttpServerTest, MalformedRequestsAreAnsweredAndTheConnectionCloses)
{
    struct Case {
        std::string request;
        int status;
    };
    ServerOptions options;
    options.limits.max_header_bytes = 1024;
    options.limits.max_body_bytes = 1000;
    options.limits.max_target_bytes = 512;
    std::vector<Case> cases = {
        { "GET / HTTP/1.1\r\nHost: h\r\nBad Field: x\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\n\r\n", 400 },
        { "GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505 },
        { "GET /" + std::string(600, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 414 },
        { "GET / HTTP/1.1\r\nHost: h\r\nCookie: " + std::string(2000, 'c') + "\r\n\r\n", 431 },
        { "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n", 413 },
        { "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501 },
        { "POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx", 417 },
        { "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
    };
    for (const Case& c : cases) {
        serve(
            [&](test::Pipe& pipe) -> Task<void> {
                pipe.send(c.request);
                auto r = co_await test::next_response(pipe);
                EXPECT_EQ(r.status, c.status) << c.request.substr(0, 60);
                EXPECT_EQ(r.get("connection"), "close");
                EXPECT_TRUE(pipe.server_shut_write);
            },
            options);
        EXPECT_EQ(m_stats.rejected, 1u);
    }
}

TEST_F(HttpServerTest, RefusesATooLargeBodyBeforeItIsSent)
{
    ServerOptions options;
    options.limits.max_body_bytes = 100;
    serve(
        [](test::Pipe& pipe) -> Task<void> {
            pipe.send("PUT /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
            auto r = co_await test::next_response(pipe);
            EXPECT_EQ(r.status, 413); // and no 100 Continue before it
        },
        options);
}

TEST_F(HttpServerTest, SendsContinueBeforeReadingTheBody)
{
    serve([](test::Pipe& pipe) -> Task<void> {
        pipe.send("PUT /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        auto r = co_await test::next_response(pipe);
        EXPECT_EQ(r.status, 100);
        pipe.send("12345");
        r = co_await test::next_response(pipe);
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "12345");
    });
}

TEST_F(HttpServerTest, ClosesWhenAsked)
{
    serve([](test::Pipe& pipe) -> Task<void> {
        pipe.send("GET /hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        auto r = co_await test::next_response(pipe);
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.get("connection"), "close");
        while (!pipe.server_closed)
            co_await pipe.client_wakeup.wait();
    });
    serve([](test::Pipe& pipe) -> Task<void> {
        pipe.send("GET /hello HTTP/1.0\r\n\r\n");
        auto r = co_await test::next_response(pipe);
        EXPECT_EQ(r.get("connection"), "close");
        while (!pipe.server_closed)
            co_await pipe.client_wakeup.wait();
    });
    serve([](test::Pipe& pipe) -> Task<void> {
        pipe.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        auto r = co_await test::next_response(pipe);
        EXPECT_EQ(r.get("connection"), "keep-alive");
        pipe.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        r = co_await test::next_response(pipe);
        EXPECT_EQ(r.status, 200);
        EXPECT_FALSE(pipe.server_closed);
    });
}

TEST_F(HttpServerTest, StreamsChunkedOrWithALengthOrToTheClose)
{
    serve([](test::Pipe& pipe) -> Task<void> {
        pipe.send("GET /stream HTTP/1.1\r\nHost: h\r\n\r\n");
        auto r = co_await test::next_response(pipe);
        EXPECT_TRUE(r.chunked);
        EXPECT_EQ(r.body, "partpartpart");
        EXPECT_EQ(r.get("content-type"), "text/plain");
        pipe.send("GET /stream?length HTTP/1.1\r\nHost: h\r\n\r\n");
        r = co_await test::next_response(pipe);
        EXPECT_FALSE(r.chunked);
        EXPECT_EQ(r.get("content-length"), "12");
        EXPECT_EQ(r.body, "partpartpart");
        pipe.send("GET /empty-stream HTTP/1.1\r\nHost: h\r\n\r\n");
        r = co_await test::next_response(pipe);
        EXPECT_EQ(r.get("content-length"), "0");
        EXPECT_FALSE(pipe.server_closed);
    });
    serve([](test::Pipe& pipe) -> Task<void> {
        pipe.send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        auto r = co_await test::next_response(pipe);
        EXPECT_FALSE(r.chunked);
        EXPECT_FALSE(r.has("content-length"));
        EXPECT_EQ(r.body, "partpartpart");
        EXPECT_EQ(r.get("connection"), "close");
    });
}

TEST_F(HttpServerTest, LargeBodiesAreWrittenFromWhereTheyAre)
{
    serve([this](test::Pipe& pipe) -> Task<void> {
        pipe.send("GET /big HTTP/1.1\r\nHost: h\r\n\r\n");
        auto r = co_await test::next_response(pipe);
        EXPECT_EQ(r.body.size(), m_big.size());
        EXPECT_TRUE(r.body == m_big);
        EXPECT_EQ(pipe.writes, 2u); // the head with the first part, then the rest
        EXPECT_TRUE(pipe.no_delay);  // so that the last segment does not wait for an ACK
    });
}

TEST_F(HttpServerTest, ManyFieldsAreAllSent)
{
    serve([](test::Pipe& pipe) -> Task<void> {
        pipe.send("GET /many-fields HTTP/1.1\r\nHost: h\r\n\r\n");
        auto r = co_await test::next_response(pipe);
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.get("x-field-0"), "value number 0");
        EXPECT_EQ(r.get("x-field-39"), "value number 39");
        EXPECT_EQ(r.headers.size(), 40u + 3); // and Server, Date, Content-Length
    });
}

TEST_F(HttpServerTest, ABrokenResponseBecomesA500)
{
    serve([](test::Pipe& pipe) -> Task<void> {
        pipe.send("GET /broken HTTP/1.1\r\nHost: h\r\n\r\n");
        auto r = co_await test::next_response(pipe);
        EXPECT_EQ(r.status, 500);
        EXPECT_FALSE(r.has("set-cookie"));
    });
}

TEST_F(HttpServerTest, ClosesIdleConnections)
{
    ServerOptions options;
    options.header_timeout = 5s;
    options.keep_alive_timeout = 20s;
    // A connection that never sends anything is closed after header_timeout ...
    serve(
        [](test::Pipe& pipe) -> Task<void> {
            while (!pipe.server_closed)
                co_await pipe.client_wakeup.wait();
            EXPECT_EQ(elapsed(), 5s);
            EXPECT_EQ(pipe.from_server, ""); // silently
        },
        options);
    EXPECT_EQ(m_stats.timeouts, 1u);
    // ... and one that had a request, keep_alive_timeout after its response.
    sarab::platform::sim::reset();
    serve(
        [](test::Pipe& pipe) -> Task<void> {
            co_await sleep_for(1s);
            pipe.send(get_hello);
            auto r = co_await test::next_response(pipe);
            EXPECT_EQ(r.status, 200);
            while (!pipe.server_closed)
                co_await pipe.client_wakeup.wait();
            EXPECT_EQ(elapsed(), 21s);
            EXPECT_EQ(pipe.unread(), "");
        },
        options);
}

TEST_F(HttpServerTest, TimesOutASlowlorisWith408)
{
    ServerOptions options;
    options.header_timeout = 5s;
    serve(
        [](test::Pipe& pipe) -> Task<void> {
            pipe.send(get_hello);
            (void)co_await test::next_response(pipe);
            co_await sleep_for(3s);
            // One header line a second, for ever: the header block has 5 s from its first byte.
            pipe.send("GET /hello HTTP/1.1\r\n");
            for (int i = 0; i < 60 && !pipe.server_closed; ++i) {
                co_await sleep_for(1s);
                pipe.send("X-Slow: 1\r\n");
            }
            auto r = co_await test::next_response(pipe);
            EXPECT_EQ(r.status, 408);
            EXPECT_EQ(r.get("connection"), "close");
            EXPECT_TRUE(pipe.server_closed);
            EXPECT_EQ(pipe.shut_at.time_since_epoch(), 8s); // 5 s after the request's first byte
            // Then it reads what still comes for the linger time, so the 408 is not lost to a reset.
            EXPECT_EQ(pipe.closed_at.time_since_epoch(), 10s);
        },
        options);
    EXPECT_EQ(m_stats.timeouts, 1u);
}

TEST_F(HttpServerTest, AnEarlierDeadlineWakesTheWatchdog)
{
    // The watchdog sleeps until the keep-alive deadline (60 s away) when a request starts to
    // arrive; the header deadline, 5 s from its first byte, is earlier and must still hold.
    ServerOptions options;
    options.header_timeout = 5s;
    options.keep_alive_timeout = 60s;
    serve(
        [](test::Pipe& pipe) -> Task<void> {
            pipe.send(get_hello);
            (void)co_await test::next_response(pipe);
            co_await sleep_for(10s);
            pipe.send("GET /hello HTTP/1.1\r\nHost");
            auto r = co_await test::next_response(pipe);
            EXPECT_EQ(r.status, 408);
            EXPECT_EQ(elapsed(), 15s); // it arrives at once, in virtual time
        },
        options);
}

TEST_F(HttpServerTest, TimesOutASilentBody)
{
    ServerOptions options;
    options.body_timeout = 7s;
    serve(
        [](test::Pipe& pipe) -> Task<void> {
            pipe.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345");
            co_await sleep_for(6s);
            pipe.send("6");
            auto r = co_await test::next_response(pipe);
            EXPECT_EQ(r.status, 408);
            EXPECT_EQ(elapsed(), 13s);
        },
        options);
}

TEST_F(HttpServerTest, AHandlerMayTakeItsTime)
{
    ServerOptions options;
    options.keep_alive_timeout = 1s;
    serve(
        [](test::Pipe& pipe) -> Task<void> {
            pipe.send(get_hello);
            (void)co_await test::next_response(pipe);
            pipe.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
            auto r = co_await test::next_response(pipe);
            EXPECT_EQ(r.status, 200);
            EXPECT_EQ(r.body, "slow\n");
        },
        options);
}

TEST_F(HttpServerTest, ServesOverAListenerWithManyConnections)
{
    // Several clients at once, each with its own pipelined requests.
    Server server(m_router);
    std::vector<std::shared_ptr<test::Pipe>> pipes;
    for (int i = 0; i < 5; ++i)
        pipes.push_back(std::make_shared<test::Pipe>());
    Scheduler s;
    s.run([&]() -> Task<void> {
        std::vector<TaskHandle> connections;
        for (auto& pipe : pipes) {
            connections.push_back(spawn(server.serve_connection(test::stream_of(pipe))));
            pipe->send(get_hello + get_hello);
        }
        for (auto& pipe : pipes) {
            for (int i = 0; i < 2; ++i) {
                auto r = co_await test::next_response(*pipe);
                EXPECT_EQ(r.body, "hello\n");
            }
            pipe->close();
        }
        for (auto& c : connections)
            (void)co_await c.join();
    }());
    EXPECT_EQ(server.stats().connections, 5u);
    EXPECT_EQ(server.stats().requests, 10u);
}
