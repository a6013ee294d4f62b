// One TCP connection (RFC 9293): the transmission control block and its state machine.
//
// A Connection is pure protocol: segments come in through on_segment(), time through
// on_timer(), the application's bytes through write()/read(); what it sends goes out
// through its Port (the TCP layer, or a test), which also rate-limits challenge ACKs and
// hears of state changes. It never allocates per segment: its buffers are two rings,
// allocated when first used.
//
// What it implements, and where:
//   states and segment processing          RFC 9293 3.10 (incl. simultaneous open and close)
//   retransmission timer                   RFC 6298 (rtt.hpp), Karn's rule without timestamps
//   congestion control                     congestion.hpp: CUBIC or NewReno, chosen at configure
//   loss recovery with SACK                RFC 2018 + RFC 6675 (pipe, NextSeg, RecoveryPoint)
//   loss recovery without SACK             RFC 6582 (NewReno partial ACKs)
//   window scaling, timestamps, PAWS       RFC 7323
//   delayed ACKs                           RFC 1122 4.2.3.2, RFC 5681 4.2 (every 2nd segment)
//   Nagle, sender and receiver SWS         RFC 9293 3.8.6; Nagle with Minshall's refinement (a
//                                          short segment waits only while another is
//                                          unacknowledged); set_no_delay turns it off
//   zero-window probes                     RFC 9293 3.8.6.1 (persist timer, never gives up)
//   keepalive                              RFC 9293 3.8.4 (off unless configured)
//   blind RST, SYN and data mitigations    RFC 5961 3, 4, 5 (challenge ACKs, rate-limited)
//   TIME_WAIT                              2 MSL; RFC 6191-style reuse is the layer's choice
//
// Sequence space: [snd_una, snd_max) is in flight; the send ring holds the bytes from
// snd_una on; snd_nxt (== snd_max here: retransmissions go through the scoreboard, never by
// moving snd_nxt back) is where new data goes. Our FIN, once sent, is the last number of
// that space.
#pragma once

#include <sarab/net/address.hpp>
#include <sarab/net/socket.hpp>
#include <sarab/net/tcp/buffers.hpp>
#include <sarab/net/tcp/congestion.hpp>
#include <sarab/net/tcp/rtt.hpp>
#include <sarab/net/wire/tcp.hpp>
#include <sarab/runtime/sync.hpp>

#include <optional>

