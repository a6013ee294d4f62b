// The read-write store on the simulated platform's disks: what it keeps across reopening,
// compaction and a full disk, and that every acknowledged write survives a crash of the
// machine at any point (sim::crash_disk: unflushed sectors kept or lost, each on its own).
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

// Sectors over a block device that fail every operation after the first `budget`: the machine
// stops there, in the middle of whatever the store was doing.
class StoppingSectors final : public Sectors {
public:
    StoppingSectors(BlockDevice& device, u64 budget)
        : m_device(device)
        , m_budget(budget)
    {
    }
    u32 sector_size() const override { return m_device.sector_size(); }
    u64 sectors() const override { return m_device.sectors(); }
    ErrorOr<void, platform::BlockError> read(u64 sector, std::span<std::byte> buffer) override { return m_device.read(sector, buffer); }
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
    BlockDevice& m_device;
    u64 m_budget;
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
