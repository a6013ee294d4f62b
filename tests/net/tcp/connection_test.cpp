// The TCP state machine driven by scripts: a segment goes in, the segments that come out are
// checked field by field. No wire, no scheduler: a Port that records, and a clock the test
// moves.
#include <sarab/net/tcp/connection.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace sarab;
using namespace sarab::net;
using namespace sarab::net::tcp;
using namespace std::chrono_literals;
using wire::TcpFlags;

namespace {

const Endpoint local_end { Ipv4Address(198, 18, 0, 1), 80 };
const Endpoint remote_end { Ipv4Address(198, 18, 0, 2), 40000 };
constexpr u8 SYN = TcpFlags::syn, ACK = TcpFlags::ack, FIN = TcpFlags::fin, RST = TcpFlags::rst, PSH = TcpFlags::psh;

struct Sent {
    wire::TcpRepr h;
    std::string payload;
    SeqNumber seq() const { return SeqNumber(h.sequence); }
    bool has(u8 f) const { return h.flags.has(f); }
};

class RecordingPort final : public Port {
public:
    void transmit(Connection&, const wire::TcpRepr& h, std::span<const std::byte> a, std::span<const std::byte> b, Instant) override
    {
        Sent s { h, {} };
        s.payload.append(reinterpret_cast<const char*>(a.data()), a.size());
        s.payload.append(reinterpret_cast<const char*>(b.data()), b.size());
        sent.push_back(std::move(s));
    }
    u32 max_transmit(u32 mss) override { return mss * burst_segments; }
    bool can_transmit(Connection&) override { return room; }
    void deadline_changed(Connection&) override { }
    void state_changed(Connection& c, State) override { states.push_back(c.state()); }
    bool allow_challenge_ack(Instant) override { return challenge_budget-- > 0; }

    std::vector<Sent> sent;
    std::vector<State> states;
    int challenge_budget = 1000;
    u32 burst_segments = 1; // more: the NIC cuts segments (TSO)
    bool room = true;       // false: the NIC's ring is full
};

Config plain_config()
{
    Config c;
    c.timestamps = false;
    c.window_scale = false;
    c.sack = false;
    c.send_buffer = 64 * 1024;
    c.receive_buffer = 16 * 1024;
    return c;
}

std::span<const std::byte> bytes(const std::string& s) { return std::as_bytes(std::span(s)); }

// A connection and a scripted peer. The peer's initial sequence number is 5000 and ours
// 1000, so that numbers in the tests read as offsets.
struct Script {
    explicit Script(Config config = plain_config())
        : c(port, local_end, remote_end, config, 1460)
    {
    }

    wire::TcpRepr segment(u8 flags, u32 seq, u32 ack, u16 window = 16384) const
    {
        wire::TcpRepr h;
        h.source_port = remote_end.port;
        h.destination_port = local_end.port;
        h.sequence = seq;
        h.acknowledgment = ack;
        h.flags.bits = flags;
        h.window = window;
        if (flags & SYN)
            h.mss = 1460;
        return h;
    }
    void in(const wire::TcpRepr& h, const std::string& payload = {}) { c.on_segment(h, bytes(payload), now); }
    void in(u8 flags, u32 seq, u32 ack, const std::string& payload = {}, u16 window = 16384) { in(segment(flags, seq, ack, window), payload); }

    std::vector<Sent> take()
    {
        auto s = std::move(port.sent);
        port.sent.clear();
        return s;
    }
    Sent one()
    {
        auto s = take();
        EXPECT_EQ(s.size(), 1u);
        return s.empty() ? Sent {} : s.front();
    }
    void advance(Duration d)
    {
        Instant until = now + d;
        while (c.next_deadline() <= until) {
            now = c.next_deadline();
            c.on_timer(now);
        }
        now = until;
    }
    std::string read_all()
    {
        std::string out(c.readable_bytes(), '\0');
        auto n = c.read(std::as_writable_bytes(std::span(out)), now);
        EXPECT_TRUE(n);
        out.resize(n ? *n : 0);
        return out;
    }
    void write(const std::string& s)
    {
        auto n = c.write(bytes(s), now);
        ASSERT_TRUE(n);
        ASSERT_EQ(*n, s.size());
    }

