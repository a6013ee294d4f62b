// HTTP service: routing a request to its handler by method and path.
//
// A route is a set of methods, a path pattern and a handler. Patterns are matched segment by
// segment against the (still percent-encoded) path: a literal segment matches itself,
// ":name" matches any one non-empty segment and captures it, and a final "*" matches the rest
// of the path, possibly empty, captured as "*". The first route added whose pattern matches
// and whose methods include the request's wins; a GET route answers HEAD too. When patterns
// match but no method does, the match says which methods would have (for 405 and Allow).
//
// A handler is any callable object, kept inside the router for as long as the router lives,
// so a coroutine lambda may capture by reference what outlives the router:
//     router.get("/hello/:name", [&](Request& r) -> Task<Response> { ... });
//     router.add_stream(Method::get, "/events", [&](Request& r, ResponseStream& out) -> Task<void> { ... });
// Routes are added before serving starts; matching does not allocate.
#pragma once

#include <sarab/runtime/task.hpp>
#include <sarab/services/http/message.hpp>
#include <sarab/services/http/response.hpp>

#include <memory>
#include <string>
#include <vector>

namespace sarab::http {

namespace detail {

struct RouteHandler {
    virtual ~RouteHandler() = default;
    virtual Task<Response> respond(Request&) = 0;
    virtual Task<void> stream(Request&, ResponseStream&) = 0;
};

template<class F>
struct ResponseHandlerOf final : RouteHandler {
    explicit ResponseHandlerOf(F f)
        : function(std::move(f))
    {
    }
    Task<Response> respond(Request& r) override { return function(r); }
    Task<void> stream(Request&, ResponseStream&) override { VERIFY_NOT_REACHED(); }
    F function;
};

template<class F>
struct StreamHandlerOf final : RouteHandler {
    explicit StreamHandlerOf(F f)
        : function(std::move(f))
    {
    }
    Task<Response> respond(Request&) override { VERIFY_NOT_REACHED(); }
    Task<void> stream(Request& r, ResponseStream& out) override { return function(r, out); }
    F function;
};

} // namespace detail

class Router {
public:
    struct Route {
        MethodSet methods;
        std::string pattern;
        bool streams = false;
        std::unique_ptr<detail::RouteHandler> handler;
    };

    struct Match {
        const Route* route = nullptr; // null: no route for this method (or path)
        MethodSet allowed;            // when route is null: the methods the path has routes for
    };

    // handler(Request&) -> Task<Response>
    template<class F>
    Router& add(MethodSet methods, std::string_view pattern, F handler)
    {
        return add_route(methods, pattern, false, std::make_unique<detail::ResponseHandlerOf<F>>(std::move(handler)));
    }
    // handler(Request&, ResponseStream&) -> Task<void>
    template<class F>
    Router& add_stream(MethodSet methods, std::string_view pattern, F handler)
    {
        return add_route(methods, pattern, true, std::make_unique<detail::StreamHandlerOf<F>>(std::move(handler)));
    }
    template<class F>
    Router& get(std::string_view pattern, F handler) { return add(Method::get, pattern, std::move(handler)); }
    template<class F>
    Router& post(std::string_view pattern, F handler) { return add(Method::post, pattern, std::move(handler)); }

    // Finds the route for `request`, and fills its route parameters.
    Match match(Request& request) const;
    std::span<const Route> routes() const { return m_routes; }

private:
    Router& add_route(MethodSet, std::string_view pattern, bool streams, std::unique_ptr<detail::RouteHandler>);

    std::vector<Route> m_routes;
};

// Matches `path` against `pattern`; on success fills `request`'s parameters.
bool match_pattern(std::string_view pattern, std::string_view path, Request& request);

// The value of an Allow field for `methods` ("GET, HEAD, POST"), written into `out`.
std::string_view allow_value(MethodSet methods, std::span<char> out);

} // namespace sarab::http
