// disk: reads, writes and reads back the block device "data" for the virtio-blk boot test
// (tests/platform/virtio/block.test.sh), printing checksums the test compares with the file.
//
//     read HEX       FNV-1a (64 bits) of sectors [0, N) as read
//     wrote HEX      FNV-1a of the pattern written to sectors [N, 2N)
//     flushed        block_flush answered (a VIRTIO_BLK_T_FLUSH with QEMU's write cache)
//     readback ok    sectors [N, 2N) read back equal what was written
//     acquired after start-up: device unavailable    one acquired in app_main (after sealing)
#include <sarab/app.hpp>

#include <vector>

namespace {

sarab::BlockDevice data { "data", "the disk under test" };
sarab::BootArg<sarab::u64> sectors { "sectors", 64, "N: how many sectors to read, then write" };

sarab::u64 fnv1a(std::span<const std::byte> bytes)
{
    sarab::u64 hash = 14695981039346656037u;
    for (std::byte b : bytes)
        hash = (hash ^ sarab::u64(b)) * 1099511628211u;
    return hash;
}

} // namespace

sarab::Task<int> sarab::app_main()
{
    usize n = sectors.value();
    usize bytes = n * data.sector_size();
    println("disk {} sectors of {} bytes", data.sectors(), data.sector_size());
    std::vector<std::byte> buffer(bytes);
    if (auto r = data.read(0, buffer); !r) {
        println("read failed: {}", platform::error_name(r.error()));
        co_return 1;
    }
    println("read {:016x}", fnv1a(buffer));
    std::vector<std::byte> pattern(bytes);
    for (usize i = 0; i < bytes; ++i)
        pattern[i] = std::byte((i * 7 + i / 512 + 3) & 0xff);
    if (auto r = data.write(n, pattern); !r) {
        println("write failed: {}", platform::error_name(r.error()));
        co_return 1;
    }
    println("wrote {:016x}", fnv1a(pattern));
    // With a write cache (VIRTIO_BLK_F_FLUSH, QEMU's default), the host syncs the file: a
    // request that surely takes long enough for the image to halt and be woken by its
    // interrupt.
    if (auto r = data.flush(); !r) {
        println("flush failed: {}", platform::error_name(r.error()));
        co_return 1;
    }
    println("flushed");
    std::vector<std::byte> back(bytes);
    if (auto r = data.read(n, back); !r) {
        println("read back failed: {}", platform::error_name(r.error()));
        co_return 1;
    }
    println("readback {}", back == pattern ? "ok" : "differs");
    // Past the end is an error, not a crash.
    auto beyond = data.read(data.sectors(), std::span<std::byte>(back.data(), 512));
    println("past the end: {}", beyond ? "accepted" : platform::error_name(beyond.error()));
    // Devices are acquired at start-up only: "late" would be not_bound then, and is
    // unavailable now.
    auto late = platform::block_acquire("late");
    println("acquired after start-up: {}", late ? "accepted" : platform::error_name(late.error()));
    co_return 0;
}