    // Active open to ESTABLISHED: our SYN (1000), their SYN-ACK (5000).
    void establish_active()
    {
        c.connect(1000, 0, now);
        auto syn = one();
        EXPECT_TRUE(syn.has(SYN));
        in(SYN | ACK, 5000, 1001);
        auto ack = one();
        EXPECT_EQ(ack.h.acknowledgment, 5001u);
        EXPECT_EQ(c.state(), State::established);
    }
    // RFC 5961: what was just fed in got a challenge ACK (for rcv_nxt 5001) and changed nothing.
    void expect_challenge_ack()
    {
        auto challenge = one();
        EXPECT_EQ(challenge.h.flags.bits, ACK);
        EXPECT_EQ(challenge.h.acknowledgment, 5001u);
        EXPECT_EQ(c.state(), State::established);
    }
    // Passive open to ESTABLISHED.
    void establish_passive(wire::TcpRepr syn)
    {
        c.accept_syn(syn, 1000, 0, now);
        auto synack = one();
        EXPECT_TRUE(synack.has(SYN | ACK));
        in(ACK, 5001, 1001);
        EXPECT_TRUE(take().empty());
        EXPECT_EQ(c.state(), State::established);
    }

    RecordingPort port;
    Connection c;
    Instant now = Instant(10s);
};

} // namespace

TEST(TcpConnection, ActiveOpenSendsSynWithOptionsAndCompletesOnSynAck)
{
    Config config = plain_config();
    config.timestamps = config.window_scale = config.sack = true;
    config.receive_buffer = 256 * 1024;
    Script s(config);
    s.c.connect(1000, 7, s.now);
    auto syn = s.one();
    EXPECT_EQ(syn.h.flags.bits, SYN);
    EXPECT_EQ(syn.h.sequence, 1000u);
    EXPECT_EQ(syn.h.mss, 1460);
    EXPECT_EQ(syn.h.window_scale, 3);     // 256 KiB >> 3 fits 16 bits
    EXPECT_EQ(syn.h.window, 65535);       // unscaled in a SYN
    EXPECT_TRUE(syn.h.sack_permitted);
    ASSERT_TRUE(syn.h.timestamps);
    EXPECT_EQ(syn.h.timestamps->value, 10'000u + 7); // milliseconds plus the offset
    EXPECT_EQ(s.c.state(), State::syn_sent);

    auto synack = s.segment(SYN | ACK, 5000, 1001, 30000);
    synack.mss = 1400;
    synack.window_scale = 2;
    synack.sack_permitted = true;
    synack.timestamps = wire::TcpTimestamps { 777, 10'007 };
    s.in(synack);
    EXPECT_EQ(s.c.state(), State::established);
    auto ack = s.one();
    EXPECT_EQ(ack.h.flags.bits, ACK);
    EXPECT_EQ(ack.h.sequence, 1001u);
    EXPECT_EQ(ack.h.acknowledgment, 5001u);
    ASSERT_TRUE(ack.h.timestamps);
    EXPECT_EQ(ack.h.timestamps->echo_reply, 777u);
    EXPECT_EQ(s.c.negotiated().send_shift, 2);
    EXPECT_EQ(s.c.negotiated().receive_shift, 3);
    EXPECT_TRUE(s.c.negotiated().sack);
    EXPECT_EQ(s.c.mss(), 1400u - 12); // the timestamps option rides in every segment
    EXPECT_EQ(s.c.send_window(), 30000u); // a SYN's window is never scaled
}

TEST(TcpConnection, PassiveOpenAnswersSynAckAndLearnsTheScaledWindow)
{
    Config config = plain_config();
    config.window_scale = true;
    config.receive_buffer = 128 * 1024;
    Script s(config);
    auto syn = s.segment(SYN, 5000, 0, 65535);
    syn.window_scale = 4;
    s.c.accept_syn(syn, 1000, 0, s.now);
    auto synack = s.one();
    EXPECT_EQ(synack.h.flags.bits, SYN | ACK);
    EXPECT_EQ(synack.h.sequence, 1000u);
    EXPECT_EQ(synack.h.acknowledgment, 5001u);
    EXPECT_EQ(synack.h.window_scale, 2);
    EXPECT_FALSE(synack.h.sack_permitted); // not configured
    s.in(ACK, 5001, 1001, {}, 100);
    EXPECT_EQ(s.c.state(), State::established);
    EXPECT_EQ(s.c.send_window(), 100u << 4);
}

TEST(TcpConnection, ALostSynAckIsSentAgainWhenTheSynRepeats)
{
    Script s;
    s.c.accept_syn(s.segment(SYN, 5000, 0), 1000, 0, s.now);
    (void)s.one();
    s.in(SYN, 5000, 0);
    auto again = s.one();
    EXPECT_EQ(again.h.flags.bits, SYN | ACK);
    EXPECT_EQ(again.h.sequence, 1000u);
    // And on its own after the RTO (1 s before any sample).
    s.advance(1s);
    EXPECT_EQ(s.one().h.flags.bits, SYN | ACK);
}

TEST(TcpConnection, DataIsAcknowledgedEverySecondSegmentOrAfterTheDelay)
{
    Script s;
    s.establish_active();
    s.in(ACK | PSH, 5001, 1001, std::string(100, 'a'));
    EXPECT_TRUE(s.take().empty()); // delayed
    s.advance(39ms);
    EXPECT_TRUE(s.take().empty());
    s.advance(1ms);
    EXPECT_EQ(s.one().h.acknowledgment, 5101u);
    s.in(ACK, 5101, 1001, std::string(100, 'b'));
    s.in(ACK, 5201, 1001, std::string(100, 'c'));
    EXPECT_EQ(s.one().h.acknowledgment, 5301u); // the second one is acknowledged at once
    EXPECT_EQ(s.read_all(), std::string(100, 'a') + std::string(100, 'b') + std::string(100, 'c'));
}

TEST(TcpConnection, WritesGoOutAsSegmentsOfAtMostMss)
{
    Script s;
    s.establish_active();
    s.c.set_no_delay(true, s.now);
    s.write(std::string(3000, 'x'));
    auto out = s.take();
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].h.sequence, 1001u);
    EXPECT_EQ(out[0].payload.size(), 1460u);
    EXPECT_EQ(out[1].h.sequence, 1001u + 1460);
    EXPECT_EQ(out[2].payload.size(), 3000u - 2920);
    EXPECT_TRUE(out[2].has(PSH));
    s.in(ACK, 5001, 1001 + 3000);
    EXPECT_TRUE(s.take().empty());
    EXPECT_EQ(s.c.writable_bytes(), 64u * 1024);
}

