// kv: a key-value service over HTTP whose keys are kept on a disk, with Sarab's read-write
// store (storage::DiskStore) on the block device "data":
//
//     truncate -s 16M kv.img                                   an empty disk becomes a store
//     ./sarab run examples/kv --block data=kv.img -- --port=8080
//     curl -X PUT --data-binary @photo.jpg http://127.0.0.1:8080/keys/photo    201 (204 if replaced)
//     curl http://127.0.0.1:8080/keys/photo                    the value, or 404
//     curl http://127.0.0.1:8080/keys/                         the keys, one a line (?prefix=P)
//
// Keys are any bytes but NUL, percent-encoded in the path; the list is one key a line, so a key
// with a newline in it makes it ambiguous.
//     curl -X DELETE http://127.0.0.1:8080/keys/photo          204, or 404
//
// A PUT or DELETE is answered once the change is on the disk and the disk flushed: stop the
// image, or the machine, at any time, and what was answered is there when it starts again.
// As a unikernel: ./sarab run -t virtio examples/kv --block data=kv.img --forward 8080:80.
// Errors: 413 when a value does not fit in half the disk, 507 when the disk is full, 500 when
// the disk fails or a record no longer matches its checksum. Disk I/O stops the image while it
// runs (the platform's block calls complete before they return).
#include <sarab/app.hpp>
#include <sarab/net/interface.hpp>
#include <sarab/services/http/server.hpp>
#include <sarab/storage/disk_store.hpp>

using namespace sarab;

namespace {

net::Interface service { "service", "the interface the keys are served on" };
BlockDevice data { "data", "the disk the keys are kept on (an empty one becomes a store)" };
BootArg<u16> port { "port", 80, "TCP port to serve HTTP on" };
BootArg<u64> max_value { "max-value", 1024 * 1024, "the largest value accepted, in bytes" };
log::Source kv_log { "kv" };

constexpr auto insufficient_storage = http::Status(507); // RFC 4918

http::Response failure_response(storage::DiskStoreError e)
{
    switch (e) {
    case storage::DiskStoreError::too_large: return http::Response::text(http::Status::content_too_large, "the value does not fit in the store\n");
    case storage::DiskStoreError::no_space: return http::Response::text(insufficient_storage, "the disk is full\n");
    default: break;
    }
    log::error(kv_log, "the store: {}", storage::error_name(e));
    return http::Response::text(http::Status::internal_server_error, "the disk failed\n");
}

// The key named by the request's path after /keys/, percent-decoded; none when it is not one.
std::optional<std::string> key_of(http::Request& request)
{
    char decoded[storage::DiskStore::max_key];
    auto key = http::percent_decode(request.param("*"), decoded);
    if (!key || key->empty())
        return std::nullopt;
    return std::string(*key);
}

http::Response bad_key() { return http::Response::text(http::Status::bad_request, "a key is 1 to 1024 bytes, percent-encoded\n"); }

} // namespace

Task<int> sarab::app_main()
{
    auto opened = storage::DiskStore::open(data);
    if (!opened) {
        log::error(kv_log, "the disk 'data' ({} sectors): {}", data.sectors(), storage::error_name(opened.error()));
        co_return 1;
    }
    storage::DiskStore& store = *opened.value();

    http::Router router;
    router.get("/keys/*", [&store](http::Request& request) -> Task<http::Response> {
        if (request.param("*").empty()) {
            std::string_view prefix, query = request.query;
            while (!query.empty()) {
                std::string_view parameter = query.substr(0, query.find('&'));
                query.remove_prefix(std::min(query.size(), parameter.size() + 1));
                if (parameter.starts_with("prefix="))
                    prefix = parameter.substr(7);
            }
            char decoded[storage::DiskStore::max_key];
            auto wanted = http::percent_decode(prefix, decoded);
            if (!wanted)
                co_return http::Response::text(http::Status::bad_request, "a prefix is at most 1024 bytes, percent-encoded\n");
            std::string list;
            for (auto& key : store.keys(*wanted))
                list.append(key).push_back('\n');
            http::Response response(http::Status::ok);
            response.add_header("Content-Type", "text/plain; charset=utf-8");
            response.set_owned_body(std::move(list));
            co_return response;
        }
        auto key = key_of(request);
        if (!key)
            co_return bad_key();
        auto value = store.get(*key);
        if (!value)
            co_return failure_response(value.error());
        if (!value.value())
            co_return http::Response::status_page(http::Status::not_found);
        http::Response response(http::Status::ok);
        response.add_header("Content-Type", "application/octet-stream");
        response.set_owned_body(std::string(reinterpret_cast<const char*>(value.value()->data()), value.value()->size()));
        co_return response;
    });
    router.add(http::Method::put, "/keys/*", [&store](http::Request& request) -> Task<http::Response> {
        auto key = key_of(request);
        if (!key)
            co_return bad_key();
        bool replaced = store.contains(*key);
        if (auto put = store.put(*key, request.body); !put)
            co_return failure_response(put.error());
        co_return http::Response(replaced ? http::Status::no_content : http::Status::created);
    });
    router.add(http::Method::delete_, "/keys/*", [&store](http::Request& request) -> Task<http::Response> {
        auto key = key_of(request);
        if (!key)
            co_return bad_key();
        auto removed = store.remove(*key);
        if (!removed)
            co_return failure_response(removed.error());
        co_return http::Response::status_page(removed.value() ? http::Status::no_content : http::Status::not_found);
    });

    http::ServerOptions options;
    options.limits.max_body_bytes = max_value.value();
    http::Server server(router, options);
    auto listener = service.stack().tcp_listen(port.value());
    if (!listener) {
        log::error(kv_log, "cannot listen on TCP port {}: {}", port.value(), net::error_name(listener.error()));
        co_return 1;
    }
    auto stats = store.stats();
    log::info(kv_log, "serving {} keys ({} bytes) from a store of 2 x {} sectors, generation {}, on port {} ({} stack)", stats.keys, stats.value_bytes,
        stats.area_sectors, stats.generation, port.value(), service.stack().kind());
    auto served = co_await server.serve(*listener);
    log::error(kv_log, "accepting connections failed: {}", served ? "?" : net::error_name(served.error()));
    co_return 1;
}
