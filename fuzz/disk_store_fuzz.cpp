// The read-write store opened on any disk: the input is the disk's bytes (whole sectors of
// 512, at most 128). A disk that opens as a store must then answer for every key, take a put
// and a remove, and open again with what they left. The seeds (fuzz/corpus/disk_store/, from
// fuzz/disk_store_corpus.py) are stores, so that mutations reach the records past the CRCs.
#include <sarab/storage/disk_store.hpp>

#include "fuzz_support.hpp"

#include <cstring>

using namespace sarab;
using namespace sarab::storage;

namespace {

class MemorySectors final : public Sectors {
public:
    explicit MemorySectors(std::vector<std::byte>& disk)
        : m_disk(disk)
    {
    }
    u32 sector_size() const override { return 512; }
    u64 sectors() const override { return m_disk.size() / 512; }
    ErrorOr<void, platform::BlockError> read(u64 sector, std::span<std::byte> buffer) override
    {
        VERIFY(buffer.size() % 512 == 0 && sector * 512 + buffer.size() <= m_disk.size(), "the store read outside the disk");
        std::memcpy(buffer.data(), m_disk.data() + sector * 512, buffer.size());
        return {};
    }
    ErrorOr<void, platform::BlockError> write(u64 sector, std::span<const std::byte> buffer) override
    {
        VERIFY(buffer.size() % 512 == 0 && sector * 512 + buffer.size() <= m_disk.size(), "the store wrote outside the disk");
        std::memcpy(m_disk.data() + sector * 512, buffer.data(), buffer.size());
        return {};
    }
    ErrorOr<void, platform::BlockError> flush() override { return {}; }

private:
    std::vector<std::byte>& m_disk;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    auto bytes = fuzz::input(data, size);
    if (bytes.size() > 128 * 512)
        return 0;
    std::vector<std::byte> disk((bytes.size() + 511) / 512 * 512);
    if (!bytes.empty())
        std::memcpy(disk.data(), bytes.data(), bytes.size());
    auto store = DiskStore::open(std::make_unique<MemorySectors>(disk));
    if (!store)
        return 0;
    DiskStore& s = *store.value();
    auto keys = s.keys();
    for (auto& key : keys) {
        auto value = s.get(key);
        if (value && value.value())
            fuzz::touch(std::span<const std::byte>(*value.value()));
    }
    std::string value(100, 'f');
    bool put = bool(s.put("fuzz", std::as_bytes(std::span(value))));
    bool removed = !keys.empty() && s.remove(keys.front()).has_value();
    auto again = DiskStore::open(std::make_unique<MemorySectors>(disk));
    VERIFY(again, "a store that took a put and a remove did not open again");
    if (put)
        VERIFY(again.value()->contains("fuzz"), "an acknowledged put was not there on opening again");
    if (removed && keys.front() != "fuzz")
        VERIFY(!again.value()->contains(keys.front()), "an acknowledged remove was undone on opening again");
    return 0;
}