TEST(TcpConnection, WithSegmentationOffloadNewDataGoesInBurstsOfWholeSegments)
{
    Script s;
    s.port.burst_segments = 4;
    s.establish_active();
    s.write(std::string(10000, 'x'));
    auto out = s.take();
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].h.sequence, 1001u);
    EXPECT_EQ(out[0].payload.size(), 4u * 1460); // four segments for the NIC to cut
    EXPECT_FALSE(out[0].has(PSH));
    EXPECT_EQ(out[1].h.sequence, 1001u + 4 * 1460);
    EXPECT_EQ(out[1].payload.size(), 10000u - 4 * 1460); // the rest, its runt last
    EXPECT_TRUE(out[1].has(PSH));
    EXPECT_EQ(s.c.counters().segments_sent, 2u + 7); // the SYN, the ACK, and 7 on the wire

    // A window of two and a half segments: a burst of two, and the half waits (SWS).
    s.in(ACK, 5001, 1001 + 10000, {}, 3650);
    s.write(std::string(10000, 'y'));
    out = s.take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].payload.size(), 2u * 1460);

    // Retransmissions go one segment at a time.
    s.advance(s.c.next_deadline() - s.now);
    out = s.take();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].h.sequence, 1001u + 10000);
    EXPECT_EQ(out[0].payload.size(), 1460u);
}

TEST(TcpConnection, AFullTransmitRingHoldsDataBackUntilTheLayerResumesTheConnection)
{
    Script s;
    s.establish_active();
    s.c.set_no_delay(true, s.now);
    s.port.room = false;
    s.write(std::string(3000, 'x'));
    EXPECT_TRUE(s.take().empty()); // held back, not sent and lost
    s.port.room = true;
    s.c.resume_output(s.now);
    auto out = s.take();
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].h.sequence, 1001u);
    EXPECT_EQ(out[2].payload.size(), 3000u - 2920);
    EXPECT_EQ(s.c.counters().bytes_retransmitted, 0u);
}

