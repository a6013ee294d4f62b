// Routing: patterns, parameters, methods and what a miss reports.
#include <sarab/services/http/router.hpp>

#include <gtest/gtest.h>

using namespace sarab;
using namespace sarab::http;

namespace {

Task<Response> ok(Request&) { co_return Response(Status::ok); }

Request request(Method method, std::string_view path)
{
    Request r;
    r.method = method;
    r.path = path;
    return r;
}

} // namespace

TEST(HttpRouter, MatchesLiteralsParametersAndTails)
{
    Router router;
    router.get("/", ok).get("/about", ok).get("/users/:id/posts/:post", ok).get("/static/*", ok);
    auto routes = router.routes();

    Request r = request(Method::get, "/");
    EXPECT_EQ(router.match(r).route, &routes[0]);
    r = request(Method::get, "/about");
    EXPECT_EQ(router.match(r).route, &routes[1]);
    r = request(Method::get, "/about/");
    EXPECT_EQ(router.match(r).route, nullptr); // exact
    r = request(Method::get, "/users/7/posts/x%20y");
    EXPECT_EQ(router.match(r).route, &routes[2]);
    EXPECT_EQ(r.param("id"), "7");
    EXPECT_EQ(r.param("post"), "x%20y");
    EXPECT_EQ(r.param("missing"), "");
    r = request(Method::get, "/users//posts/1");
    EXPECT_EQ(router.match(r).route, nullptr); // a parameter is never empty
    r = request(Method::get, "/static/css/site.css");
    EXPECT_EQ(router.match(r).route, &routes[3]);
    EXPECT_EQ(r.param("*"), "css/site.css");
    r = request(Method::get, "/static/");
    EXPECT_EQ(router.match(r).route, &routes[3]);
    EXPECT_EQ(r.param("*"), "");
    r = request(Method::get, "/static");
    EXPECT_EQ(router.match(r).route, nullptr);
}

TEST(HttpRouter, MethodsAndWhatIsAllowed)
{
    Router router;
    router.post("/items", ok).get("/items", ok).add(Method::put | Method::delete_, "/items/:id", ok);
    auto routes = router.routes();

    Request r = request(Method::head, "/items");
    EXPECT_EQ(router.match(r).route, &routes[1]); // GET answers HEAD
    r = request(Method::post, "/items");
    EXPECT_EQ(router.match(r).route, &routes[0]);
    r = request(Method::patch, "/items/3");
    auto m = router.match(r);
    EXPECT_EQ(m.route, nullptr);
    EXPECT_EQ(m.allowed, Method::put | Method::delete_);
    r = request(Method::get, "/nothing");
    m = router.match(r);
    EXPECT_EQ(m.route, nullptr);
    EXPECT_TRUE(m.allowed.empty());

    std::array<char, 64> out;
    EXPECT_EQ(allow_value(Method::get | Method::head | Method::options, out), "GET, HEAD, OPTIONS");
    EXPECT_EQ(allow_value({}, out), "");
}

TEST(HttpRouter, FirstMatchWins)
{
    Router router;
    router.get("/a/:x", ok).get("/a/b", ok);
    Request r = request(Method::get, "/a/b");
    EXPECT_EQ(router.match(r).route, &router.routes()[0]);
    EXPECT_EQ(r.param("x"), "b");
}