namespace sarab::net::tcp {

enum class State : u8 {
    closed,
    listen,
    syn_sent,
    syn_received,
    established,
    fin_wait_1,
    fin_wait_2,
    close_wait,
    closing,
    last_ack,
    time_wait,
};
const char* state_name(State);

struct Config {
    u32 send_buffer = 256 * 1024;
    u32 receive_buffer = 1024 * 1024;
    bool window_scale = true;
    bool timestamps = true;
    bool sack = true;
    bool no_delay = false;
    Duration delayed_ack = std::chrono::milliseconds(40);
    RtoLimits rto {};
    Duration msl = std::chrono::seconds(30);             // TIME_WAIT lasts 2 MSL
    // Most connections in TIME_WAIT at once (the layer's limit, like Linux's
    // tcp_max_tw_buckets): beyond it a connection that would enter TIME_WAIT closes at once,
    // so a server that closes thousands of connections a second keeps bounded memory.
    u32 max_time_wait = 8192;
    Duration fin_wait_2_timeout = std::chrono::seconds(60); // after the application closed
    u32 max_retransmissions = 15;                        // data (Linux's tcp_retries2)
    u32 max_syn_retransmissions = 6;
    Duration keepalive_idle = Duration::zero();          // zero: no keepalive
    Duration keepalive_interval = std::chrono::seconds(75);
    u32 keepalive_probes = 9;
};

struct Counters {
    u64 segments_sent = 0;
    u64 segments_received = 0;
    u64 bytes_sent = 0;          // new data, first transmissions
    u64 bytes_retransmitted = 0;
    u64 fast_recoveries = 0;
    u64 timeouts = 0;
    u64 challenge_acks = 0;
    u64 dropped_segments = 0;    // unacceptable, PAWS, out of reassembly room
    u64 out_of_order = 0;
};

class Connection;

// What a connection needs of whoever carries its segments.
class Port {
public:
    virtual ~Port() = default;
    // Sends one segment: the header in `header`, the payload in the two pieces (either may be
    // empty). Failure (no buffer) is treated as a loss.
    virtual void transmit(Connection&, const wire::TcpRepr& header, std::span<const std::byte> a, std::span<const std::byte> b, Instant now) = 0;
    // How many payload bytes the next transmit may carry, at most: more than `mss` when the
    // NIC cuts long segments into pieces of `mss` bytes (TCP segmentation offload,
    // platform/frame.hpp) and has a frame free for one. Each piece then gets the header's
    // flags and options, except that FIN and PSH go only on the last. The default: one
    // segment at a time.
    virtual u32 max_transmit(u32 mss) { return mss; }
    // Whether the NIC takes a frame now. When it does not, the port remembers the connection
    // and calls its resume_output once it does: a full transmit ring holds data back instead
    // of losing it. The default: always.
    virtual bool can_transmit(Connection&) { return true; }
    // The connection's next_deadline() may have moved earlier.
    virtual void deadline_changed(Connection&) = 0;
    // The state changed (established, closed, ...).
    virtual void state_changed(Connection&, State from) = 0;
    // RFC 5961 7: may a challenge ACK go out now? (a limit across all connections)
    virtual bool allow_challenge_ack(Instant now) = 0;
};

// Options a peer's SYN offered, and what this side decided.
struct Negotiated {
    u16 peer_mss = 536;       // RFC 9293 3.7.1: the default without the option
    bool window_scale = false;
    u8 send_shift = 0;        // the peer's shift: its windows are << this
    u8 receive_shift = 0;     // ours
    bool sack = false;
    bool timestamps = false;
};

class Connection {
public:
    Connection(Port& port, Endpoint local, Endpoint remote, Config config, u16 local_mss);
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // ---- opening --------------------------------------------------------------------------
    // Active open: sends a SYN with initial sequence number `iss`.
    void connect(u32 iss, u32 ts_offset, Instant now);
    // Passive open: `syn` arrived at a listener; answers with a SYN-ACK.
    void accept_syn(const wire::TcpRepr& syn, u32 iss, u32 ts_offset, Instant now);
    // Passive open completed by a SYN cookie: the handshake's last ACK arrived; the
    // options are what the cookie remembered.
    void accept_cookie(const wire::TcpRepr& ack, std::span<const std::byte> payload, u32 iss, u32 irs, Negotiated options, u32 ts_offset, Instant now);

    // ---- from the network and the clock -----------------------------------------------------
    void on_segment(const wire::TcpRepr&, std::span<const std::byte> payload, Instant now);
    Instant next_deadline() const;
    void on_timer(Instant now);
    // The NIC has room again after the port's can_transmit said no: send what waits.
    void resume_output(Instant now);

    // ---- from the application ---------------------------------------------------------------
    // Copies up to data.size() bytes into the send buffer and sends what it may. Returns how
    // many were taken (0 when the buffer is full: wait on writable()).
    ErrorOr<usize, SocketError> write(std::span<const std::byte> data, Instant now);
    // Copies received bytes out. 0 with end_of_stream() means the peer closed.
    ErrorOr<usize, SocketError> read(std::span<std::byte> out, Instant now);
    // No more writes: a FIN follows the queued data.
    ErrorOr<void, SocketError> shutdown_write(Instant now);
    // The application let go: shutdown_write, and the connection finishes on its own (an RST
    // instead when received data was never read, RFC 2525 2.17).
    void close(Instant now);
    // Sends RST and forgets everything.
    void abort(Instant now);
    void set_no_delay(bool on, Instant now);