// Minshall's refinement (as Linux does it): the short tail of a write goes with it, even with
// its full segments unacknowledged; only a second short segment waits, for the first's ACK.
TEST(TcpConnection, NagleLetsAWritesShortTailGoAndHoldsTheNextSmallSegment)
{
    Script s;
    s.establish_active();
    s.write(std::string(3000, 'x'));
    auto out = s.take();
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[2].payload.size(), 3000u - 2 * 1460);
    s.write("y");
    EXPECT_TRUE(s.take().empty()); // the 80-byte tail is unacknowledged
    s.in(ACK, 5001, 1001 + 2920);  // the full segments only
    EXPECT_TRUE(s.take().empty());
    s.in(ACK, 5001, 1001 + 3000);  // and the tail
    auto last = s.one();
    EXPECT_EQ(last.payload, "y");
    EXPECT_EQ(last.h.sequence, 1001u + 3000);
    // Full segments are not held by a small one in flight.
    s.write(std::string(1460, 'z'));
    EXPECT_EQ(s.one().payload.size(), 1460u);
}

TEST(TcpConnection, NagleHoldsASecondSmallSegmentUntilTheFirstIsAcknowledged)
{
    Script s;
    s.establish_active();
    s.write("one");
    EXPECT_EQ(s.one().payload, "one");
    s.write("two");
    s.write("three");
    EXPECT_TRUE(s.take().empty());
    s.in(ACK, 5001, 1004);
    auto out = s.one();
    EXPECT_EQ(out.payload, "twothree");
    EXPECT_EQ(out.h.sequence, 1004u);
    s.c.set_no_delay(true, s.now);
    s.write("four");
    EXPECT_EQ(s.one().payload, "four"); // without Nagle it goes while "twothree" is in flight
}

TEST(TcpConnection, CloseSendsFinAndEndsInTimeWaitThenClosed)
{
    Script s;
    s.establish_active();
    s.write("bye");
    (void)s.one();
    s.c.close(s.now);
    auto fin = s.one();
    EXPECT_TRUE(fin.has(FIN));
    EXPECT_EQ(fin.h.sequence, 1004u);
    EXPECT_EQ(s.c.state(), State::fin_wait_1);
    s.in(ACK, 5001, 1005);
    EXPECT_EQ(s.c.state(), State::fin_wait_2);
    s.in(FIN | ACK, 5001, 1005);
    EXPECT_EQ(s.one().h.acknowledgment, 5002u);
    EXPECT_EQ(s.c.state(), State::time_wait);
    // A retransmitted FIN in TIME-WAIT is acknowledged again.
    s.in(FIN | ACK, 5001, 1005);
    EXPECT_EQ(s.one().h.acknowledgment, 5002u);
    s.advance(59s);
    EXPECT_EQ(s.c.state(), State::time_wait);
    s.advance(1s);
    EXPECT_EQ(s.c.state(), State::closed);
    EXPECT_FALSE(s.c.error());
}

TEST(TcpConnection, PassiveCloseGoesThroughCloseWaitAndLastAck)
{
    Script s;
    s.establish_active();
    s.in(FIN | ACK, 5001, 1001, "last words");
    EXPECT_EQ(s.one().h.acknowledgment, 5001u + 10 + 1);
    EXPECT_EQ(s.c.state(), State::close_wait);
    EXPECT_EQ(s.read_all(), "last words");
    EXPECT_TRUE(s.c.end_of_stream());
    // Half-closed: this side can still send.
    s.write("reply");
    EXPECT_EQ(s.one().payload, "reply");
    ASSERT_TRUE(s.c.shutdown_write(s.now));
    auto fin = s.one();
    EXPECT_TRUE(fin.has(FIN));
    EXPECT_EQ(s.c.state(), State::last_ack);
    s.in(ACK, 5012, fin.h.sequence + 1);
    EXPECT_EQ(s.c.state(), State::closed);
}

TEST(TcpConnection, SimultaneousOpenAndSimultaneousClose)
{
    Script s;
    s.c.connect(1000, 0, s.now);
    (void)s.one();
    s.in(SYN, 5000, 0); // their SYN crosses ours
    auto synack = s.one();
    EXPECT_EQ(synack.h.flags.bits, SYN | ACK);
    EXPECT_EQ(synack.h.sequence, 1000u);
    EXPECT_EQ(s.c.state(), State::syn_received);
    s.in(SYN | ACK, 5000, 1001);
    // Their SYN-ACK's SYN is old news (challenge ACK per RFC 5961), but its ACK completes ours.
    s.in(ACK, 5001, 1001);
    EXPECT_EQ(s.c.state(), State::established);
    (void)s.take();

    ASSERT_TRUE(s.c.shutdown_write(s.now));
    EXPECT_TRUE(s.one().has(FIN));
    s.in(FIN | ACK, 5001, 1001); // their FIN, not acknowledging ours
    EXPECT_EQ(s.c.state(), State::closing);
    EXPECT_EQ(s.one().h.acknowledgment, 5002u);
    s.in(ACK, 5002, 1002);
    EXPECT_EQ(s.c.state(), State::time_wait);
}

