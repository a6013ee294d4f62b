// Storage layer: read-only key-value stores, like MirageOS's crunch.
//
// An application declares a store by name, like a device:
//
//     sarab::storage::ReadOnlyStore zones { "zones", "the zone files to serve" };
//
// and, once the runtime has opened it (before app_main), looks keys up: paths relative to
// the store's root with '/' between parts ("example.org.zone", "css/site.css"). A store is
// immutable while the image runs; its contents are in memory, so a lookup is a binary search
// and the bytes are handed out without copying.
//
// Where the contents come from is decided when the image is built and run: compiled into the
// image (`./sarab build --kv NAME=DIR`, the only way on virtio), or, on hosted, read from a
// directory when the image starts (`./sarab run --kv NAME=DIR`, which passes
// --dev=NAME=dir:DIR). Every entry carries a strong content hash (for ETags and change
// detection) and its modification time.
#pragma once

#include <sarab/base/error.hpp>
#include <sarab/runtime/devices.hpp>

#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace sarab::storage {

struct Entry {
    std::string_view key;             // "dir/file.ext", never starting with '/'
    std::span<const std::byte> data;
    u64 hash = 0;                     // 64-bit FNV-1a of the contents
    i64 modified_ns = 0;              // modification time, ns since the Unix epoch
};

// The contents of a store: entries sorted by key, and whatever owns their bytes.
class StoreContents {
public:
    virtual ~StoreContents() = default;
    virtual std::span<const Entry> entries() const = 0;
};

class ReadOnlyStore final : public DeviceDeclaration {
public:
    ReadOnlyStore(const char* name, const char* help)
        : DeviceDeclaration("store", name, help)
    {
    }

    ErrorOr<void, OpenError> open_declared(FormatBuffer& error) override;

    // The entry for `key`, or null.
    const Entry* find(std::string_view key) const;
    // Every entry, sorted by key.
    std::span<const Entry> entries() const;
    // The entries whose key starts with `prefix` (a directory is "dir/"), sorted.
    std::span<const Entry> with_prefix(std::string_view prefix) const;
    usize size() const { return entries().size(); }
    u64 total_bytes() const;

    // For tests and tools: use these contents instead of opening by name.
    void set_contents(std::unique_ptr<StoreContents>);

private:
    std::unique_ptr<StoreContents> m_contents;
};

// Contents made in memory from (key, bytes, mtime) triples: for tests, and for loaders.
class OwnedContents final : public StoreContents {
public:
    void add(std::string key, std::vector<std::byte> data, i64 modified_ns = 0);
    // Sorts and hashes; call once after the last add. False if two entries share a key.
    bool finish();
    std::span<const Entry> entries() const override { return m_entries; }

private:
    struct Item {
        std::string key;
        std::vector<std::byte> data;
        i64 modified_ns;
    };
    std::vector<std::unique_ptr<Item>> m_items;
    std::vector<Entry> m_entries;
};

u64 content_hash(std::span<const std::byte>);

// A key is valid when it is relative, has no empty, "." or ".." parts and no NUL: no lookup
// can leave the store.
bool is_valid_key(std::string_view key);

namespace detail {
// Ways to find a store's contents, tried by priority, lowest first: a directory bound at boot
// (hosted, priority 0), then contents compiled into the image (priority 1), so that a boot
// argument can override what was built in. Each returns null when it has nothing for that
// name, and sets `error` when it has but cannot load it.
using ContentsLoader = std::unique_ptr<StoreContents> (*)(std::string_view name, FormatBuffer& error);
void register_loader(ContentsLoader, int priority);
} // namespace detail

} // namespace sarab::storage
