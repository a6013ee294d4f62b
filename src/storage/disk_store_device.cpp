// DiskStore on a declared block device: the device's sectors, through the platform seam. Apart
// from disk_store.cpp so that the store itself can be built without a platform (fuzz/).
#include <sarab/storage/disk_store.hpp>

namespace sarab::storage {

namespace {

class DeviceSectors final : public Sectors {
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

private:
    BlockDevice& m_device;
};

} // namespace

ErrorOr<std::unique_ptr<DiskStore>, DiskStoreError> DiskStore::open(BlockDevice& device) { return open(std::make_unique<DeviceSectors>(device)); }

} // namespace sarab::storage
