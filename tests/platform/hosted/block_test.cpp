// Block devices of the hosted platform: files bound with --dev=NAME=file:PATH (see
// hosted_env.cpp for the bindings). Each test acquires device names of its own.
#include "hosted_env.hpp"

#include <sarab/platform/platform.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <optional>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace sarab;
using platform::BlockError;
using platform::BlockInfo;
using test::hosted::block_path;
using test::hosted::pattern;
using test::hosted::sector_size;
using Bytes = std::vector<std::byte>;

BlockInfo acquire(std::string_view name)
{
    auto info = platform::block_acquire(name);
    if (!info) {
        ADD_FAILURE() << "block_acquire(" << name << "): " << platform::error_name(info.error());
        return {};
    }
    return *info;
}

Bytes file_content(std::string_view name)
{
    std::ifstream in(block_path(name), std::ios::binary);
    std::vector<char> chars { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
    Bytes out(chars.size());
    std::memcpy(out.data(), chars.data(), chars.size());
    return out;
}

Bytes expected_content(u8 seed, u64 first_byte, usize size)
{
    Bytes out(size);
    for (usize i = 0; i < size; ++i)
        out[i] = pattern(seed, first_byte + i);
    return out;
}

TEST(Block, CapacityAndSectorSize)
{
    BlockInfo info = acquire("capacity");
    EXPECT_EQ(info.sector_size, sector_size);
    EXPECT_EQ(info.sectors, 64u);
    EXPECT_FALSE(info.read_only);
}

TEST(Block, PartialLastSectorIsNotPartOfTheDevice)
{
    // A file of 10 sectors and 100 bytes is a device of 10 sectors.
    BlockInfo info = acquire("partial");
    ASSERT_EQ(info.sectors, 10u);
    Bytes buffer(sector_size);
    EXPECT_TRUE(platform::block_read(info.handle, 9, buffer));
    EXPECT_EQ(buffer, expected_content(2, 9 * sector_size, sector_size));
    auto past = platform::block_read(info.handle, 10, buffer);
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error(), BlockError::out_of_range);
}

TEST(Block, EmptyFileIsADeviceOfNoSectors)
{
    BlockInfo info = acquire("empty");
    EXPECT_EQ(info.sectors, 0u);
    Bytes buffer(sector_size);
    auto r = platform::block_read(info.handle, 0, buffer);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), BlockError::out_of_range);
}

TEST(Block, ReadsWhatTheFileHolds)
{
    BlockInfo info = acquire("read");
    ASSERT_EQ(info.sectors, 48u);
    // The whole device at once, then sectors one at a time and in odd-sized runs.
    Bytes all(48 * sector_size);
    ASSERT_TRUE(platform::block_read(info.handle, 0, all));
    EXPECT_EQ(all, expected_content(4, 0, all.size()));
    EXPECT_EQ(all, file_content("read"));
    for (u64 sector : { 0u, 1u, 17u, 47u }) {
        Bytes one(sector_size);
        ASSERT_TRUE(platform::block_read(info.handle, sector, one));
        EXPECT_EQ(one, expected_content(4, sector * sector_size, sector_size)) << "sector " << sector;
    }
    Bytes run(7 * sector_size);
    ASSERT_TRUE(platform::block_read(info.handle, 40, run));
    EXPECT_EQ(run, expected_content(4, 40 * sector_size, run.size()));
}

TEST(Block, WritesReachTheFileAndReadBack)
{
    BlockInfo info = acquire("write");
    ASSERT_EQ(info.sectors, 32u);
    ASSERT_FALSE(info.read_only);

    // Sectors 3-6 in one write, the last sector in another.
    Bytes data(4 * sector_size);
    for (usize i = 0; i < data.size(); ++i)
        data[i] = std::byte(u8(255 - i % 251));
    ASSERT_TRUE(platform::block_write(info.handle, 3, data));
    Bytes last(sector_size, std::byte { 0xa5 });
    ASSERT_TRUE(platform::block_write(info.handle, 31, last));

    Bytes back(4 * sector_size);
    ASSERT_TRUE(platform::block_read(info.handle, 3, back));
    EXPECT_EQ(back, data);
    Bytes back_last(sector_size);
    ASSERT_TRUE(platform::block_read(info.handle, 31, back_last));
    EXPECT_EQ(back_last, last);

    // The file itself, read with ordinary file I/O: the written sectors, and nothing else
    // changed (nor its size).
    Bytes expected = expected_content(5, 0, 32 * sector_size);
    std::memcpy(expected.data() + 3 * sector_size, data.data(), data.size());
    std::memcpy(expected.data() + 31 * sector_size, last.data(), last.size());
    Bytes file = file_content("write");
    ASSERT_EQ(file.size(), expected.size());
    EXPECT_TRUE(file == expected) << "the file does not hold what was written";

    // And the device reads the whole of it the same way.
    Bytes all(32 * sector_size);
    ASSERT_TRUE(platform::block_read(info.handle, 0, all));
    EXPECT_TRUE(all == expected);
}

