#include <sarab/platform/simulated.hpp>
#include <sarab/runtime/devices.hpp>
#include <sarab/runtime/scheduler.hpp>
#include <sarab/runtime/when.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

using namespace sarab;
using namespace sarab::platform;
using namespace std::chrono_literals;
using sim::LinkConfig;

namespace {

constexpr MacAddress mac_a { 0x02, 0, 0, 0, 0, 0xa };
constexpr MacAddress mac_b { 0x02, 0, 0, 0, 0, 0xb };

// A numbered test frame: destination, source, an experimental EtherType, then the number.
Frame make_frame(Handle h, u32 number, usize size = 64)
{
    auto frame = net_frame_pool(h).allocate(0);
    VERIFY(frame.has_value());
    auto bytes = frame->append(size);
    std::memset(bytes.data(), 0, size);
    std::memcpy(bytes.data(), mac_b.data(), 6);
    std::memcpy(bytes.data() + 6, mac_a.data(), 6);
    bytes[12] = std::byte(0x88);
    bytes[13] = std::byte(0xb5);
    std::memcpy(bytes.data() + 14, &number, 4);
    return std::move(*frame);
}

u32 number_of(const Frame& f)
{
    u32 n;
    std::memcpy(&n, f.bytes().data() + 14, 4);
    return n;
}

struct Pair {
    NetInfo a;
    NetInfo b;
};

Pair connect_pair(LinkConfig a_to_b = {}, LinkConfig b_to_a = {}, u16 mtu_b = 1500)
{
    sim::add_nic("a", mac_a);
    sim::add_nic("b", mac_b, mtu_b);
    sim::connect("a", "b", std::move(a_to_b), std::move(b_to_a));
    return { net_acquire("a").release_value(), net_acquire("b").release_value() };
}

// Sends `count` frames from a to b, one every `gap`, and collects what b receives until
// `listen` has passed.
std::vector<u32> exchange(const Pair& p, u32 count, Duration gap, Duration listen)
{
    std::vector<u32> received;
    auto sender = [&]() -> Task<void> {
        for (u32 i = 0; i < count; ++i) {
            EXPECT_TRUE(net_transmit(p.a.handle, make_frame(p.a.handle, i)));
            co_await sleep_for(gap);
        }
    };
    auto receiver = [&]() -> Task<void> {
        for (;;) {
            auto f = net_receive(p.b.handle);
            if (f) {
                received.push_back(number_of(*f));
                continue;
            }
            EXPECT_EQ(f.error(), NetError::empty);
            co_await wait_for_device(p.b.handle);
        }
    };
    Scheduler s;
    s.run([&]() -> Task<void> {
        TaskHandle r = spawn(receiver());
        co_await sender();
        co_await sleep_for(listen);
        r.cancel();
    }());
    return received;
}

} // namespace

class Simulated : public ::testing::Test {
protected:
    void SetUp() override { sim::reset(42); }
};

TEST_F(Simulated, FramesCrossTheWireAfterTheLatency)
{
    LinkConfig slow;
    slow.latency = 3ms;
    Pair p = connect_pair(slow);
    EXPECT_EQ(p.a.mac, mac_a);
    EXPECT_EQ(p.b.mtu, 1500);
    ASSERT_TRUE(net_transmit(p.a.handle, make_frame(p.a.handle, 7)));

    Scheduler s;
    Instant arrived = s.run([&]() -> Task<Instant> {
        co_await wait_for_device(p.b.handle);
        co_return MonotonicClock::now();
    }());
    EXPECT_EQ(arrived.time_since_epoch(), 3ms);
    auto f = net_receive(p.b.handle);
    ASSERT_TRUE(f);
    EXPECT_EQ(number_of(*f), 7u);
    EXPECT_EQ(f->size(), 64u);
    EXPECT_EQ(net_receive(p.b.handle).error(), NetError::empty);
}