    // ---- from ICMP --------------------------------------------------------------------------
    // Is seq one of ours that is in flight (the check on a quoted segment, RFC 5927)?
    bool in_flight(SeqNumber seq) const { return seq.in_window(m_snd_una, m_snd_max); }
    // The path's MTU is `mtu` (RFC 1191): lower the MSS, and send again at once what was too
    // big, without taking it as congestion.
    void on_path_mtu(u16 mtu, Instant now);

    Notifier& readable() { return m_readable; }
    Notifier& writable() { return m_writable; }
    Notifier& state_event() { return m_state_event; }

    // ---- observation ------------------------------------------------------------------------
    State state() const { return m_state; }
    std::optional<SocketError> error() const { return m_error; }
    bool end_of_stream() const { return m_fin_received; }
    u32 readable_bytes() const { return m_rx.size(); }
    u32 writable_bytes() const { return m_write_closed ? 0 : m_tx.free(); }
    bool is_synchronized() const { return m_state >= State::established || m_state == State::syn_received; }
    Endpoint local() const { return m_local; }
    Endpoint remote() const { return m_remote; }
    const Negotiated& negotiated() const { return m_options; }
    const Counters& counters() const { return m_counters; }
    u32 cwnd() const { return m_cc.cwnd(); }
    u32 ssthresh() const { return m_cc.ssthresh(); }
    u32 mss() const { return m_mss; }
    u32 send_window() const { return m_snd_wnd; }
    const RttEstimator& rtt() const { return m_rtt; }
    bool user_closed() const { return m_user_closed; }

    // Used by the layer.
    void* user = nullptr;             // the application's handle, while it has one
    void* listener = nullptr;         // the listener a passive open belongs to, until accepted
    Instant scheduled = never;        // the earliest deadline the layer's timer heap holds for it
    u64 serial = 0;                   // tells a reused four-tuple's connections apart
    bool waiting_for_room = false;    // on the layer's list of connections the NIC held back

    // For a SYN that reaches this connection in TIME_WAIT (RFC 6191): may a new connection
    // take the four-tuple?
    bool may_reuse_for(const wire::TcpRepr& syn) const;

private:
    enum class Recovery : u8 { none, fast, timeout };

    void set_state(State, Instant now);
    void fail(SocketError, Instant now);
    void process_syn_sent(const wire::TcpRepr&, std::span<const std::byte>, Instant now);
    void take_syn_options(const wire::TcpRepr& syn);
    bool acceptable(const wire::TcpRepr&, usize length) const;
    bool process_ack(const wire::TcpRepr&, usize payload_len, Instant now);
    void process_sack(const wire::TcpRepr&);
    void take_rtt_sample(const wire::TcpRepr&, SeqNumber acked_to, Instant now);
    void on_new_ack(u32 acked, Instant now);
    void on_duplicate_ack(Instant now);
    void enter_recovery(Instant now);
    // Marks everything in flight below the loss boundary for retransmission, hole by hole.
    void start_recovery(Recovery);
    void update_loss_boundary();
    void receive_data(SeqNumber seq, std::span<const std::byte> payload, bool fin, Instant now);
    void deliver_fin(Instant now);

    // Sending.
    void output(Instant now);
    u32 pipe() const;
    u32 flight() const { return u32(m_snd_max - m_snd_una); }
    // Whether the last segment shorter than the MSS that was sent is still unacknowledged
    // (Minshall's refinement of Nagle: a write's own short tail goes at once; a second small
    // segment waits for the first's ACK).
    bool small_segment_in_flight() const { return m_small_end != m_snd_una && in_flight(m_small_end - 1); }
    u32 data_end_offset() const { return m_tx.size(); } // bytes from snd_una to the end of data
    bool next_retransmission(SeqNumber& seq, u32& len) const;
    void send_range(SeqNumber seq, u32 data_len, bool fin, bool retransmission, Instant now);
    void send_syn(Instant now);
    void send_ack(Instant now);
    void send_challenge_ack(Instant now);
    void send_rst(SeqNumber seq, Instant now);
    void send_control(u8 flags, SeqNumber seq, Instant now);
    void fill_header(wire::TcpRepr&, Instant now, bool with_sack, u32 data_len);
    u16 window_field();
    u32 receive_window() const;
    void ack_sent();
    void maybe_window_update(Instant now);
    u32 timestamp(Instant now) const;