TEST(Block, OutOfRange)
{
    BlockInfo info = acquire("range");
    ASSERT_EQ(info.sectors, 16u);
    Bytes one(sector_size);
    Bytes two(2 * sector_size);
    auto expect_out_of_range = [&](auto r, const char* what) {
        ASSERT_FALSE(r) << what;
        EXPECT_EQ(r.error(), BlockError::out_of_range) << what;
    };
    expect_out_of_range(platform::block_read(info.handle, 16, one), "read at the end");
    expect_out_of_range(platform::block_read(info.handle, 15, two), "read across the end");
    expect_out_of_range(platform::block_read(info.handle, ~u64(0), one), "read at sector 2^64-1");
    expect_out_of_range(platform::block_read(info.handle, u64(1) << 55, one), "read where the byte offset overflows");
    expect_out_of_range(platform::block_write(info.handle, 16, one), "write at the end");
    expect_out_of_range(platform::block_write(info.handle, 15, two), "write across the end");
    expect_out_of_range(platform::block_write(info.handle, ~u64(0), one), "write at sector 2^64-1");
    // The last sector itself is fine; the file did not grow.
    EXPECT_TRUE(platform::block_read(info.handle, 15, one));
    EXPECT_TRUE(platform::block_write(info.handle, 15, one));
    EXPECT_EQ(file_content("range").size(), 16u * sector_size);
}

TEST(Block, UnalignedBuffer)
{
    BlockInfo info = acquire("align");
    ASSERT_EQ(info.sectors, 16u);
    for (usize size : { usize(1), usize(100), usize(sector_size - 1), usize(sector_size + 1), usize(3 * sector_size - 7) }) {
        Bytes buffer(size, std::byte { 0xee });
        auto r = platform::block_read(info.handle, 0, buffer);
        ASSERT_FALSE(r) << "read of " << size << " bytes";
        EXPECT_EQ(r.error(), BlockError::unaligned) << "read of " << size << " bytes";
        auto w = platform::block_write(info.handle, 0, buffer);
        ASSERT_FALSE(w) << "write of " << size << " bytes";
        EXPECT_EQ(w.error(), BlockError::unaligned) << "write of " << size << " bytes";
    }
    // Nothing was written.
    EXPECT_TRUE(file_content("align") == expected_content(7, 0, 16 * sector_size));
}

// Takes CAP_DAC_OVERRIDE out of this thread's effective capabilities while it lives, so that
// root, too, is refused write access to a file of mode 0444. It stays permitted, so the
// destructor can put it back.
class WithoutDacOverride {
public:
    WithoutDacOverride()
    {
        if (::syscall(SYS_capget, &m_header, m_saved) != 0)
            return;
        __user_cap_data_struct reduced[2];
        std::memcpy(reduced, m_saved, sizeof reduced);
        reduced[0].effective &= ~(1u << CAP_DAC_OVERRIDE);
        m_dropped = ::syscall(SYS_capset, &m_header, reduced) == 0;
    }
    ~WithoutDacOverride()
    {
        if (m_dropped)
            ::syscall(SYS_capset, &m_header, m_saved);
    }
    WithoutDacOverride(const WithoutDacOverride&) = delete;
    WithoutDacOverride& operator=(const WithoutDacOverride&) = delete;
    bool dropped() const { return m_dropped; }

private:
    __user_cap_header_struct m_header { _LINUX_CAPABILITY_VERSION_3, 0 };
    __user_cap_data_struct m_saved[2] {};
    bool m_dropped = false;
};

bool can_open_for_writing(const std::string& path)
{
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return false;
    ::close(fd);
    return true;
}

TEST(Block, ReadOnlyFile)
{
    std::string path = block_path("readonly");
    ASSERT_EQ(::chmod(path.c_str(), 0444), 0) << std::strerror(errno);

    // As root (CAP_DAC_OVERRIDE), a 0444 file still opens for writing, and the platform
    // rightly offers it read-write; so acquire it without that capability.
    std::optional<WithoutDacOverride> guard;
    if (can_open_for_writing(path)) {
        guard.emplace();
        if (!guard->dropped() || can_open_for_writing(path))
            GTEST_SKIP() << "this process can open a 0444 file for writing and cannot drop CAP_DAC_OVERRIDE";
    }
    BlockInfo info = acquire("readonly");
    guard.reset();

    EXPECT_TRUE(info.read_only);
    ASSERT_EQ(info.sectors, 8u);
    Bytes buffer(2 * sector_size);
    ASSERT_TRUE(platform::block_read(info.handle, 2, buffer));
    EXPECT_EQ(buffer, expected_content(8, 2 * sector_size, buffer.size()));

    Bytes data(sector_size, std::byte { 0x5a });
    auto w = platform::block_write(info.handle, 2, data);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), BlockError::read_only);
    EXPECT_TRUE(file_content("readonly") == expected_content(8, 0, 8 * sector_size));
}

TEST(Block, UnboundName)
{
    auto r = platform::block_acquire("nosuchdevice");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), BlockError::not_bound);
}

TEST(Block, NetBindingIsNotABlockDevice)
{
    auto r = platform::block_acquire("wrongkind"); // --dev=wrongkind=tap:...
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), BlockError::not_bound);
}

TEST(Block, MissingFileOrDirectoryIsUnavailable)
{
    auto missing = platform::block_acquire("missing");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), BlockError::unavailable);
    auto directory = platform::block_acquire("directory");
    ASSERT_FALSE(directory);
    EXPECT_EQ(directory.error(), BlockError::unavailable);
}

} // namespace