TEST_F(Simulated, FramesReturnToTheirPool)
{
    Pair p = connect_pair();
    usize before = net_frame_pool(p.a.handle).available();
    {
        Frame f = make_frame(p.a.handle, 1);
        EXPECT_EQ(net_frame_pool(p.a.handle).available(), before - 1);
        ASSERT_TRUE(net_transmit(p.a.handle, std::move(f)));
    }
    EXPECT_EQ(net_frame_pool(p.a.handle).available(), before);
}

TEST_F(Simulated, HeadroomLetsLayersPrependWithoutCopying)
{
    Pair p = connect_pair();
    auto f = net_frame_pool(p.a.handle).allocate(64);
    ASSERT_TRUE(f);
    auto payload = f->append(4);
    std::memcpy(payload.data(), "data", 4);
    std::byte* payload_at = f->data();
    auto header = f->prepend(14);
    EXPECT_EQ(header.data() + 14, payload_at);
    EXPECT_EQ(f->size(), 18u);
    EXPECT_EQ(f->headroom(), 50u);
    f->trim_front(14);
    EXPECT_EQ(f->data(), payload_at);
}

TEST_F(Simulated, LossDropsAboutTheConfiguredShare)
{
    LinkConfig lossy;
    lossy.loss = 0.1;
    Pair p = connect_pair(lossy);
    auto got = exchange(p, 2000, 10us, 1ms);
    EXPECT_GT(got.size(), 1700u);
    EXPECT_LT(got.size(), 1900u);
    EXPECT_EQ(sim::counters().dropped + got.size(), 2000u);
}

TEST_F(Simulated, DuplicationAndReordering)
{
    LinkConfig messy;
    messy.duplicate = 0.05;
    messy.reorder = 0.05;
    messy.reorder_delay = 200us;
    Pair p = connect_pair(messy);
    auto got = exchange(p, 1000, 10us, 1ms);
    EXPECT_EQ(got.size(), 1000u + sim::counters().duplicated);
    EXPECT_GT(sim::counters().duplicated, 20u);
    bool out_of_order = false;
    for (usize i = 1; i < got.size(); ++i)
        out_of_order = out_of_order || got[i] < got[i - 1];
    EXPECT_TRUE(out_of_order);
}

TEST_F(Simulated, CorruptionFlipsOneBit)
{
    LinkConfig noisy;
    noisy.corrupt = 1.0;
    Pair p = connect_pair(noisy);
    ASSERT_TRUE(net_transmit(p.a.handle, make_frame(p.a.handle, 0)));
    Scheduler s;
    s.run([&]() -> Task<void> { co_await wait_for_device(p.b.handle); }());
    auto f = net_receive(p.b.handle).release_value();
    Frame original = make_frame(p.a.handle, 0);
    int differing_bits = 0;
    for (usize i = 0; i < f.size(); ++i)
        differing_bits += __builtin_popcount(unsigned(f.bytes()[i] ^ original.bytes()[i]));
    EXPECT_EQ(differing_bits, 1);
}

TEST_F(Simulated, AnOutageLosesEverythingUntilTheLinkIsBackUp)
{
    Pair p = connect_pair();
    // The hook sees every frame and its time: take the link down between 1 ms and 2 ms.
    sim::link("a").hook = [](std::span<const std::byte>, Instant now, sim::FaultAction& action) {
        if (now.time_since_epoch() >= 1ms && now.time_since_epoch() < 2ms)
            action.drop = true;
    };
    auto got = exchange(p, 30, 100us, 1ms);
    EXPECT_EQ(got.size(), 20u);
    for (u32 n : got)
        EXPECT_TRUE(n < 10 || n >= 20) << n;
}

