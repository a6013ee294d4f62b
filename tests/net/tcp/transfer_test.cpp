// TCP between two of Sarab's stacks on the simulated wire, under the faults a network has:
// 10 MB each way at once, compared by SHA-256, for loss of 1%, 5% and 10%, reordering,
// duplication, corruption, a one-second outage and an MTU mismatch; and with NICs that
// complete checksums and cut TCP segments (TSO, sim::NicOffloads): clean, 5% loss, an MTU
// mismatch (segments cut smaller than one frame holds), and every 64 KiB frame taken, so that
// data goes one segment at a time; and with a transmit ring of 8 frames, which TCP must wait
// for rather than lose segments to. Every run writes the
// headers of its frames to a pcap (tcp-<scenario>.pcap in the test's working directory) to
// look at with Wireshark when something is wrong.
#include "../stack_pair.hpp"

#include "../../coroutine_assert.hpp"

#include <sarab/runtime/when.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <string>

using namespace sarab;
using namespace sarab::net;
using namespace sarab::net::testing;
using namespace std::chrono_literals;

namespace {

constexpr usize transfer_size = 10 * 1000 * 1000;

std::string sha256(std::span<const std::byte> data)
{
    std::array<unsigned char, 32> digest {};
    unsigned int length = 0;
    EXPECT_EQ(EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr), 1);
    std::string hex;
    for (unsigned i = 0; i < length; ++i) {
        static constexpr char digits[] = "0123456789abcdef";
        hex += digits[digest[i] >> 4];
        hex += digits[digest[i] & 15];
    }
    return hex;
}

struct Scenario {
    const char* name;
    sim::LinkConfig link;
    u16 mtu_b = 1500;
    bool outage = false;
    sim::NicOffloads offloads {};
    bool hold_segmentation_frames = false; // the test takes them all: no TSO frame is free
};

constexpr sim::NicOffloads tso { .checksums = true, .segmentation = true };

std::ostream& operator<<(std::ostream& out, const Scenario& s) { return out << s.name; }

sim::LinkConfig lan()
{
    sim::LinkConfig link;
    link.latency = 1ms;
    link.rate_bps = 100'000'000;
    return link;
}

// A NIC whose transmit ring holds 8 frames: TCP must wait for room, not lose segments.
sim::LinkConfig small_ring()
{
    sim::LinkConfig link = lan();
    link.ring_frames = 8;
    return link;
}

sim::LinkConfig with(double sim::LinkConfig::*field, double value)
{
    sim::LinkConfig link = lan();
    link.*field = value;
    return link;
}

// Writes all of `data`, then half-closes; reads until the peer's end of stream.
Task<void> exchange(TcpStream& stream, std::span<const std::byte> data, std::vector<std::byte>& received)
{
    auto writer = [&]() -> Task<void> {
        for (usize offset = 0; offset < data.size();) {
            usize n = std::min<usize>(64 * 1024, data.size() - offset);
            auto written = co_await stream.write(data.subspan(offset, n));
            if (!written)
                ADD_FAILURE() << "write at " << offset << ": " << error_name(written.error());
            CO_ASSERT_TRUE(written);
            offset += n;
        }
        CO_ASSERT_TRUE(stream.shutdown_write());
    };
    auto reader = [&]() -> Task<void> {
        std::vector<std::byte> buffer(64 * 1024);
        for (;;) {
            auto n = co_await stream.read(buffer);
            if (!n)
                ADD_FAILURE() << "read after " << received.size() << ": " << error_name(n.error());
            CO_ASSERT_TRUE(n);
            if (*n == 0)
                break;
            received.insert(received.end(), buffer.begin(), buffer.begin() + *n);
        }
    };
    co_await when_all(writer(), reader());
}

} // namespace

class TcpTransfer : public ::testing::TestWithParam<Scenario> { };