    // Timers.
    void arm_rto(Instant now);
    void on_rto(Instant now);
    void arm_persist(Instant now);
    void deadline_changed();

    Port& m_port;
    Endpoint m_local;
    Endpoint m_remote;
    Config m_config;
    State m_state = State::closed;
    std::optional<SocketError> m_error;
    Negotiated m_options;
    u16 m_local_mss;
    u32 m_mss = 536; // effective send MSS: data bytes per segment

    // Send sequence space.
    SeqNumber m_iss;
    SeqNumber m_snd_una;
    SeqNumber m_snd_max;
    SeqNumber m_small_end; // where the last short segment sent ended (small_segment_in_flight)
    SeqNumber m_snd_wl1;
    SeqNumber m_snd_wl2;
    u32 m_snd_wnd = 0;
    u32 m_max_snd_wnd = 0;
    RingBuffer m_tx;
    bool m_write_closed = false; // shutdown_write or close: a FIN follows the data
    bool m_fin_sent = false;
    bool m_user_closed = false;
    bool m_no_delay = false;

    // Receive sequence space.
    SeqNumber m_irs;
    SeqNumber m_rcv_nxt;
    SeqNumber m_rcv_adv;         // right edge of the window last advertised
    RingBuffer m_rx;
    RangeSet<8> m_ooo;           // out-of-order data held beyond rcv_nxt
    SeqRange m_last_ooo {};      // the block most recently received, first in our SACK option
    std::optional<SeqNumber> m_fin_seq; // a FIN that arrived ahead of the data before it
    bool m_fin_received = false;
    u32 m_segments_unacked = 0;  // segments received in order since our last ACK
    u32 m_bytes_unacked = 0;     // and their bytes
    bool m_ack_now = false;

    // Timestamps (RFC 7323).
    u32 m_ts_offset = 0;
    u32 m_ts_recent = 0;
    SeqNumber m_last_ack_sent;

    // Loss recovery and congestion control.
    Congestion m_cc;
    RttEstimator m_rtt;
    RangeSet<8> m_sacked;        // the scoreboard: blocks the peer has SACKed above snd_una
    u32 m_dupacks = 0;
    Recovery m_recovery = Recovery::none;
    SeqNumber m_recovery_point;  // RecoveryPoint (RFC 6675) / recover (RFC 6582)
    bool m_recovered_once = false;
    SeqNumber m_high_rxt;        // HighRxt: retransmitted up to here in this recovery
    SeqNumber m_loss_boundary;   // unSACKed bytes below this are taken as lost
    u32 m_retransmissions = 0;   // consecutive timeouts without progress
    std::optional<SeqNumber> m_timed_seq; // Karn: the segment being timed, without timestamps
    Instant m_timed_at {};

    // Timers.
    Instant m_rto_deadline = never;     // retransmission, SYN retransmission, or persist
    bool m_persist = false;             // m_rto_deadline is the persist timer
    Instant m_delack_deadline = never;
    Instant m_keepalive_deadline = never;
    Instant m_close_deadline = never;   // TIME_WAIT's 2 MSL, or FIN_WAIT_2 after close
    u32 m_keepalive_sent = 0;
    Instant m_last_received {};

    Notifier m_readable;
    Notifier m_writable;
    Notifier m_state_event;
    Counters m_counters;
};

} // namespace sarab::net::tcp