TEST_F(Simulated, FramesLargerThanTheReceiversMtuAreLost)
{
    Pair p = connect_pair({}, {}, 1000);
    ASSERT_TRUE(net_transmit(p.a.handle, make_frame(p.a.handle, 1, 1200)));
    ASSERT_TRUE(net_transmit(p.a.handle, make_frame(p.a.handle, 2, 900)));
    EXPECT_EQ(net_transmit(p.a.handle, make_frame(p.a.handle, 3, 1600)).error(), NetError::too_big);
    auto got = exchange(p, 0, 0ns, 1ms);
    EXPECT_EQ(got, std::vector<u32> { 2 });
    EXPECT_EQ(sim::counters().too_big, 1u);
}

TEST_F(Simulated, RateLimitedLinksSerialiseFrames)
{
    LinkConfig slow_link;
    slow_link.rate_bps = 8'000'000; // a 64-byte frame takes 64 us
    slow_link.latency = 0ns;
    Pair p = connect_pair(slow_link);
    for (u32 i = 0; i < 10; ++i)
        ASSERT_TRUE(net_transmit(p.a.handle, make_frame(p.a.handle, i)));
    Scheduler s;
    s.run([&]() -> Task<void> {
        u32 seen = 0;
        while (seen < 10) {
            co_await wait_for_device(p.b.handle);
            while (net_receive(p.b.handle))
                ++seen;
        }
    }());
    EXPECT_EQ(sim::now().time_since_epoch(), 640us);
}

TEST_F(Simulated, TheSameSeedGivesTheSameTrace)
{
    auto run = [](u64 seed) {
        sim::reset(seed);
        LinkConfig everything;
        everything.loss = 0.05;
        everything.duplicate = 0.05;
        everything.reorder = 0.1;
        everything.corrupt = 0.02;
        Pair p = connect_pair(everything, everything);
        exchange(p, 500, 7us, 2ms);
        return std::pair { sim::trace_hash(), sim::trace().size() };
    };
    auto first = run(7);
    auto second = run(7);
    auto other = run(8);
    EXPECT_EQ(first, second);
    EXPECT_GT(first.second, 1000u);
    EXPECT_NE(first.first, other.first);
}

TEST_F(Simulated, PcapHasEveryDeliveredFrame)
{
    std::string path = ::testing::TempDir() + "sarab-sim.pcap";
    ASSERT_TRUE(sim::start_pcap(path));
    Pair p = connect_pair();
    auto got = exchange(p, 5, 1ms, 1ms);
    sim::stop_pcap();
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_EQ(bytes.size(), 24u + 5 * (16 + 64));
    u32 magic;
    std::memcpy(&magic, bytes.data(), 4);
    EXPECT_EQ(magic, 0xa1b2c3d4u);
    u32 second_ts_usec;
    std::memcpy(&second_ts_usec, bytes.data() + 24 + 80 + 4, 4);
    EXPECT_EQ(second_ts_usec, 1010u); // sent at 1 ms, 10 us of latency
    std::remove(path.c_str());
}

TEST_F(Simulated, ACrashKeepsFlushedWritesAndSomeOfTheRest)
{
    sim::add_disk("data", 64);
    auto info = block_acquire("data").release_value();
    std::vector<std::byte> one(512, std::byte(1)), two(512, std::byte(2));
    auto sector = [](u64 s) { return sim::disk_contents("data")[s * 512]; };
    for (u64 s = 0; s < 32; ++s)
        ASSERT_TRUE(block_write(info.handle, s, one));
    ASSERT_TRUE(block_flush(info.handle));
    EXPECT_EQ(sim::disk_flushes("data"), 1u);
    // Nothing written since the flush: a crash changes nothing.
    sim::crash_disk("data", 0.0);
    for (u64 s = 0; s < 32; ++s)
        ASSERT_EQ(sector(s), std::byte(1));
    // Written, not flushed, and nothing survives: as at the flush.
    for (u64 s = 0; s < 64; ++s)
        ASSERT_TRUE(block_write(info.handle, s, two));
    sim::crash_disk("data", 0.0);
    for (u64 s = 0; s < 64; ++s)
        ASSERT_EQ(sector(s), s < 32 ? std::byte(1) : std::byte(0)) << s;
    // Half the unflushed sectors survive, each on its own; a sector survives whole or not at all.
    for (u64 s = 0; s < 64; ++s)
        ASSERT_TRUE(block_write(info.handle, s, two));
    sim::crash_disk("data", 0.5);
    usize kept = 0;
    for (u64 s = 0; s < 64; ++s) {
        auto whole = sim::disk_contents("data").subspan(s * 512, 512);
        bool new_sector = std::all_of(whole.begin(), whole.end(), [](std::byte b) { return b == std::byte(2); });
        bool old_sector = std::all_of(whole.begin(), whole.end(), [&](std::byte b) { return b == (s < 32 ? std::byte(1) : std::byte(0)); });
        ASSERT_TRUE(new_sector || old_sector) << s;
        kept += new_sector;
    }
    EXPECT_GT(kept, 16u);
    EXPECT_LT(kept, 48u);
    // What a crash kept is the disk's now: a second crash does not take it back.
    std::vector<std::byte> before(sim::disk_contents("data").begin(), sim::disk_contents("data").end());
    sim::crash_disk("data", 0.0);
    EXPECT_TRUE(std::equal(before.begin(), before.end(), sim::disk_contents("data").begin()));
}