TEST_P(TcpTransfer, TenMegabytesEachWayArriveIntact)
{
    const Scenario& scenario = GetParam();
    sim::reset(11);
    Pair p(scenario.link, 1500, scenario.mtu_b, {}, scenario.offloads);
    std::vector<platform::Frame> held;
    while (scenario.hold_segmentation_frames) {
        auto frame = p.nic_a->allocate_segmented(0);
        if (!frame)
            break;
        held.push_back(std::move(*frame));
    }
    std::string pcap = std::string("tcp-") + scenario.name + ".pcap";
    ASSERT_TRUE(sim::start_pcap(pcap, 96));
    Scheduler s;
    p.start();
    auto to_b = pattern(transfer_size, 1);
    auto to_a = pattern(transfer_size, 2);
    std::vector<std::byte> at_a, at_b;
    bool finished = false;

    auto server = [&]() -> Task<void> {
        auto listener = p.b->tcp_listen(5001);
        CO_ASSERT_TRUE(listener);
        auto stream = co_await listener->accept();
        CO_ASSERT_TRUE(stream);
        co_await exchange(*stream, to_a, at_b);
    };
    auto client = [&]() -> Task<void> {
        co_await sleep_for(1ms); // the listener first
        auto stream = co_await p.a->tcp_connect({ ip_b, 5001 });
        CO_ASSERT_TRUE(stream);
        co_await exchange(*stream, to_b, at_a);
    };
    auto outage = [&]() -> Task<void> {
        if (!scenario.outage)
            co_return;
        co_await sleep_for(300ms);
        sim::link("a").up = false;
        sim::link("b").up = false;
        co_await sleep_for(1s);
        sim::link("a").up = true;
        sim::link("b").up = true;
    };
    s.run([&]() -> Task<void> {
        auto both = [&]() -> Task<void> {
            co_await when_all(server(), client(), outage());
            finished = true;
        };
        (void)co_await with_timeout(30min, both());
    }());
    sim::stop_pcap();
    EXPECT_TRUE(finished) << "the transfer did not end within 30 virtual minutes";
    EXPECT_EQ(at_b.size(), transfer_size);
    EXPECT_EQ(at_a.size(), transfer_size);
    EXPECT_EQ(sha256(at_b), sha256(to_b));
    EXPECT_EQ(sha256(at_a), sha256(to_a));
    auto c = sim::counters();
    std::printf("%s: %.1f virtual seconds; frames sent %llu, dropped %llu, duplicated %llu, corrupted %llu, too big %llu; "
                "TCP segments not sent %llu/%llu; frames free %zu/%zu\n",
        scenario.name, std::chrono::duration<double>(MonotonicClock::now().time_since_epoch()).count(),
        (unsigned long long)c.transmitted, (unsigned long long)c.dropped, (unsigned long long)c.duplicated,
        (unsigned long long)c.corrupted, (unsigned long long)c.too_big, (unsigned long long)(p.a->tcp().counters().no_buffers + p.a->tcp().counters().send_failures),
        (unsigned long long)(p.b->tcp().counters().no_buffers + p.b->tcp().counters().send_failures), platform::net_frame_pool(p.nic_a->handle()).available(),
        platform::net_frame_pool(p.nic_b->handle()).available());
    auto& tcp_a = p.a->tcp().counters();
    std::printf("%s: A sent %llu TSO frames, waited for room %llu times; frames refused %llu\n", scenario.name,
        (unsigned long long)tcp_a.segmentation_offloads, (unsigned long long)tcp_a.held_back, (unsigned long long)c.refused);
    if (scenario.link.ring_frames) {
        EXPECT_GT(tcp_a.held_back, 0u);
        EXPECT_EQ(c.refused, 0u); // held back, never refused and lost
    }
    if (scenario.offloads.segmentation && !scenario.hold_segmentation_frames)
        EXPECT_GT(tcp_a.segmentation_offloads, 100u); // 10 MB in frames of up to 64 KiB
    else
        EXPECT_EQ(tcp_a.segmentation_offloads, 0u); // none, or none free: one segment at a time
}

INSTANTIATE_TEST_SUITE_P(Faults, TcpTransfer,
    ::testing::Values(Scenario { "clean", lan() }, Scenario { "loss1", with(&sim::LinkConfig::loss, 0.01) },
        Scenario { "loss5", with(&sim::LinkConfig::loss, 0.05) }, Scenario { "loss10", with(&sim::LinkConfig::loss, 0.10) },
        Scenario { "reorder", with(&sim::LinkConfig::reorder, 0.10) },
        Scenario { "duplicate", with(&sim::LinkConfig::duplicate, 0.05) },
        Scenario { "corrupt", with(&sim::LinkConfig::corrupt, 0.02) }, Scenario { "outage", lan(), 1500, true },
        Scenario { "mtu_mismatch", lan(), 1400 },
        Scenario { "tso_clean", lan(), 1500, false, tso },
        Scenario { "tso_loss5", with(&sim::LinkConfig::loss, 0.05), 1500, false, tso },
        Scenario { "tso_mtu_mismatch", lan(), 1400, false, tso },
        Scenario { "tso_no_frame_free", lan(), 1500, false, tso, true },
        Scenario { "small_ring", small_ring() }, Scenario { "tso_small_ring", small_ring(), 1500, false, tso }),
    [](const ::testing::TestParamInfo<Scenario>& info) { return std::string(info.param.name); });