TEST(TcpConnection, ResetInSynSentWithAcceptableAckIsRefused)
{
    Script s;
    s.c.connect(1000, 0, s.now);
    (void)s.one();
    s.in(RST | ACK, 0, 999); // does not acknowledge our SYN: ignored
    EXPECT_EQ(s.c.state(), State::syn_sent);
    s.in(RST | ACK, 0, 1001);
    EXPECT_EQ(s.c.state(), State::closed);
    EXPECT_EQ(s.c.error(), SocketError::connection_refused);
}

TEST(TcpConnection, SynAckWithABadAckIsAnsweredWithReset)
{
    Script s;
    s.c.connect(1000, 0, s.now);
    (void)s.one();
    s.in(SYN | ACK, 5000, 4242);
    auto rst = s.one();
    EXPECT_EQ(rst.h.flags.bits, RST);
    EXPECT_EQ(rst.h.sequence, 4242u);
    EXPECT_EQ(s.c.state(), State::syn_sent);
}

// RFC 5961 3: a RST inside the window but not at rcv_nxt gets a challenge ACK; only the
// exact one resets.
TEST(TcpConnection, BlindResetInTheWindowGetsAChallengeAck)
{
    Script s;
    s.establish_active();
    s.in(RST, 5001 + 100, 0);
    s.expect_challenge_ack();
    EXPECT_EQ(s.c.counters().challenge_acks, 1u);
    s.in(RST, 5001 + 100000, 0); // outside the window: dropped silently
    EXPECT_TRUE(s.take().empty());
    s.in(RST, 5001, 0);
    EXPECT_EQ(s.c.state(), State::closed);
    EXPECT_EQ(s.c.error(), SocketError::connection_reset);
}

// RFC 5961 4: any SYN on a synchronized connection gets a challenge ACK and changes nothing.
TEST(TcpConnection, BlindSynGetsAChallengeAck)
{
    Script s;
    s.establish_active();
    s.in(SYN, 5001 + 50, 0);
    s.expect_challenge_ack();
}

// RFC 5961 5: data whose ACK acknowledges what was never sent, or is far too old, is dropped
// with an ACK; the data is not delivered.
TEST(TcpConnection, BlindDataWithAnUnacceptableAckIsDropped)
{
    Script s;
    s.establish_active();
    s.in(ACK, 5001, 1001 + 5000, "injected");
    EXPECT_EQ(s.one().h.acknowledgment, 5001u);
    EXPECT_EQ(s.c.readable_bytes(), 0u);
    s.in(ACK, 5001, 1001 - 200000, "injected");
    EXPECT_EQ(s.one().h.acknowledgment, 5001u);
    EXPECT_EQ(s.c.readable_bytes(), 0u);
    s.in(ACK, 5001, 1001, "genuine");
    EXPECT_EQ(s.read_all(), "genuine");
}

TEST(TcpConnection, ChallengeAcksAreRateLimited)
{
    Script s;
    s.establish_active();
    s.port.challenge_budget = 2;
    for (int i = 0; i < 5; ++i)
        s.in(SYN, 5001, 0);
    EXPECT_EQ(s.take().size(), 2u);
}

TEST(TcpConnection, SegmentOutsideTheWindowIsAnsweredWithAnAck)
{
    Script s;
    s.establish_active();
    s.in(ACK, 5001 + 50000, 1001, "far away");
    EXPECT_EQ(s.one().h.acknowledgment, 5001u);
    EXPECT_EQ(s.c.readable_bytes(), 0u);
    EXPECT_EQ(s.c.counters().dropped_segments, 1u);
}