TEST_F(Simulated, DisksReadAndWriteSectors)
{
    sim::add_disk("data", 16);
    sim::add_disk("rom", 4, 512, true);
    auto info = block_acquire("data").release_value();
    EXPECT_EQ(info.sector_size, 512u);
    EXPECT_EQ(info.sectors, 16u);
    std::vector<std::byte> out(1024), in(1024);
    for (usize i = 0; i < out.size(); ++i)
        out[i] = std::byte(i * 7);
    ASSERT_TRUE(block_write(info.handle, 3, out));
    ASSERT_TRUE(block_read(info.handle, 3, in));
    EXPECT_EQ(in, out);
    EXPECT_EQ(std::memcmp(sim::disk_contents("data").data() + 3 * 512, out.data(), 1024), 0);
    EXPECT_EQ(block_read(info.handle, 15, in).error(), BlockError::out_of_range);
    EXPECT_EQ(block_read(info.handle, 0, std::span(in).first(100)).error(), BlockError::unaligned);
    auto rom = block_acquire("rom").release_value();
    EXPECT_TRUE(rom.read_only);
    EXPECT_EQ(block_write(rom.handle, 0, std::span(out).first(512)).error(), BlockError::read_only);
    EXPECT_EQ(block_acquire("nothing").error(), BlockError::not_bound);
    EXPECT_EQ(block_acquire("data").error(), BlockError::unavailable);
}

TEST_F(Simulated, NoDeviceIsAcquiredAfterSeal)
{
    sim::add_nic("early", mac_a);
    sim::add_nic("late", mac_b);
    sim::add_disk("late-disk", 8);
    auto early = net_acquire("early");
    ASSERT_TRUE(early);
    seal();
    EXPECT_EQ(net_acquire("late").error(), NetError::unavailable);
    EXPECT_EQ(block_acquire("late-disk").error(), BlockError::unavailable);
    EXPECT_EQ(net_acquire("nothing").error(), NetError::not_bound); // a name never given says so still
    // What was acquired before stays usable.
    EXPECT_TRUE(net_transmit(early->handle, make_frame(early->handle, 1)));
}

TEST_F(Simulated, DeclaredDevicesOpenByName)
{
    sim::add_nic("uplink", mac_a);
    sim::add_disk("store", 8);
    NetDevice nic { "uplink", "test nic" };
    BlockDevice disk { "store", "test disk" };
    ASSERT_TRUE(nic.open());
    ASSERT_TRUE(disk.open());
    EXPECT_EQ(nic.mac(), mac_a);
    EXPECT_EQ(disk.sectors(), 8u);
    NetDevice missing { "missing", "not there" };
    EXPECT_EQ(missing.open().error(), NetError::not_bound);
}
