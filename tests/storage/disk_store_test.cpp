// The read-write store on the simulated platform's disks: what it keeps across reopening,
// compaction and a full disk, and that every acknowledged write survives a crash of the
// machine at any point (sim::crash_disk: unflushed sectors kept or lost, each on its own).
#include <sarab/base/crc32c.hpp>
#include <sarab/platform/simulated.hpp>
#include <sarab/storage/disk_store.hpp>

#include <gtest/gtest.h>

#include <map>
#include <string>

using namespace sarab;
using namespace sarab::storage;
namespace sim = sarab::platform::sim;

namespace {

std::vector<std::byte> bytes(std::string_view s)
{
    auto b = std::as_bytes(std::span(s));
    return { b.begin(), b.end() };
}

// How many sectors the record of a put takes (40 bytes of header, the key, the value).
u64 record_sectors(const std::string& key, const std::string& value) { return (40 + key.size() + value.size() + 511) / 512; }

std::string text(const std::vector<std::byte>& b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

// The value as text, "<none>" when there is no such key; fails the test on an error.
std::string value_of(DiskStore& store, std::string_view key)
{
    auto got = store.get(key);
    EXPECT_TRUE(got) << key << ": " << (got ? "" : error_name(got.error()));
    if (!got || !got.value())
        return "<none>";
    return text(*got.value());
}

// The sectors of a block device, for the faulty ones below to override writes and flushes of.
class DeviceSectors : public Sectors {
public:
    explicit DeviceSectors(BlockDevice& device)
        : m_device(device)
    {
    }
    u32 sector_size() const override { return m_device.sector_size(); }
    u64 sectors() const override { return m_device.sectors(); }
    ErrorOr<void, platform::BlockError> read(u64 sector, std::span<std::byte> buffer) override { return m_device.read(sector, buffer); }
    ErrorOr<void, platform::BlockError> write(u64 sector, std::span<const std::byte> buffer) override { return m_device.write(sector, buffer); }
    ErrorOr<void, platform::BlockError> flush() override { return m_device.flush(); }

protected:
    BlockDevice& m_device;
};

// Sectors over a block device that fail every operation after the first `budget`: the machine
// stops there, in the middle of whatever the store was doing.
class StoppingSectors final : public DeviceSectors {
public:
    StoppingSectors(BlockDevice& device, u64 budget)
        : DeviceSectors(device)
        , m_budget(budget)
    {
    }
    ErrorOr<void, platform::BlockError> write(u64 sector, std::span<const std::byte> buffer) override
    {
        if (!spend())
            return failure(platform::BlockError::io);
        return m_device.write(sector, buffer);
    }
    ErrorOr<void, platform::BlockError> flush() override
    {
        if (!spend())
            return failure(platform::BlockError::io);
        return m_device.flush();
    }

private:
    bool spend() { return m_budget > 0 && m_budget-- > 0; }
    u64 m_budget;
};

// Sectors over a block device with one fault: the first write to `sector` fails, or the
// `flush`-th flush does (counted from 1). With `lands`, the failing operation reaches the disk
// all the same, as a device may before it reports an error.
class FaultySectors final : public DeviceSectors {
public:
    struct Fault {
        std::optional<u64> write_of;
        u64 flush = 0;
        bool lands = false;
    };
    FaultySectors(BlockDevice& device, Fault fault)
        : DeviceSectors(device)
        , m_fault(fault)
    {
    }
    ErrorOr<void, platform::BlockError> write(u64 sector, std::span<const std::byte> buffer) override
    {
        if (m_fault.write_of && *m_fault.write_of == sector) {
            m_fault.write_of.reset();
            if (m_fault.lands)
                (void)m_device.write(sector, buffer);
            return failure(platform::BlockError::io);
        }
        return m_device.write(sector, buffer);
    }
    ErrorOr<void, platform::BlockError> flush() override
    {
        if (++m_flushes == m_fault.flush) {
            if (m_fault.lands)
                (void)m_device.flush();
            return failure(platform::BlockError::io);
        }
        return m_device.flush();
    }

private:
    Fault m_fault;
    u64 m_flushes = 0;
};

class DiskStoreTest : public ::testing::Test {
protected:
    void SetUp() override { sim::reset(7); }
    BlockDevice& disk(u64 sectors)
    {
        sim::add_disk("data", sectors);
        m_device = std::make_unique<BlockDevice>("data", "the store's disk");
        EXPECT_TRUE(m_device->open());
        return *m_device;
    }
    std::unique_ptr<BlockDevice> m_device;
};

TEST_F(DiskStoreTest, ANewDiskBecomesAStoreThatKeepsWhatIsPut)
{
    BlockDevice& device = disk(64);
    auto store = DiskStore::open(device).release_value();
    EXPECT_EQ(store->size(), 0u);
    ASSERT_TRUE(store->put("greeting", bytes("hello")));
    ASSERT_TRUE(store->put("notes/1", bytes("first")));
    ASSERT_TRUE(store->put("notes/2", bytes("")));
    ASSERT_TRUE(store->put("greeting", bytes("hello again")));
    EXPECT_TRUE(store->remove("notes/1").value());
    EXPECT_FALSE(store->remove("notes/1").value());
    EXPECT_EQ(value_of(*store, "greeting"), "hello again");
    EXPECT_EQ(value_of(*store, "notes/1"), "<none>");
    EXPECT_EQ(value_of(*store, "notes/2"), "");
    EXPECT_EQ(store->keys(), (std::vector<std::string> { "greeting", "notes/2" }));
    EXPECT_EQ(store->keys("notes/"), (std::vector<std::string> { "notes/2" }));
    // Each put and remove was flushed before it returned: 1 for the new store, 5 records.
    EXPECT_EQ(sim::disk_flushes("data"), 6u);

    // Opened again from the disk alone: the same.
    auto again = DiskStore::open(device).release_value();
    EXPECT_EQ(again->keys(), (std::vector<std::string> { "greeting", "notes/2" }));
    EXPECT_EQ(value_of(*again, "greeting"), "hello again");
    EXPECT_EQ(value_of(*again, "notes/2"), "");
    ASSERT_TRUE(again->put("after", bytes("reopening")));
    EXPECT_EQ(value_of(*DiskStore::open(device).release_value(), "after"), "reopening");
}

TEST_F(DiskStoreTest, OverwritesMoveTheLiveRecordsToTheOtherAreaAndBack)
{
    BlockDevice& device = disk(40); // two areas of 20 sectors
    auto store = DiskStore::open(device).release_value();
    std::map<std::string, std::string> expected;
    for (int i = 0; i < 300; ++i) {
        std::string key = "key" + std::to_string(i % 3);
        std::string value(usize(50 + (i * 37) % 700), char('a' + i % 26));
        ASSERT_TRUE(store->put(key, bytes(value))) << i;
        expected[key] = value;
    }
    auto stats = store->stats();
    EXPECT_GT(stats.compactions, 10u);
    EXPECT_GT(stats.generation, 10u);
    EXPECT_EQ(stats.keys, 3u);
    auto reopened = DiskStore::open(device).release_value();
    for (auto& [key, value] : expected) {
        EXPECT_EQ(value_of(*store, key), value);
        EXPECT_EQ(value_of(*reopened, key), value);
    }
    EXPECT_EQ(reopened->stats().generation, stats.generation);
}

TEST_F(DiskStoreTest, AFullDiskSaysSoAndKeepsWhatItHas)
{
    BlockDevice& device = disk(24); // two areas of 12: 11 sectors of records
    auto store = DiskStore::open(device).release_value();
    std::string value(400, 'v'); // a record of one sector
    int stored = 0;
    for (;; ++stored) {
        auto put = store->put("k" + std::to_string(stored), bytes(value));
        if (!put) {
            EXPECT_EQ(put.error(), DiskStoreError::no_space);
            break;
        }
        ASSERT_LT(stored, 100);
    }
    EXPECT_EQ(stored, 11);
    for (int i = 0; i < stored; ++i)
        EXPECT_EQ(value_of(*store, "k" + std::to_string(i)), value);
    // A full store can still remove: the key is left out of a compaction, with no record of
    // its own. Then there is room again.
    EXPECT_EQ(store->put("k3", bytes(value + value)).error(), DiskStoreError::no_space); // 2 sectors
    ASSERT_TRUE(store->put("k3", bytes("shorter")));  // replaced within the compaction
    EXPECT_EQ(value_of(*store, "k3"), "shorter");
    ASSERT_TRUE(store->remove("k3").value());
    ASSERT_TRUE(store->put("new", bytes(value)));
    EXPECT_EQ(value_of(*DiskStore::open(device).release_value(), "new"), value);
    EXPECT_EQ(DiskStore::open(device).release_value()->size(), 11u);
}

TEST_F(DiskStoreTest, KeysAndValuesOutOfBoundsAreRefused)
{
    BlockDevice& device = disk(24);
    auto store = DiskStore::open(device).release_value();
    EXPECT_EQ(store->put("", bytes("x")).error(), DiskStoreError::too_large);
    EXPECT_EQ(store->put(std::string(1025, 'k'), bytes("x")).error(), DiskStoreError::too_large);
    EXPECT_TRUE(store->put(std::string(1024, 'k'), bytes("x")));
    EXPECT_EQ(store->put("big", std::vector<std::byte>(12 * 512)).error(), DiskStoreError::too_large);
    EXPECT_EQ(store->size(), 1u);
}

TEST_F(DiskStoreTest, ADiskHoldingSomethingElseIsLeftAsItIs)
{
    BlockDevice& device = disk(32);
    auto contents = sim::disk_contents("data");
    for (usize i = 0; i < contents.size(); ++i)
        contents[i] = std::byte(i * 31 + 7);
    std::vector<std::byte> before(contents.begin(), contents.end());
    EXPECT_EQ(DiskStore::open(device).error(), DiskStoreError::not_a_store);
    EXPECT_TRUE(std::equal(before.begin(), before.end(), sim::disk_contents("data").begin()));
    EXPECT_EQ(sim::disk_flushes("data"), 0u);
}

TEST_F(DiskStoreTest, ADiskTooSmallIsNotAStore)
{
    BlockDevice& device = disk(7);
    EXPECT_EQ(DiskStore::open(device).error(), DiskStoreError::not_a_store);
}

TEST_F(DiskStoreTest, ADamagedRecordIsReportedNotReturned)
{
    BlockDevice& device = disk(32);
    auto store = DiskStore::open(device).release_value();
    ASSERT_TRUE(store->put("a", bytes("alpha")));
    ASSERT_TRUE(store->put("b", bytes("beta")));
    // Sector 1 holds "a"'s record; flip a bit of its value.
    sim::disk_contents("data")[512 + 40 + 1 + 2] ^= std::byte(4);
    auto got = store->get("a");
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error(), DiskStoreError::damaged);
    EXPECT_EQ(value_of(*store, "b"), "beta");
}

// A compaction cut short leaves its records in the other area. The next compaction into that
// area, of the same generation, must not let them continue its own log: here they would bring
// back a removed key and a put that failed. (Each area made draws a salt of its own.)
TEST_F(DiskStoreTest, ACompactionCutShortLeavesNothingTheNextOneWouldTakeUp)
{
    BlockDevice& device = disk(24); // areas of 12 sectors: 11 for records, area 1's header at 12
    std::string five(5 * 512 - 41, 'a'), three(3 * 512 - 41, 'b');
    {
        auto store = DiskStore::open(std::make_unique<FaultySectors>(device, FaultySectors::Fault { .write_of = 12, .flush = 0, .lands = false })).release_value();
        ASSERT_TRUE(store->put("a", bytes(five)));
        ASSERT_TRUE(store->put("b", bytes(three)));
        ASSERT_TRUE(store->put("b", bytes(three))); // area 0 is full: 5 + 3 + 3 sectors
        // Compacts into area 1: a, b and c written and flushed, then its header fails.
        EXPECT_EQ(store->put("c", bytes("c")).error(), DiskStoreError::io);
        // Until it is opened again, the store takes no more changes.
        EXPECT_EQ(store->put("d", bytes("d")).error(), DiskStoreError::io);
        EXPECT_EQ(store->remove("a").error(), DiskStoreError::io);
    }
    auto store = DiskStore::open(device).release_value();
    EXPECT_EQ(store->keys(), (std::vector<std::string> { "a", "b" }));
    // Area 0 is still full: the remove compacts into area 1 again, generation 2 again.
    ASSERT_TRUE(store->remove("b").value());
    EXPECT_EQ(store->stats().generation, 2u);
    auto reopened = DiskStore::open(device).release_value();
    EXPECT_EQ(reopened->keys(), (std::vector<std::string> { "a" }));
    EXPECT_EQ(value_of(*reopened, "a"), five);
}

// A flush that fails after the new area's header reached the disk: the store must not go on
// appending to the old area, whose changes the new header would hide.
TEST_F(DiskStoreTest, AFailedFlushStopsChangesUntilTheStoreIsOpenedAgain)
{
    BlockDevice& device = disk(24);
    std::string five(5 * 512 - 41, 'a');
    {
        // Flushes: 1 the new store, 2 and 3 the puts of a, 4 the compaction's records, 5 its
        // header.
        auto store = DiskStore::open(std::make_unique<FaultySectors>(device, FaultySectors::Fault { .write_of = std::nullopt, .flush = 5, .lands = true })).release_value();
        ASSERT_TRUE(store->put("a", bytes(five)));
        ASSERT_TRUE(store->put("a", bytes(five))); // one sector left
        EXPECT_EQ(store->put("z", bytes(std::string(600, 'z'))).error(), DiskStoreError::io); // 2 sectors: compacts
        EXPECT_EQ(store->remove("a").error(), DiskStoreError::io); // would fit the old area, unseen
    }
    auto store = DiskStore::open(device).release_value();
    // The compaction's header is on the disk: the failed put took effect, the refused remove
    // did not; nothing acknowledged is lost.
    EXPECT_EQ(store->keys(), (std::vector<std::string> { "a", "z" }));
    EXPECT_EQ(value_of(*store, "a"), five);
}

TEST_F(DiskStoreTest, TheLastGenerationIsNotAStore)
{
    BlockDevice& device = disk(24);
    ASSERT_TRUE(DiskStore::open(device));
    // Area 0's header, generation set to the last one and its CRC made right again.
    auto header = sim::disk_contents("data").first(512);
    for (int i = 0; i < 8; ++i)
        header[24 + i] = std::byte(0xff);
    u32 crc = crc32c(header.first(40));
    for (int i = 0; i < 4; ++i)
        header[40 + i] = std::byte(crc >> (8 * i));
    EXPECT_EQ(DiskStore::open(device).error(), DiskStoreError::not_a_store);
}

// The property the store exists for: the machine stops after any number of device operations,
// in the middle of a put, a remove or a compaction; the sectors not yet flushed are kept or
// lost at random; and the store opened again holds exactly what was acknowledged, give or take
// the one operation that was under way. Every stopping point of six sequences of operations
// is tried, each compaction's last flush among them.
TEST_F(DiskStoreTest, EveryAcknowledgedWriteSurvivesACrashAtAnyPoint)
{
    u64 runs = 0, stops_in_compaction = 0;
    for (u64 sequence = 1; sequence <= 6; ++sequence) {
        for (u64 budget = 1; budget <= 260; ++budget) {
            sim::reset(sequence * 1000 + budget); // the crash's choices
            BlockDevice& device = disk(48);
            u64 state = sequence * 0x9e3779b97f4a7c15ull; // the operations: the same for every budget
            auto next = [&](u64 bound) {
                state = state * 6364136223846793005ull + 1442695040888963407ull;
                return (state >> 33) % bound;
            };
            auto store = DiskStore::open(std::make_unique<StoppingSectors>(device, budget));
            if (!store) {
                EXPECT_EQ(store.error(), DiskStoreError::io);
                continue; // stopped while making the store
            }
            std::map<std::string, std::string> acknowledged;
            std::string pending_key;
            std::optional<std::string> pending_value; // none: a remove
            for (int op = 0; op < 400; ++op) {
                std::string key = "k" + std::to_string(next(6));
                bool remove = next(5) == 0;
                std::string value(usize(next(900)), char('a' + op % 26));
                auto before = store.value()->stats();
                bool compacts = record_sectors(key, value) > before.area_sectors - before.used_sectors;
                bool ok = remove ? bool(store.value()->remove(key)) : bool(store.value()->put(key, bytes(value)));
                if (!ok) {
                    pending_key = key;
                    if (!remove)
                        pending_value = value;
                    stops_in_compaction += compacts;
                    break;
                }
                if (remove)
                    acknowledged.erase(key);
                else
                    acknowledged[key] = value;
            }
            ASSERT_FALSE(pending_key.empty()) << "the budget " << budget << " outlasted the operations";
            ++runs;
            sim::crash_disk("data", 0.5);
            auto reopened = DiskStore::open(device);
            ASSERT_TRUE(reopened) << "sequence " << sequence << ", budget " << budget << ": " << error_name(reopened.error());
            std::string where = "sequence " + std::to_string(sequence) + ", budget " + std::to_string(budget) + ": ";
            for (auto& key : reopened.value()->keys())
                EXPECT_TRUE(acknowledged.contains(key) || key == pending_key) << where << key << " was never acknowledged";
            for (auto& [key, value] : acknowledged) {
                std::string now = value_of(*reopened.value(), key);
                if (key == pending_key)
                    EXPECT_TRUE(now == value || now == pending_value.value_or("<none>")) << where << key;
                else
                    EXPECT_EQ(now, value) << where << key;
            }
            if (!acknowledged.contains(pending_key)) {
                std::string now = value_of(*reopened.value(), pending_key);
                EXPECT_TRUE(now == "<none>" || now == pending_value.value_or("<none>")) << where << pending_key;
            }
            // And it goes on working.
            ASSERT_TRUE(reopened.value()->put("after", bytes("the crash"))) << where;
            EXPECT_EQ(value_of(*DiskStore::open(device).release_value(), "after"), "the crash") << where;
            m_device.reset();
        }
    }
    EXPECT_GT(runs, 1500u);
    EXPECT_GT(stops_in_compaction, 300u);
}

} // namespace