TEST(TcpConnection, OutOfOrderSegmentsAreHeldAndDeliveredInOrder)
{
    Script s;
    s.establish_active();
    s.in(ACK, 5011, 1001, "0123456789"); // second ten bytes first
    EXPECT_EQ(s.one().h.acknowledgment, 5001u); // duplicate ACK at once
    s.in(ACK, 5031, 1001, "ABCDEFGHIJ");
    EXPECT_EQ(s.one().h.acknowledgment, 5001u);
    EXPECT_EQ(s.c.readable_bytes(), 0u);
    s.in(ACK, 5001, 1001, "abcdefghij");
    EXPECT_EQ(s.one().h.acknowledgment, 5021u); // filled the first gap, at once
    s.in(ACK, 5021, 1001, "klmnopqrst");
    EXPECT_EQ(s.one().h.acknowledgment, 5041u);
    EXPECT_EQ(s.read_all(), "abcdefghij0123456789klmnopqrstABCDEFGHIJ");
}

TEST(TcpConnection, ReceiverSendsSackBlocksMostRecentFirst)
{
    Config config = plain_config();
    config.sack = true;
    Script s(config);
    auto syn = s.segment(SYN, 5000, 0);
    syn.sack_permitted = true;
    s.establish_passive(syn);
    s.in(ACK, 5101, 1001, std::string(100, 'x'));
    auto first = s.one();
    ASSERT_EQ(first.h.sack_count, 1);
    EXPECT_EQ(first.h.sack_blocks[0], (wire::SackBlock { 5101, 5201 }));
    s.in(ACK, 5401, 1001, std::string(100, 'y'));
    auto second = s.one();
    ASSERT_EQ(second.h.sack_count, 2);
    EXPECT_EQ(second.h.sack_blocks[0], (wire::SackBlock { 5401, 5501 }));
    EXPECT_EQ(second.h.sack_blocks[1], (wire::SackBlock { 5101, 5201 }));
}

TEST(TcpConnection, RetransmissionTimeoutResendsAndBacksOff)
{
    Script s;
    s.establish_active();
    s.write("data");
    EXPECT_EQ(s.one().h.sequence, 1001u);
    s.advance(999ms);
    EXPECT_TRUE(s.take().empty());
    s.advance(1ms); // no sample yet: RTO is 1 s
    auto again = s.one();
    EXPECT_EQ(again.h.sequence, 1001u);
    EXPECT_EQ(again.payload, "data");
    EXPECT_EQ(s.c.counters().timeouts, 1u);
    EXPECT_EQ(s.c.cwnd(), s.c.mss()); // loss window: one segment
    s.advance(1999ms);
    EXPECT_TRUE(s.take().empty());
    s.advance(1ms); // doubled
    EXPECT_EQ(s.one().payload, "data");
    s.in(ACK, 5001, 1005);
    s.advance(10s);
    EXPECT_TRUE(s.take().empty());
}

TEST(TcpConnection, GivesUpAfterTooManyRetransmissions)
{
    Config config = plain_config();
    config.max_retransmissions = 3;
    Script s(config);
    s.establish_active();
    s.write("data");
    s.advance(1s + 2s + 4s);
    EXPECT_EQ(s.take().size(), 1u + 3);
    s.advance(8s);
    EXPECT_EQ(s.c.state(), State::closed);
    EXPECT_EQ(s.c.error(), SocketError::timed_out);
}

TEST(TcpConnection, ThreeDuplicateAcksTriggerFastRetransmit)
{
    Script s;
    s.establish_active();
    s.c.set_no_delay(true, s.now);
    s.write(std::string(6 * 1460, 'z'));
    EXPECT_EQ(s.take().size(), 6u);
    u32 cwnd_before = s.c.cwnd();
    s.in(ACK, 5001, 1001 + 1460); // first segment arrived
    (void)s.take();
    s.in(ACK, 5001, 1001 + 1460);
    s.in(ACK, 5001, 1001 + 1460);
    EXPECT_TRUE(s.take().empty());
    s.in(ACK, 5001, 1001 + 1460); // the third duplicate
    auto out = s.take();
    ASSERT_GE(out.size(), 1u);
    EXPECT_EQ(out[0].h.sequence, 1001u + 1460); // the second segment again
    EXPECT_EQ(out[0].payload.size(), 1460u);
    EXPECT_EQ(s.c.counters().fast_recoveries, 1u);
    EXPECT_LT(s.c.ssthresh(), cwnd_before + 1460);
    // A partial ACK (RFC 6582) retransmits the next hole at once.
    s.in(ACK, 5001, 1001 + 2 * 1460);
    out = s.take();
    ASSERT_GE(out.size(), 1u);
    EXPECT_EQ(out[0].h.sequence, 1001u + 2 * 1460);
    s.in(ACK, 5001, 1001 + 6 * 1460); // everything: recovery over
    EXPECT_EQ(s.c.cwnd(), s.c.ssthresh());
}

