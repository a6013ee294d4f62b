#include <sarab/services/http/router.hpp>

namespace sarab::http {

namespace {

// The next segment of a path or pattern that starts with '/', and the rest after it.
std::string_view next_segment(std::string_view& rest)
{
    rest.remove_prefix(1); // the '/'
    usize slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view {} : rest.substr(slash);
    return segment;
}

} // namespace

Router& Router::add_route(MethodSet methods, std::string_view pattern, bool streams, std::unique_ptr<detail::RouteHandler> handler)
{
    VERIFY(!pattern.empty() && pattern.front() == '/', "a route pattern starts with '/'");
    VERIFY(!methods.empty(), "a route needs a method");
    usize star = pattern.find('*');
    VERIFY(star == std::string_view::npos || (star == pattern.size() - 1 && pattern[star - 1] == '/'), "'*' is only a whole last segment");
    if (methods.contains(Method::get))
        methods |= Method::head;
    m_routes.push_back(Route { methods, std::string(pattern), streams, std::move(handler) });
    return *this;
}

bool match_pattern(std::string_view pattern, std::string_view path, Request& request)
{
    usize params = 0;
    std::array<RouteParam, Request::max_params> found;
    while (!pattern.empty()) {
        if (path.empty() || path.front() != '/')
            return false;
        if (pattern == "/*") {
            found[params++] = { "*", path.substr(1) };
            path = {};
            pattern = {};
            break;
        }
        std::string_view want = next_segment(pattern);
        std::string_view have = next_segment(path);
        if (!want.empty() && want.front() == ':') {
            if (have.empty() || params == found.size())
                return false;
            found[params++] = { want.substr(1), have };
        } else if (want != have) {
            return false;
        }
    }
    if (!path.empty())
        return false;
    request.params = found;
    request.param_count = params;
    return true;
}

Router::Match Router::match(Request& request) const
{
    Match m;
    for (const Route& route : m_routes) {
        if (!route.methods.contains(request.method)) {
            // Only worth a look for the Allow field when nothing matched yet.
            Request scratch;
            if (match_pattern(route.pattern, request.path, scratch))
                m.allowed |= route.methods;
            continue;
        }
        if (match_pattern(route.pattern, request.path, request)) {
            m.route = &route;
            return m;
        }
    }
    return m;
}

std::string_view allow_value(MethodSet methods, std::span<char> out)
{
    usize n = 0;
    for (usize i = 0; i + 1 < method_count; ++i) {
        if (!methods.contains(Method(i)))
            continue;
        std::string_view name = method_name(Method(i));
        if (n + name.size() + 2 > out.size())
            break;
        if (n > 0) {
            out[n++] = ',';
            out[n++] = ' ';
        }
        for (char c : name)
            out[n++] = c;
    }
    return { out.data(), n };
}

} // namespace sarab::http
