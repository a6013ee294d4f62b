// The stores under a TCP connection, and its congestion controls, on their own.
#include <sarab/net/tcp/buffers.hpp>
#include <sarab/net/tcp/congestion.hpp>
#include <sarab/net/tcp/rtt.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using namespace sarab;
using namespace sarab::net::tcp;
using namespace std::chrono_literals;

namespace {
std::span<const std::byte> bytes(const std::string& s) { return std::as_bytes(std::span(s)); }
std::string read(RingBuffer& r, usize n)
{
    std::string out(n, '\0');
    out.resize(r.pop(std::as_writable_bytes(std::span(out))));
    return out;
}
} // namespace

TEST(TcpRingBuffer, WrapsAndHoldsOutOfOrderBytesBeyondItsEnd)
{
    RingBuffer r(8);
    EXPECT_FALSE(r.allocated()); // nothing until first used
    EXPECT_EQ(r.push(bytes("abcdef")), 6u);
    EXPECT_EQ(read(r, 4), "abcd");
    EXPECT_EQ(r.push(bytes("ghijklmn")), 6u); // only the free room
    EXPECT_EQ(r.size(), 8u);
    auto [a, b] = r.pieces(1, 6);
    EXPECT_EQ(a.size() + b.size(), 6u);
    EXPECT_EQ(read(r, 8), "efghijkl");
    // Reading everything does not lose bytes written beyond the end.
    EXPECT_TRUE(r.write_beyond(2, bytes("XY")));
    EXPECT_FALSE(r.write_beyond(7, bytes("XY")));
    EXPECT_EQ(r.push(bytes("12")), 2u);
    r.commit(2);
    EXPECT_EQ(read(r, 8), "12XY");
}

TEST(TcpRingBuffer, GrowsFromSmallKeepingWhatItHolds)
{
    RingBuffer r(1024 * 1024);
    EXPECT_EQ(r.push(bytes("0123456789")), 10u);
    EXPECT_EQ(r.allocation(), RingBuffer::initial_allocation);
    EXPECT_EQ(read(r, 4), "0123"); // the head is no longer at the start
    std::string far(50, 'F');
    EXPECT_TRUE(r.write_beyond(100'000, bytes(far))); // out of order, far ahead
    EXPECT_EQ(r.allocation(), 128u * 1024);
    std::string gap(100'000, 'g');
    EXPECT_EQ(r.push(bytes(gap)), gap.size());
    r.commit(50);
    std::string all = read(r, 200'000);
    EXPECT_EQ(all, "456789" + gap + far);
    EXPECT_EQ(r.allocation(), 128u * 1024);
}

TEST(TcpRangeSet, MergesWhatTouchesAndRefusesBeyondCapacity)
{
    RangeSet<3> set;
    SeqNumber base(0xfffffff0u); // across the wrap
    EXPECT_TRUE(set.add(base + 10, base + 20));
    EXPECT_TRUE(set.add(base + 30, base + 40));
    EXPECT_TRUE(set.add(base + 50, base + 60));
    EXPECT_FALSE(set.add(base + 70, base + 80));
    EXPECT_TRUE(set.add(base + 20, base + 30)); // joins the first two
    EXPECT_EQ(set.count(), 2u);
    EXPECT_EQ(set.front(), (SeqRange { base + 10, base + 40 }));
    EXPECT_EQ(set.total(), 40u);
    EXPECT_EQ(set.covered(base + 35, base + 55), 10u);
    set.remove_below(base + 15);
    EXPECT_EQ(set.front().left, base + 15);
    EXPECT_NE(set.find(base + 55), nullptr);
    EXPECT_EQ(set.find(base + 45), nullptr);
    set.remove_below(base + 100);
    EXPECT_TRUE(set.empty());
}

TEST(TcpRtt, FollowsRfc6298)
{
    RttEstimator rtt;
    EXPECT_EQ(rtt.rto(), 1s);
    rtt.sample(100ms);
    EXPECT_EQ(rtt.srtt(), 100ms);
    EXPECT_EQ(rtt.rttvar(), 50ms);
    EXPECT_EQ(rtt.rto(), 300ms);
    rtt.sample(200ms);
    EXPECT_EQ(rtt.srtt(), 112500us);
    EXPECT_EQ(rtt.rttvar(), 62500us);
    rtt.back_off();
    EXPECT_EQ(rtt.rto(), 2 * (112500us + 250ms));
    rtt.sample(1ms);
    EXPECT_GE(rtt.rto(), 200ms); // the floor
    for (int i = 0; i < 20; ++i)
        rtt.back_off();
    EXPECT_EQ(rtt.rto(), 60s);
}

TEST(TcpCongestion, NewRenoSlowStartThenLinearAndHalvesOnLoss)
{
    NewReno cc;
    constexpr u32 mss = 1000;
    cc.init(mss);
    EXPECT_EQ(cc.cwnd(), 10 * mss);
    cc.on_ack(5000, mss, Instant(), 10ms);
    EXPECT_EQ(cc.cwnd(), 12 * mss); // at most 2 SMSS per ACK (RFC 3465)
    cc.on_congestion(12 * mss, mss, Instant());
    EXPECT_EQ(cc.ssthresh(), 6 * mss);
    cc.set_cwnd(cc.ssthresh());
    for (int i = 0; i < 6; ++i)
        cc.on_ack(mss, mss, Instant(), 10ms);
    EXPECT_EQ(cc.cwnd(), 7 * mss); // one SMSS per window
    cc.on_timeout(7 * mss, mss, Instant());
    EXPECT_EQ(cc.cwnd(), mss);
    EXPECT_EQ(cc.ssthresh(), 3500u);
}

TEST(TcpCongestion, CubicReducesByBetaAndClimbsBackPastWmax)
{
    Cubic cc;
    constexpr u32 mss = 1000;
    cc.init(mss);
    cc.set_cwnd(100 * mss);
    cc.on_congestion(100 * mss, mss, Instant());
    EXPECT_EQ(cc.ssthresh(), 70u * mss);
    EXPECT_DOUBLE_EQ(cc.w_max_segments(), 100);
    cc.set_cwnd(cc.ssthresh());
    // K = cbrt(W_max (1 - beta) / C) = cbrt(75) seconds.
    Instant t0 = Instant(1s);
    cc.on_ack(mss, mss, t0, 100ms);
    EXPECT_NEAR(cc.k_seconds(), std::cbrt(75.0), 1e-9);
    // Acknowledge a window per 100 ms round trip for K seconds: cwnd nears W_max (the cubic
    // curve, not Reno's line, leads at this RTT), then passes it.
    Instant t = t0;
    while (t < t0 + std::chrono::milliseconds(i64(cc.k_seconds() * 1000))) {
        t += 100ms;
        cc.on_ack(cc.cwnd(), mss, t, 100ms);
    }
    EXPECT_NEAR(double(cc.cwnd()) / mss, 100.0, 3.0);
    for (int i = 0; i < 20; ++i) {
        t += 100ms;
        cc.on_ack(cc.cwnd(), mss, t, 100ms);
    }
    EXPECT_GT(cc.cwnd(), 101u * mss);
    // Fast convergence: a loss below the last W_max lowers it further.
    cc.set_cwnd(90 * mss);
    cc.on_congestion(90 * mss, mss, t);
    EXPECT_LT(cc.w_max_segments(), 90.0);
}