TEST(TcpConnection, SackRetransmitsOnlyTheHoles)
{
    Config config = plain_config();
    config.sack = true;
    Script s(config);
    auto syn = s.segment(SYN, 5000, 0);
    syn.sack_permitted = true;
    s.establish_passive(syn);
    s.c.set_no_delay(true, s.now);
    s.write(std::string(8 * 1460, 's'));
    EXPECT_EQ(s.take().size(), 8u);
    const u32 base = 1001;
    // Segments 1 and 4 are lost; 2, 3, 5.. arrive and are SACKed.
    auto dup = [&](std::vector<wire::SackBlock> blocks) {
        auto h = s.segment(ACK, 5001, base);
        for (auto& b : blocks)
            h.sack_blocks[h.sack_count++] = b;
        s.in(h);
    };
    dup({ { base + 1460, base + 2 * 1460 } });
    dup({ { base + 1460, base + 3 * 1460 } });
    EXPECT_TRUE(s.take().empty());
    dup({ { base + 4 * 1460, base + 5 * 1460 }, { base + 1460, base + 3 * 1460 } });
    auto out = s.take();
    ASSERT_GE(out.size(), 1u);
    EXPECT_EQ(out[0].h.sequence, base); // the first hole
    dup({ { base + 4 * 1460, base + 6 * 1460 }, { base + 1460, base + 3 * 1460 } });
    dup({ { base + 4 * 1460, base + 7 * 1460 }, { base + 1460, base + 3 * 1460 } });
    out = s.take();
    std::vector<u32> retransmitted;
    for (auto& seg : out)
        retransmitted.push_back(seg.h.sequence);
    // The second hole goes; nothing SACKed is sent again.
    EXPECT_NE(std::find(retransmitted.begin(), retransmitted.end(), base + 3 * 1460), retransmitted.end());
    for (u32 seq : retransmitted)
        EXPECT_TRUE(seq == base + 3 * 1460 || seq >= base + 8 * 1460) << seq;
}

TEST(TcpConnection, ZeroWindowIsProbedUntilItOpens)
{
    Script s;
    s.establish_active();
    s.c.set_no_delay(true, s.now);
    s.in(ACK, 5001, 1001, {}, 0); // the peer's window closes
    s.write("waiting");
    EXPECT_TRUE(s.take().empty());
    s.advance(1s);
    auto probe = s.one();
    EXPECT_EQ(probe.h.sequence, 1000u); // snd_una - 1: the peer must answer with its window
    EXPECT_TRUE(probe.payload.empty());
    s.in(ACK, 5001, 1001, {}, 0);
    s.advance(2s); // backed off
    EXPECT_EQ(s.one().h.sequence, 1000u);
    s.in(ACK, 5001, 1001, {}, 1000); // open
    EXPECT_EQ(s.one().payload, "waiting");
}

TEST(TcpConnection, ReceiveWindowClosesWhenTheBufferFillsAndReopensAfterReading)
{
    Config config = plain_config();
    config.receive_buffer = 4096;
    Script s(config);
    s.establish_active();
    for (u32 i = 0; i < 4; ++i)
        s.in(ACK, 5001 + i * 1024, 1001, std::string(1024, char('a' + i)));
    auto acks = s.take();
    ASSERT_FALSE(acks.empty());
    EXPECT_EQ(acks.back().h.acknowledgment, 5001u + 4096);
    EXPECT_EQ(acks.back().h.window, 0);
    s.in(ACK, 5001 + 4096, 1001, "more"); // beyond the window: not taken
    EXPECT_EQ(s.one().h.acknowledgment, 5001u + 4096);
    EXPECT_EQ(s.read_all().size(), 4096u);
    auto update = s.one(); // the window update goes at once
    EXPECT_EQ(update.h.window, 4096);
}

