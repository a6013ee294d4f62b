// www: Sarab's own website, served by Sarab.
//
// The files come from the read-only store "htdocs": the pages in site/, compiled into the
// image, or on hosted any directory bound when the image starts (`./sarab run --kv
// htdocs=DIR examples/www`). They are served by the HTTP/1.1 server on the boot argument
// --port (80 by default):
//
//     ./sarab run examples/www -- --port=8080        then browse http://127.0.0.1:8080
//
// With --echo the image also answers POST and PUT /echo with the request's own body: a
// diagnostic route, off by default, that the tests use for uploads.
#include <sarab/app.hpp>
#include <sarab/net/interface.hpp>
#include <sarab/services/http/server.hpp>
#include <sarab/services/http/static_files.hpp>
#include <sarab/storage/store.hpp>

using namespace sarab;
using namespace std::chrono_literals;

namespace {

net::Interface service { "service", "the interface the website is served on" };
storage::ReadOnlyStore htdocs { "htdocs", "the website's files" };
BootArg<u16> port { "port", 80, "TCP port to serve HTTP on" };
BootArg<Duration> header_timeout { "header-timeout", 10s, "time a client has to send a request's header block" };
BootArg<Duration> keep_alive_timeout { "keep-alive-timeout", 30s, "how long an idle connection is kept open" };
BootArg<u64> max_body { "max-body", 1024 * 1024, "the largest request body accepted, in bytes" };
BootArg<bool> echo { "echo", false, "also answer POST and PUT /echo with the request body" };
log::Source www_log { "www" };

} // namespace

Task<int> sarab::app_main()
{
    http::StaticFiles files(htdocs);
    http::Router router;
    if (echo.value()) {
        // The request's body lives until its response is written, so it is sent back as is.
        router.add(http::Method::post | http::Method::put, "/echo", [](http::Request& request) -> Task<http::Response> {
            http::Response response(http::Status::ok);
            response.add_header("Content-Type", "application/octet-stream");
            response.add_header("X-Content-Type-Options", "nosniff");
            response.set_body(request.body);
            co_return response;
        });
    }
    router.get("/*", [&files](http::Request& request) -> Task<http::Response> { co_return files.serve(request); });

    http::ServerOptions options;
    options.header_timeout = header_timeout.value();
    options.keep_alive_timeout = keep_alive_timeout.value();
    options.limits.max_body_bytes = max_body.value();
    http::Server server(router, options);

    net::Stack& stack = service.stack();
    auto listener = stack.tcp_listen(port.value());
    if (!listener) {
        log::error(www_log, "cannot listen on TCP port {}: {}", port.value(), net::error_name(listener.error()));
        co_return 1;
    }
    log::info(www_log, "serving {} files ({} bytes) on port {} ({} stack)", htdocs.size(), htdocs.total_bytes(), port.value(), stack.kind());
    auto served = co_await server.serve(*listener);
    log::error(www_log, "accepting connections failed: {}", served ? "?" : net::error_name(served.error()));
    co_return 1;
}
