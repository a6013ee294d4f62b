// The read-write key-value store on a block device: include/sarab/storage/disk_store.hpp has
// its contract and its format on the disk.
#include <sarab/base/crc32c.hpp>
#include <sarab/base/log.hpp>
#include <sarab/storage/disk_store.hpp>

#include <algorithm>
#include <cstring>

namespace sarab::storage {

namespace {

log::Source g_log { "disk_store" };

constexpr char area_magic[8] = { 's', 'a', 'r', 'a', 'b', '-', 'k', 'v' };
constexpr u32 format_version = 1;
constexpr u32 record_magic = 0x766b7273;  // "srkv"
constexpr usize record_header = 40;
constexpr u8 kind_put = 1, kind_remove = 2;
constexpr u64 min_area_sectors = 4;

// Little-endian fields.
template<class T>
void put_le(std::byte* at, T v)
{
    for (usize i = 0; i < sizeof(T); ++i)
        at[i] = std::byte(v >> (8 * i));
}
template<class T>
T get_le(const std::byte* at)
{
    T v = 0;
    for (usize i = sizeof(T); i-- > 0;)
        v = T(v << 8) | T(at[i]);
    return v;
}
void put_u32(std::byte* at, u32 v) { put_le(at, v); }
void put_u64(std::byte* at, u64 v) { put_le(at, v); }
u32 get_u32(const std::byte* at) { return get_le<u32>(at); }
u64 get_u64(const std::byte* at) { return get_le<u64>(at); }

// An area header's sector: valid, with its generation and CRC; or not.
struct AreaHeader {
    bool valid = false;
    bool zero = false;
    u64 generation = 0;
    u32 crc = 0;
};

// A new area header, with a salt of its own: every attempt at making an area starts its chain
// of CRCs from a value no earlier attempt had, so that records an earlier, unfinished attempt
// left there (a compaction cut short, into the same area and generation) can never continue
// it, and nobody can forge a record in a value's bytes ahead of time.
void make_area_header(std::span<std::byte> sector, u32 sector_size, u64 area_sectors, u64 generation)
{
    std::memset(sector.data(), 0, sector.size());
    std::memcpy(sector.data(), area_magic, sizeof area_magic);
    put_u32(sector.data() + 8, format_version);
    put_u32(sector.data() + 12, sector_size);
    put_u64(sector.data() + 16, area_sectors);
    put_u64(sector.data() + 24, generation);
    platform::random_fill(sector.subspan(32, 8));
    put_u32(sector.data() + 40, crc32c(sector.first(40)));
}

AreaHeader parse_area_header(std::span<const std::byte> sector, u32 sector_size, u64 area_sectors)
{
    AreaHeader h;
    h.zero = true;
    for (std::byte b : sector)
        h.zero = h.zero && b == std::byte(0);
    if (std::memcmp(sector.data(), area_magic, sizeof area_magic) != 0 || get_u32(sector.data() + 40) != crc32c(sector.first(40)))
        return h;
    h.generation = get_u64(sector.data() + 24);
    // The last generation is refused: the next compaction could not be later than it.
    h.valid = get_u32(sector.data() + 8) == format_version && get_u32(sector.data() + 12) == sector_size && get_u64(sector.data() + 16) == area_sectors
        && h.generation != ~u64(0);
    h.crc = get_u32(sector.data() + 40);
    return h;
}

DiskStoreError from_block(platform::BlockError) { return DiskStoreError::io; }

} // namespace

const char* error_name(DiskStoreError e)
{
    switch (e) {
    case DiskStoreError::io: return "the device failed a read, write or flush";
    case DiskStoreError::not_a_store: return "the disk holds no store (and is not empty), or is too small for one";
    case DiskStoreError::no_space: return "no space left on the disk";
    case DiskStoreError::too_large: return "the key (1 to 1024 bytes) or the value is too large";
    case DiskStoreError::damaged: return "a record on the disk no longer matches its checksum";
    }
    return "unknown disk store error";
}

DiskStore::DiskStore(std::unique_ptr<Sectors> sectors)
    : m_sectors(std::move(sectors))
{
}

ErrorOr<std::unique_ptr<DiskStore>, DiskStoreError> DiskStore::open(std::unique_ptr<Sectors> sectors)
{
    std::unique_ptr<DiskStore> store(new DiskStore(std::move(sectors)));
    auto loaded = store->load();
    if (!loaded)
        return failure(loaded.error());
    return store;
}

u64 DiskStore::record_sectors(usize key, usize value) const { return (record_header + key + value + m_sector_size - 1) / m_sector_size; }

ErrorOr<void, DiskStoreError> DiskStore::load()
{
    m_sector_size = m_sectors->sector_size();
    m_area_sectors = m_sectors->sectors() / 2;
    if (m_sector_size < 512 || m_area_sectors < min_area_sectors) {
        log::error(g_log, "a disk of {} sectors of {} bytes is too small for a store", m_sectors->sectors(), m_sector_size);
        return failure(DiskStoreError::not_a_store);
    }
    std::vector<std::byte> sector(m_sector_size);
    AreaHeader headers[2];
    for (int area = 0; area < 2; ++area) {
        if (auto r = m_sectors->read(area_start(area), sector); !r)
            return failure(from_block(r.error()));
        headers[area] = parse_area_header(sector, m_sector_size, m_area_sectors);
    }
    if (!headers[0].valid && !headers[1].valid) {
        if (!headers[0].zero || !headers[1].zero) {
            log::error(g_log, "the disk holds something other than a store: left as it is");
            return failure(DiskStoreError::not_a_store);
        }
        // A new disk: area 0, generation 1.
        make_area_header(sector, m_sector_size, m_area_sectors, 1);
        if (auto r = m_sectors->write(area_start(0), sector); !r)
            return failure(from_block(r.error()));
        if (auto r = m_sectors->flush(); !r)
            return failure(from_block(r.error()));
        headers[0] = parse_area_header(sector, m_sector_size, m_area_sectors);
        log::info(g_log, "a new store: {} sectors of {} bytes in each of two areas", m_area_sectors, m_sector_size);
    }
    m_area = headers[1].valid && (!headers[0].valid || headers[1].generation > headers[0].generation) ? 1 : 0;
    m_generation = headers[m_area].generation;
    m_chain = headers[m_area].crc;
    return scan();
}

// Reads the log of the area in use, record by record, into the index, up to the first sector
// that is not the next record. A record is read and summed a piece at a time, so that lengths
// read from the disk never size an allocation before its CRC has vouched for them.
ErrorOr<void, DiskStoreError> DiskStore::scan()
{
    constexpr u64 piece_sectors = 32; // holds the header and the longest key, for any sector size
    u64 end = area_start(m_area) + m_area_sectors;
    m_tail = area_start(m_area) + 1;
    m_sequence = 1;
    std::vector<std::byte> piece(piece_sectors * m_sector_size);
    while (m_tail < end) {
        if (auto r = m_sectors->read(m_tail, std::span(piece).first(m_sector_size)); !r)
            return failure(from_block(r.error()));
        const std::byte* h = piece.data();
        u8 kind = u8(h[24]);
        u32 key_length = get_u32(h + 28), value_length = get_u32(h + 32);
        if (get_u32(h) != record_magic || get_u64(h + 8) != m_generation || get_u64(h + 16) != m_sequence || (kind != kind_put && kind != kind_remove)
            || key_length == 0 || key_length > max_key || (kind == kind_remove && value_length != 0))
            break;
        u32 crc = get_u32(h + 4);
        u64 count = record_sectors(key_length, value_length);
        if (count > end - m_tail)
            break;
        // The record's bytes from the generation to the value's end, summed piece by piece; the
        // key is in the first piece.
        u64 summed_end = record_header + u64(key_length) + value_length;
        u32 sum = m_chain;
        std::string key;
        for (u64 done = 0; done < count; done += piece_sectors) {
            u64 sectors = std::min(piece_sectors, count - done);
            if (done > 0 || sectors > 1) {
                if (auto r = m_sectors->read(m_tail + done, std::span(piece).first(sectors * m_sector_size)); !r)
                    return failure(from_block(r.error()));
            }
            u64 from = done * m_sector_size, to = std::min(summed_end, from + sectors * m_sector_size);
            u64 skip = from < 8 ? 8 - from : 0;
            sum = crc32c(std::span(piece).subspan(skip, to - from - skip), sum);
            if (done == 0)
                key.assign(reinterpret_cast<const char*>(piece.data() + record_header), key_length);
        }
        if (sum != crc)
            break;
        took_record(kind, key, count, value_length, crc);
    }
    log::debug(g_log, "opened: generation {}, area {}, {} keys, {} records, the log ends at sector {} of {}", m_generation, m_area, m_index.size(), m_sequence - 1,
        m_tail - area_start(m_area), m_area_sectors);
    return {};
}

ErrorOr<std::vector<std::byte>, DiskStoreError> DiskStore::read_record(const Location& at, std::string_view key)
{
    std::vector<std::byte> record(at.sectors * m_sector_size);
    if (auto r = m_sectors->read(at.sector, record); !r)
        return failure(from_block(r.error()));
    const std::byte* h = record.data();
    usize length = record_header + key.size() + at.value_length;
    if (get_u32(h) != record_magic || get_u32(h + 28) != key.size() || get_u32(h + 32) != at.value_length
        || crc32c(std::span(record).subspan(8, length - 8), at.seed) != get_u32(h + 4)
        || std::memcmp(h + record_header, key.data(), key.size()) != 0) {
        log::error(g_log, "the record of a key at sector {} no longer matches its checksum", at.sector);
        return failure(DiskStoreError::damaged);
    }
    return record;
}

ErrorOr<std::optional<std::vector<std::byte>>, DiskStoreError> DiskStore::get(std::string_view key)
{
    auto found = m_index.find(key);
    if (found == m_index.end())
        return std::optional<std::vector<std::byte>> {};
    auto record = read_record(found->second, key);
    if (!record)
        return failure(record.error());
    auto begin = record.value().begin() + std::ptrdiff_t(record_header + key.size());
    return std::optional<std::vector<std::byte>> { std::vector<std::byte>(begin, begin + found->second.value_length) };
}

ErrorOr<void, DiskStoreError> DiskStore::put(std::string_view key, std::span<const std::byte> value) { return append(kind_put, key, value); }

ErrorOr<bool, DiskStoreError> DiskStore::remove(std::string_view key)
{
    if (!contains(key))
        return false;
    auto appended = append(kind_remove, key, {});
    if (!appended)
        return failure(appended.error());
    return true;
}

std::vector<std::byte> DiskStore::make_record(u8 kind, std::string_view key, std::span<const std::byte> value) const
{
    std::vector<std::byte> record(record_sectors(key.size(), value.size()) * m_sector_size);
    std::byte* h = record.data();
    put_u32(h, record_magic);
    h[24] = std::byte(kind);
    put_u32(h + 28, u32(key.size()));
    put_u32(h + 32, u32(value.size()));
    std::memcpy(h + record_header, key.data(), key.size());
    if (!value.empty())
        std::memcpy(h + record_header + key.size(), value.data(), value.size());
    return record;
}

// Gives a record its place in a log: the generation, the sequence number, and the CRC that
// continues `chain`, which it returns.
u32 DiskStore::place_record(std::span<std::byte> record, u64 generation, u64 sequence, u32 chain)
{
    std::byte* h = record.data();
    put_u64(h + 8, generation);
    put_u64(h + 16, sequence);
    u32 crc = crc32c(record.subspan(8, record_header - 8 + get_u32(h + 28) + get_u32(h + 32)), chain);
    put_u32(h + 4, crc);
    return crc;
}

ErrorOr<void, DiskStoreError> DiskStore::append(u8 kind, std::string_view key, std::span<const std::byte> value)
{
    if (m_failed)
        return failure(DiskStoreError::io);
    if (key.empty() || key.size() > max_key || value.size() > u32(-1) - record_header - max_key)
        return failure(DiskStoreError::too_large);
    u64 count = record_sectors(key.size(), value.size());
    if (count > m_area_sectors - 1)
        return failure(DiskStoreError::too_large);
    if (count > area_start(m_area) + m_area_sectors - m_tail) {
        auto compacted = compact(kind, key, value);
        // A write or flush that failed may have reached the disk all the same (the new area's
        // header among them): what is on it is known again only by reading it.
        m_failed = !compacted && compacted.error() == DiskStoreError::io;
        return compacted;
    }
    auto record = make_record(kind, key, value);
    u32 crc = place_record(record, m_generation, m_sequence, m_chain);
    auto written = m_sectors->write(m_tail, record);
    if (written)
        written = m_sectors->flush();
    if (!written) {
        m_failed = true;
        return failure(from_block(written.error()));
    }
    took_record(kind, key, count, u32(value.size()), crc); // on the disk: now the index
    return {};
}

// The record at the log's tail, `sectors` long with CRC `crc`, is the log's: the index and the
// tail follow it (read by scan, or just written by append).
void DiskStore::took_record(u8 kind, std::string_view key, u64 sectors, u32 value_length, u32 crc)
{
    auto found = m_index.find(key);
    if (found != m_index.end()) {
        m_live_sectors -= found->second.sectors;
        m_index.erase(found);
    }
    if (kind == kind_put) {
        m_index.emplace(std::string(key), Location { m_tail, sectors, value_length, m_chain });
        m_live_sectors += sectors;
    }
    m_chain = crc;
    m_tail += sectors;
    ++m_sequence;
}

// The log is full: the live records but `key`'s are written into the other area under the
// next generation, then `key`'s new record when the change is a put (a remove needs none
// there), and the area's header goes last, after a flush. So the change and the compaction
// are one: until that header is on the disk, the old area is the store, whole, with the old
// value; after, the new area is, with the new one. A full store can always remove.
ErrorOr<void, DiskStoreError> DiskStore::compact(u8 kind, std::string_view key, std::span<const std::byte> value)
{
    auto replaced = m_index.find(key);
    u64 dropped = replaced != m_index.end() ? replaced->second.sectors : 0;
    u64 added = kind == kind_put ? record_sectors(key.size(), value.size()) : 0;
    if (m_live_sectors - dropped + added > m_area_sectors - 1)
        return failure(DiskStoreError::no_space);
    int area = 1 - m_area;
    u64 generation = m_generation + 1;
    std::vector<std::byte> header(m_sector_size);
    make_area_header(header, m_sector_size, m_area_sectors, generation);
    u32 chain = get_u32(header.data() + 40);
    u64 at = area_start(area) + 1, sequence = 1;
    std::map<std::string, Location, std::less<>> moved;
    auto write = [&](std::string_view name, std::vector<std::byte>& record, u64 sectors, u32 value_length) -> ErrorOr<void, DiskStoreError> {
        u32 crc = place_record(record, generation, sequence, chain);
        if (auto r = m_sectors->write(at, record); !r)
            return failure(from_block(r.error()));
        moved.emplace(std::string(name), Location { at, sectors, value_length, chain });
        chain = crc;
        at += sectors;
        ++sequence;
        return {};
    };
    for (auto& [name, location] : m_index) {
        if (name == key)
            continue;
        auto record = read_record(location, name);
        if (!record)
            return failure(record.error()); // the old area stays the store
        if (auto r = write(name, record.value(), location.sectors, location.value_length); !r)
            return r;
    }
    if (kind == kind_put) {
        auto record = make_record(kind, key, value);
        if (auto r = write(key, record, added, u32(value.size())); !r)
            return r;
    }
    if (auto r = m_sectors->flush(); !r)
        return failure(from_block(r.error()));
    if (auto r = m_sectors->write(area_start(area), header); !r)
        return failure(from_block(r.error()));
    if (auto r = m_sectors->flush(); !r)
        return failure(from_block(r.error()));
    m_area = area;
    m_generation = generation;
    m_index = std::move(moved);
    m_live_sectors = m_live_sectors - dropped + added;
    m_chain = chain;
    m_tail = at;
    m_sequence = sequence;
    ++m_compactions;
    log::debug(g_log, "compacted into area {}, generation {}: {} keys in {} sectors of {}", m_area, m_generation, m_index.size(), m_tail - area_start(m_area), m_area_sectors);
    return {};
}

std::vector<std::string> DiskStore::keys(std::string_view prefix) const
{
    std::vector<std::string> out;
    for (auto it = m_index.lower_bound(prefix); it != m_index.end() && std::string_view(it->first).starts_with(prefix); ++it)
        out.push_back(it->first);
    return out;
}

DiskStore::Stats DiskStore::stats() const
{
    Stats s;
    s.keys = m_index.size();
    for (auto& [key, location] : m_index)
        s.value_bytes += location.value_length;
    s.area_sectors = m_area_sectors;
    s.used_sectors = m_tail - area_start(m_area);
    s.live_sectors = m_live_sectors + 1;
    s.generation = m_generation;
    s.compactions = m_compactions;
    return s;
}

} // namespace sarab::storage