TEST(TcpConnection, PawsDropsASegmentWithAnOldTimestamp)
{
    Config config = plain_config();
    config.timestamps = true;
    Script s(config);
    auto syn = s.segment(SYN, 5000, 0);
    syn.timestamps = wire::TcpTimestamps { 100, 0 };
    s.c.accept_syn(syn, 1000, 0, s.now);
    (void)s.one();
    auto ack = s.segment(ACK, 5001, 1001);
    ack.timestamps = wire::TcpTimestamps { 200, 10'000 };
    s.in(ack);
    ASSERT_EQ(s.c.state(), State::established);
    auto old = s.segment(ACK, 5001, 1001);
    old.timestamps = wire::TcpTimestamps { 150, 10'000 };
    s.in(old, "stale");
    EXPECT_EQ(s.one().h.acknowledgment, 5001u);
    EXPECT_EQ(s.c.readable_bytes(), 0u);
    auto fresh = s.segment(ACK, 5001, 1001);
    fresh.timestamps = wire::TcpTimestamps { 250, 10'000 };
    s.in(fresh, "fresh");
    EXPECT_EQ(s.read_all(), "fresh");
}

TEST(TcpConnection, KeepaliveProbesAnIdlePeerAndGivesUp)
{
    Config config = plain_config();
    config.keepalive_idle = 10s;
    config.keepalive_interval = 1s;
    config.keepalive_probes = 3;
    Script s(config);
    s.establish_active();
    s.advance(10s);
    auto probe = s.one();
    EXPECT_EQ(probe.h.sequence, 1000u);
    s.in(ACK, 5001, 1001); // answered: idle again
    s.advance(9s);
    EXPECT_TRUE(s.take().empty());
    s.advance(1s + 2s);
    EXPECT_EQ(s.take().size(), 3u);
    s.advance(1s);
    EXPECT_EQ(s.c.state(), State::closed);
    EXPECT_EQ(s.c.error(), SocketError::timed_out);
}

TEST(TcpConnection, ClosingWithUnreadDataResets)
{
    Script s;
    s.establish_active();
    s.in(ACK, 5001, 1001, "unread");
    (void)s.take();
    s.c.close(s.now);
    auto rst = s.one();
    EXPECT_TRUE(rst.has(RST));
    EXPECT_EQ(s.c.state(), State::closed);
}

TEST(TcpConnection, DataAfterTheApplicationClosedResets)
{
    Script s;
    s.establish_active();
    s.c.close(s.now);
    EXPECT_TRUE(s.one().has(FIN));
    s.in(ACK, 5001, 1002);
    EXPECT_EQ(s.c.state(), State::fin_wait_2);
    s.in(ACK, 5001, 1002, "too late");
    EXPECT_TRUE(s.one().has(RST));
    EXPECT_EQ(s.c.state(), State::closed);
}

TEST(TcpConnection, FinWait2EndsAfterItsTimeoutOnceTheApplicationClosed)
{
    Script s;
    s.establish_active();
    s.c.close(s.now);
    (void)s.take();
    s.in(ACK, 5001, 1002);
    EXPECT_EQ(s.c.state(), State::fin_wait_2);
    s.advance(60s);
    EXPECT_EQ(s.c.state(), State::closed);
}

TEST(TcpConnection, TimeWaitMayBeReusedOnlyByANewerSyn)
{
    Script s;
    s.establish_active();
    s.c.close(s.now);
    (void)s.take();
    s.in(FIN | ACK, 5001, 1002);
    ASSERT_EQ(s.c.state(), State::time_wait);
    EXPECT_FALSE(s.c.may_reuse_for(s.segment(SYN, 4000, 0)));
    EXPECT_TRUE(s.c.may_reuse_for(s.segment(SYN, 9000, 0)));
}

TEST(TcpConnection, RttSamplesSetTheRetransmissionTimeout)
{
    Config config = plain_config();
    config.timestamps = true;
    Script s(config);
    auto syn = s.segment(SYN, 5000, 0);
    syn.timestamps = wire::TcpTimestamps { 1, 0 };
    s.c.accept_syn(syn, 1000, 0, s.now);
    (void)s.one();
    s.advance(300ms);
    (void)s.take(); // nothing yet: RTO is 1 s
    auto ack = s.segment(ACK, 5001, 1001);
    ack.timestamps = wire::TcpTimestamps { 2, 10'000 }; // echoes the SYN-ACK sent at 10 s
    s.in(ack);
    EXPECT_EQ(s.c.rtt().srtt(), 300ms);
    EXPECT_EQ(s.c.rtt().rto(), 300ms + 4 * 150ms);
}
