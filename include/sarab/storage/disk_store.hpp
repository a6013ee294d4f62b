// Storage layer: a read-write key-value store on a block device.
//
//     sarab::BlockDevice data { "data", "where the notes are kept" };
//
//     auto store = storage::DiskStore::open(data);      // makes a store on an empty disk
//     if (!store)
//         ... storage::error_name(store.error()) ...      // a clear error, the disk untouched
//     auto done = store.value()->put("greeting", std::as_bytes(std::span("hello", 5)));
//     auto value = store.value()->get("greeting");      // ErrorOr<optional<vector<byte>>>
//
// What put and remove return success for is durable: the record is written and the device
// flushed (platform::block_flush) before they return, so it survives the image's crash and the
// machine's. A failed call may or may not have taken effect; after the device has failed a
// write or a flush, the store takes no more changes (DiskStoreError::io) until it is opened
// again, which reads the disk as it is. Keys are 1 to 1024 bytes, any
// bytes; values up to what half the disk holds. The keys and where their records are live in
// memory; values are read from the disk on each get and checked against their checksum.
//
// On the disk (little-endian), the device is two areas of equal size, each an area header in
// its first sector and a log of records after it. The area with the valid header of the
// highest generation is the store; the header also holds a random salt, drawn for each area
// made, from which its records' chain of CRCs starts. A record starts on a sector boundary: a 40-byte header
// (magic, CRC-32C, generation, sequence number, put or remove, key and value lengths), the key,
// the value, zeroes to the end of its last sector. Each record's CRC-32C covers it from the
// generation to the value's end and continues the CRC of the record before it (the first
// continues the area header's), so only the records written in order since the area was made
// are read: the log ends at the first sector that is no such record, which is where a write
// cut short by a crash left it, and where the next record goes. When the log reaches the
// area's end, the live records are written into the other area under the next generation,
// with the change that did not fit (a put's record; a remove's key simply left out), flushed,
// and that area's header written and flushed last: until the header is on the disk, the old
// area is the store, whole, and after it the new one is, change and all. So a full store can
// still remove, and a put that needs a compaction is still all or nothing.
#pragma once

#include <sarab/base/error.hpp>
#include <sarab/platform/platform.hpp>
#include <sarab/runtime/devices.hpp>

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sarab::storage {

enum class DiskStoreError : u8 {
    io,          // the device failed a read, write or flush
    not_a_store, // the disk holds something else (never overwritten), or is too small
    no_space,    // the live records and this one do not fit in an area
    too_large,   // a key over 1024 bytes (or empty), or a value over what an area holds
    damaged,     // a record on the disk no longer matches its checksum
};
const char* error_name(DiskStoreError);

// Whole sectors, read, written and flushed: what a DiskStore is kept on. A BlockDevice is one
// (DiskStore::open(BlockDevice&)); tests and fuzzers bring others.
class Sectors {
public:
    virtual ~Sectors() = default;
    virtual u32 sector_size() const = 0;
    virtual u64 sectors() const = 0;
    virtual ErrorOr<void, platform::BlockError> read(u64 sector, std::span<std::byte> buffer) = 0;
    virtual ErrorOr<void, platform::BlockError> write(u64 sector, std::span<const std::byte> buffer) = 0;
    virtual ErrorOr<void, platform::BlockError> flush() = 0;
};

class DiskStore {
public:
    static constexpr usize max_key = 1024;

    struct Stats {
        usize keys = 0;
        u64 value_bytes = 0;   // of the live values
        u64 area_sectors = 0;  // each of the two areas, its header sector included
        u64 used_sectors = 0;  // of the area in use, its header included
        u64 live_sectors = 0;  // what the live records would take after a compaction
        u64 generation = 0;
        u64 compactions = 0;   // since opened
    };

    // Opens the store on the device, or makes one when the disk's two area headers are all
    // zero (a new disk). A disk holding anything else is not_a_store and is left untouched.
    static ErrorOr<std::unique_ptr<DiskStore>, DiskStoreError> open(BlockDevice& device);
    static ErrorOr<std::unique_ptr<DiskStore>, DiskStoreError> open(std::unique_ptr<Sectors> sectors);

    // The value of `key`; none when there is no such key.
    ErrorOr<std::optional<std::vector<std::byte>>, DiskStoreError> get(std::string_view key);
    // Sets `key` to `value`, durably.
    ErrorOr<void, DiskStoreError> put(std::string_view key, std::span<const std::byte> value);
    // Removes `key`, durably; false when there was no such key.
    ErrorOr<bool, DiskStoreError> remove(std::string_view key);

    bool contains(std::string_view key) const { return m_index.find(key) != m_index.end(); }
    usize size() const { return m_index.size(); }
    // The keys that start with `prefix`, sorted.
    std::vector<std::string> keys(std::string_view prefix = {}) const;
    Stats stats() const;

    DiskStore(const DiskStore&) = delete;
    DiskStore& operator=(const DiskStore&) = delete;

private:
    struct Location {
        u64 sector = 0;   // the record's first
        u64 sectors = 0;  // how many it takes
        u32 value_length = 0;
        u32 seed = 0;     // the CRC it continues
    };

    explicit DiskStore(std::unique_ptr<Sectors> sectors);
    ErrorOr<void, DiskStoreError> load();
    ErrorOr<void, DiskStoreError> scan();
    ErrorOr<void, DiskStoreError> append(u8 kind, std::string_view key, std::span<const std::byte> value);
    void took_record(u8 kind, std::string_view key, u64 sectors, u32 value_length, u32 crc);
    ErrorOr<void, DiskStoreError> compact(u8 kind, std::string_view key, std::span<const std::byte> value);
    std::vector<std::byte> make_record(u8 kind, std::string_view key, std::span<const std::byte> value) const;
    static u32 place_record(std::span<std::byte> record, u64 generation, u64 sequence, u32 chain);
    ErrorOr<std::vector<std::byte>, DiskStoreError> read_record(const Location&, std::string_view key);
    u64 area_start(int area) const { return u64(area) * m_area_sectors; }
    u64 record_sectors(usize key, usize value) const;

    std::unique_ptr<Sectors> m_sectors;
    u32 m_sector_size = 0;
    u64 m_area_sectors = 0;
    int m_area = 0;           // the area in use
    u64 m_generation = 0;
    u64 m_tail = 0;           // where the next record goes
    u64 m_sequence = 1;       // the next record's
    u32 m_chain = 0;          // the CRC the next record continues
    u64 m_live_sectors = 0;   // of the records in m_index
    u64 m_compactions = 0;
    bool m_failed = false;    // a write or flush failed: no more changes until opened again
    std::map<std::string, Location, std::less<>> m_index;
};

} // namespace sarab::storage
