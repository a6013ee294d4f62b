// TCP connection: see include/sarab/net/tcp/connection.hpp for what is implemented where.
#include <sarab/net/tcp/connection.hpp>

namespace sarab::net::tcp {

using wire::TcpFlags;
using namespace std::chrono_literals;

const char* state_name(State s)
{
    switch (s) {
    case State::closed: return "CLOSED";
    case State::listen: return "LISTEN";
    case State::syn_sent: return "SYN-SENT";
    case State::syn_received: return "SYN-RECEIVED";
    case State::established: return "ESTABLISHED";
    case State::fin_wait_1: return "FIN-WAIT-1";
    case State::fin_wait_2: return "FIN-WAIT-2";
    case State::close_wait: return "CLOSE-WAIT";
    case State::closing: return "CLOSING";
    case State::last_ack: return "LAST-ACK";
    case State::time_wait: return "TIME-WAIT";
    }
    return "?";
}

namespace {

constexpr u32 dup_threshold = 3; // DupThresh (RFC 5681, RFC 6675)
constexpr usize timestamps_option_len = 12;

u8 shift_for(u32 buffer)
{
    u8 shift = 0;
    while ((buffer >> shift) > 65535 && shift < 14)
        ++shift;
    return shift;
}

} // namespace

Connection::Connection(Port& port, Endpoint local, Endpoint remote, Config config, u16 local_mss)
    : m_port(port)
    , m_local(local)
    , m_remote(remote)
    , m_config(config)
    , m_local_mss(local_mss)
    , m_tx(config.send_buffer)
    , m_rx(config.receive_buffer)
    , m_rtt(config.rto)
{
    m_no_delay = config.no_delay;
    m_cc.init(m_mss);
}

// ---- opening ---------------------------------------------------------------------------------

void Connection::connect(u32 iss, u32 ts_offset, Instant now)
{
    m_iss = SeqNumber(iss);
    m_snd_una = m_iss;
    m_snd_max = m_iss + 1;
    m_small_end = m_snd_una;
    m_ts_offset = ts_offset;
    m_options.receive_shift = m_config.window_scale ? shift_for(m_config.receive_buffer) : 0;
    set_state(State::syn_sent, now);
    send_syn(now);
}

void Connection::take_syn_options(const wire::TcpRepr& syn)
{
    m_options.peer_mss = syn.mss.value_or(536);
    if (m_config.window_scale && syn.window_scale) {
        m_options.window_scale = true;
        m_options.send_shift = std::min<u8>(*syn.window_scale, 14);
        m_options.receive_shift = shift_for(m_config.receive_buffer);
    } else {
        m_options.window_scale = false;
        m_options.send_shift = 0;
        m_options.receive_shift = 0;
    }
    m_options.sack = m_config.sack && syn.sack_permitted;
    m_options.timestamps = m_config.timestamps && syn.timestamps.has_value();
    if (m_options.timestamps)
        m_ts_recent = syn.timestamps->value;
    u32 mss = std::min<u32>(m_options.peer_mss, m_local_mss);
    if (m_options.timestamps && mss > timestamps_option_len + 64)
        mss -= timestamps_option_len;
    m_mss = std::max<u32>(mss, 64);
    m_cc.init(m_mss);
    if (!m_options.window_scale)
        m_rx.set_capacity(std::min<u32>(m_config.receive_buffer, 65535));
}

void Connection::accept_syn(const wire::TcpRepr& syn, u32 iss, u32 ts_offset, Instant now)
{
    m_iss = SeqNumber(iss);
    m_snd_una = m_iss;
    m_snd_max = m_iss + 1;
    m_small_end = m_snd_una;
    m_irs = SeqNumber(syn.sequence);
    m_rcv_nxt = m_irs + 1;
    m_rcv_adv = m_rcv_nxt;
    m_last_ack_sent = m_rcv_nxt;
    m_ts_offset = ts_offset;
    take_syn_options(syn);
    m_snd_wnd = syn.window; // never scaled in a SYN (RFC 7323 2.2)
    m_max_snd_wnd = m_snd_wnd;
    m_snd_wl1 = m_irs;
    m_snd_wl2 = m_iss;
    m_last_received = now;
    set_state(State::syn_received, now);
    send_syn(now);
}

void Connection::accept_cookie(const wire::TcpRepr& ack, std::span<const std::byte> payload, u32 iss, u32 irs, Negotiated options, u32 ts_offset, Instant now)
{
    m_iss = SeqNumber(iss);
    m_snd_una = m_iss + 1;
    m_snd_max = m_iss + 1;
    m_small_end = m_snd_una;
    m_irs = SeqNumber(irs);
    m_rcv_nxt = m_irs + 1;
    m_last_ack_sent = m_rcv_nxt;
    m_ts_offset = ts_offset;
    m_options = options;
    if (!m_options.window_scale)
        m_rx.set_capacity(std::min<u32>(m_config.receive_buffer, 65535));
    if (m_options.timestamps && ack.timestamps)
        m_ts_recent = ack.timestamps->value;
    u32 mss = std::min<u32>(m_options.peer_mss, m_local_mss);
    if (m_options.timestamps && mss > timestamps_option_len + 64)
        mss -= timestamps_option_len;
    m_mss = std::max<u32>(mss, 64);
    m_cc.init(m_mss);
    // What our SYN-ACK advertised: the unscaled window, at most 64 KiB.
    m_rcv_adv = m_rcv_nxt + std::min<u32>(m_rx.capacity(), 65535);
    m_snd_wnd = u32(ack.window) << m_options.send_shift;
    m_max_snd_wnd = m_snd_wnd;
    m_snd_wl1 = SeqNumber(ack.sequence);
    m_snd_wl2 = SeqNumber(ack.acknowledgment);
    m_last_received = now;
    set_state(State::established, now);
    if (!payload.empty() || ack.flags.has(TcpFlags::fin))
        on_segment(ack, payload, now);
}

bool Connection::may_reuse_for(const wire::TcpRepr& syn) const
{
    if (m_state != State::time_wait)
        return false;
    if (m_options.timestamps && syn.timestamps)
        return i32(syn.timestamps->value - m_ts_recent) > 0;
    return SeqNumber(syn.sequence) > m_rcv_nxt;
}

// ---- state -----------------------------------------------------------------------------------

void Connection::set_state(State s, Instant now)
{
    if (s == m_state)
        return;
    State from = m_state;
    m_state = s;
    if (s == State::established && m_write_closed) {
        // shutdown_write came before the handshake finished: the FIN goes now.
        m_state = State::fin_wait_1;
    }
    if (s == State::established && m_config.keepalive_idle > Duration::zero())
        m_keepalive_deadline = now + m_config.keepalive_idle;
    if (s == State::time_wait || s == State::closed) {
        m_rto_deadline = never;
        m_persist = false;
        m_delack_deadline = never;
        m_keepalive_deadline = never;
        m_close_deadline = s == State::time_wait ? now + 2 * m_config.msl : never;
    }
    if (s == State::time_wait) {
        // Everything sent was acknowledged; what was received may still be read.
        m_tx.release();
        m_rx.release();
    }
    if (s == State::closed) {
        m_tx.consume(m_tx.size());
        m_tx.release();
    }
    m_port.state_changed(*this, from);
    m_state_event.notify_all();
    m_readable.notify_all();
    m_writable.notify_all();
    deadline_changed();
}

void Connection::fail(SocketError error, Instant now)
{
    m_error = error;
    set_state(State::closed, now);
}

// ---- segment arrival (RFC 9293 3.10.7) -------------------------------------------------------

void Connection::process_syn_sent(const wire::TcpRepr& h, std::span<const std::byte>, Instant now)
{
    bool has_ack = h.flags.has(TcpFlags::ack);
    SeqNumber ack(h.acknowledgment);
    if (has_ack && (ack <= m_iss || ack > m_snd_max)) {
        if (!h.flags.has(TcpFlags::rst))
            send_rst(ack, now);
        return;
    }
    if (h.flags.has(TcpFlags::rst)) {
        if (has_ack)
            fail(SocketError::connection_refused, now);
        return;
    }
    if (!h.flags.has(TcpFlags::syn))
        return;
    m_irs = SeqNumber(h.sequence);
    m_rcv_nxt = m_irs + 1;
    m_rcv_adv = m_rcv_nxt;
    m_last_ack_sent = m_rcv_nxt;
    take_syn_options(h);
    m_snd_wl1 = m_irs;
    m_last_received = now;
    if (has_ack) {
        take_rtt_sample(h, ack, now);
        m_snd_una = ack;
        m_snd_wnd = h.window; // unscaled in a SYN
        m_max_snd_wnd = m_snd_wnd;
        m_snd_wl2 = ack;
        m_rto_deadline = never;
        m_retransmissions = 0;
        m_rtt.reset_backoff();
        set_state(State::established, now);
        m_ack_now = true;
        output(now);
        return;
    }
    // Simultaneous open: both sent SYNs; ours is answered with a SYN-ACK.
    m_snd_wnd = h.window;
    m_max_snd_wnd = m_snd_wnd;
    set_state(State::syn_received, now);
    send_syn(now);
}

bool Connection::acceptable(const wire::TcpRepr& h, usize length) const
{
    SeqNumber seq(h.sequence);
    u32 window = m_rcv_adv > m_rcv_nxt ? u32(m_rcv_adv - m_rcv_nxt) : 0;
    if (window == 0)
        return seq == m_rcv_nxt; // an ACK, RST or probe at the edge: its text is trimmed away
    if (length == 0)
        return seq.in_window(m_rcv_nxt, m_rcv_nxt + window);
    return seq.in_window(m_rcv_nxt, m_rcv_nxt + window) || (seq + u32(length - 1)).in_window(m_rcv_nxt, m_rcv_nxt + window);
}

void Connection::on_segment(const wire::TcpRepr& h, std::span<const std::byte> payload, Instant now)
{
    ++m_counters.segments_received;
    switch (m_state) {
    case State::closed:
    case State::listen:
        return;
    case State::syn_sent:
        process_syn_sent(h, payload, now);
        return;
    default:
        break;
    }
    bool rst = h.flags.has(TcpFlags::rst);
    bool syn = h.flags.has(TcpFlags::syn);
    bool fin = h.flags.has(TcpFlags::fin);
    SeqNumber seq(h.sequence);

    // Our SYN-ACK was lost: the peer sends its SYN again.
    if (m_state == State::syn_received && syn && !h.flags.has(TcpFlags::ack) && !rst && seq == m_irs) {
        send_syn(now);
        return;
    }

    usize length = payload.size() + (syn ? 1 : 0) + (fin ? 1 : 0);
    // PAWS (RFC 7323 5.3): a timestamp older than the last one in sequence is a segment from
    // an earlier wrap of the sequence space, or a forgery.
    if (m_options.timestamps && h.timestamps && !rst && i32(h.timestamps->value - m_ts_recent) < 0) {
        ++m_counters.dropped_segments;
        send_ack(now);
        return;
    }
    if (!acceptable(h, length)) {
        ++m_counters.dropped_segments;
        if (!rst) {
            if (m_state == State::time_wait && fin)
                m_close_deadline = now + 2 * m_config.msl;
            send_ack(now);
        }
        return;
    }
    m_last_received = now;
    if (m_config.keepalive_idle > Duration::zero() && m_state != State::time_wait) {
        m_keepalive_deadline = now + m_config.keepalive_idle;
        m_keepalive_sent = 0;
    }
    if (m_options.timestamps && h.timestamps && seq <= m_last_ack_sent)
        m_ts_recent = h.timestamps->value;

    // RST (RFC 5961 3.2): only one exactly at rcv_nxt resets; others in the window are
    // answered with a challenge ACK, which a real peer answers with an exact RST.
    if (rst) {
        if (seq != m_rcv_nxt) {
            send_challenge_ack(now);
            return;
        }
        switch (m_state) {
        case State::syn_received:
            if (listener)
                set_state(State::closed, now); // back to the listener's care: nothing to report
            else
                fail(SocketError::connection_refused, now);
            break;
        case State::closing:
        case State::last_ack:
        case State::time_wait:
            set_state(State::closed, now);
            break;
        default:
            fail(SocketError::connection_reset, now);
            break;
        }
        return;
    }
    // A SYN in a synchronized state (RFC 5961 4.2): challenge ACK, whatever its number.
    if (syn) {
        send_challenge_ack(now);
        return;
    }
    if (!h.flags.has(TcpFlags::ack))
        return;
    if (!process_ack(h, payload.size(), now))
        return;

    // Text and FIN: trim to the window first.
    if (seq < m_rcv_nxt) {
        u32 skip = u32(m_rcv_nxt - seq);
        // All text before rcv_nxt is old; a FIN is new only if it sits exactly at rcv_nxt.
        fin = fin && skip == payload.size();
        payload = skip >= payload.size() ? std::span<const std::byte> {} : payload.subspan(skip);
        seq = m_rcv_nxt;
    }
    SeqNumber edge = max(m_rcv_adv, m_rcv_nxt);
    if (seq + u32(payload.size()) > edge) {
        u32 room = seq < edge ? u32(edge - seq) : 0;
        payload = payload.first(std::min<usize>(room, payload.size()));
        fin = false;
        m_ack_now = true; // text beyond the window: tell the peer where it ends
    }

    switch (m_state) {
    case State::established:
    case State::fin_wait_1:
    case State::fin_wait_2:
        if (m_user_closed && !payload.empty()) {
            // Nobody will read this (RFC 9293 3.10.7.4 leaves it open; RFC 2525 2.17 and
            // Linux say reset, so the peer learns its data was not consumed).
            abort(now);
            return;
        }
        if (!payload.empty() || fin)
            receive_data(seq, payload, fin, now);
        break;
    case State::time_wait:
        if (fin) {
            m_close_deadline = now + 2 * m_config.msl;
            m_ack_now = true;
        }
        break;
    default:
        // CLOSE-WAIT, CLOSING, LAST-ACK: the peer's FIN came already; text is ignored, a
        // retransmitted FIN is acknowledged.
        if (fin)
            m_ack_now = true;
        break;
    }
    if (m_state == State::time_wait) {
        if (m_ack_now)
            send_ack(now);
        return;
    }
    output(now);
}

bool Connection::process_ack(const wire::TcpRepr& h, usize payload_len, Instant now)
{
    SeqNumber ack(h.acknowledgment);
    SeqNumber seq(h.sequence);
    if (m_state == State::syn_received) {
        if (!(m_snd_una < ack && ack <= m_snd_max)) {
            send_rst(ack, now);
            return false;
        }
        m_snd_wnd = u32(h.window) << m_options.send_shift;
        m_max_snd_wnd = std::max(m_max_snd_wnd, m_snd_wnd);
        m_snd_wl1 = seq;
        m_snd_wl2 = ack;
        set_state(State::established, now);
    }
    // RFC 5961 5.2: an ACK for data never sent, or older than anything the peer could still be
    // acknowledging, is answered and the segment dropped.
    if (ack > m_snd_max) {
        send_challenge_ack(now);
        return false;
    }
    if (ack < m_snd_una && u32(m_snd_una - ack) > std::max(m_max_snd_wnd, u32(65535))) {
        send_challenge_ack(now);
        return false;
    }

    u32 sacked_before = m_sacked.total();
    if (m_options.sack && h.sack_count)
        process_sack(h);
    bool new_sack = m_sacked.total() > sacked_before;
    u32 window = u32(h.window) << m_options.send_shift;

    if (ack > m_snd_una) {
        take_rtt_sample(h, ack, now);
        u32 acked = u32(ack - m_snd_una);
        u32 data_acked = acked;
        if (m_snd_una == m_iss)
            --data_acked; // our SYN
        if (m_fin_sent && ack == m_snd_max)
            --data_acked; // our FIN
        m_tx.consume(std::min(data_acked, m_tx.size()));
        m_snd_una = ack;
        m_sacked.remove_below(ack);
        if (m_high_rxt < ack)
            m_high_rxt = ack;
        m_retransmissions = 0;
        on_new_ack(acked, now);
        if (m_snd_una == m_snd_max) {
            if (!m_persist)
                m_rto_deadline = never;
        } else {
            arm_rto(now);
        }
        m_writable.notify_all();
    } else if (ack == m_snd_una && flight() > 0 && payload_len == 0 && !h.flags.has(TcpFlags::fin)
        && (window == m_snd_wnd || new_sack)) {
        on_duplicate_ack(now);
    } else if (m_recovery == Recovery::fast && new_sack) {
        update_loss_boundary();
    }

    if (m_snd_wl1 < seq || (m_snd_wl1 == seq && m_snd_wl2 <= ack)) {
        bool opened = window > 0 && m_snd_wnd == 0;
        m_snd_wnd = window;
        m_max_snd_wnd = std::max(m_max_snd_wnd, window);
        m_snd_wl1 = seq;
        m_snd_wl2 = ack;
        if (opened && m_persist) {
            m_persist = false;
            m_rto_deadline = never;
            m_rtt.reset_backoff();
        }
    }

    bool fin_acked = m_fin_sent && m_snd_una == m_snd_max;
    switch (m_state) {
    case State::fin_wait_1:
        if (fin_acked) {
            set_state(State::fin_wait_2, now);
            if (m_user_closed) {
                m_close_deadline = now + m_config.fin_wait_2_timeout;
                deadline_changed();
            }
        }
        break;
    case State::closing:
        if (fin_acked)
            set_state(State::time_wait, now);
        break;
    case State::last_ack:
        if (fin_acked) {
            set_state(State::closed, now);
            return false;
        }
        break;
    default:
        break;
    }
    return true;
}

void Connection::process_sack(const wire::TcpRepr& h)
{
    for (auto& block : h.sack()) {
        SeqNumber left(block.left), right(block.right);
        // RFC 2018: blocks below snd_una are a D-SACK or stale; beyond snd_max, bogus.
        if (!(left < right) || right <= m_snd_una || right > m_snd_max)
            continue;
        left = max(left, m_snd_una);
        if (!m_sacked.add(left, right)) {
            // The scoreboard is full: keep the highest blocks, which decide losses.
            m_sacked.remove_below(m_sacked.front().right);
            (void)m_sacked.add(left, right);
        }
    }
}

void Connection::take_rtt_sample(const wire::TcpRepr& h, SeqNumber acked_to, Instant now)
{
    if (m_options.timestamps && h.timestamps && h.timestamps->echo_reply != 0) {
        u32 ms = timestamp(now) - h.timestamps->echo_reply;
        if (ms < (1u << 30))
            m_rtt.sample(std::chrono::milliseconds(ms));
        return;
    }
    if (m_timed_seq && acked_to >= *m_timed_seq) {
        m_rtt.sample(now - m_timed_at);
        m_timed_seq.reset();
    }
}

void Connection::on_new_ack(u32 acked, Instant now)
{
    m_dupacks = 0;
    switch (m_recovery) {
    case Recovery::none:
        m_cc.on_ack(acked, m_mss, now, m_rtt.srtt());
        break;
    case Recovery::fast:
        if (m_snd_una >= m_recovery_point) {
            m_cc.set_cwnd(std::max(m_cc.ssthresh(), 2 * m_mss));
            m_recovery = Recovery::none;
        } else {
            // A partial ACK (RFC 6582 3.2 step 5): the next hole is lost too.
            update_loss_boundary();
        }
        break;
    case Recovery::timeout:
        // Slow start again from one segment, retransmitting what was lost.
        m_cc.on_ack(acked, m_mss, now, m_rtt.srtt());
        if (m_snd_una >= m_recovery_point)
            m_recovery = Recovery::none;
        else
            update_loss_boundary();
        break;
    }
    // With SACK, a loss can show even while the cumulative ACK moves.
    if (m_recovery == Recovery::none && m_options.sack && !m_sacked.empty()) {
        update_loss_boundary();
    }
}

void Connection::on_duplicate_ack(Instant now)
{
    ++m_dupacks;
    if (m_recovery != Recovery::none) {
        if (m_options.sack)
            update_loss_boundary();
        return;
    }
    // RFC 6582 3.2 step 2: not again for losses from before the last recovery's end.
    if (m_recovered_once && m_snd_una < m_recovery_point)
        return;
    bool lost = m_dupacks >= dup_threshold;
    if (!lost && m_options.sack) {
        // IsLost(snd_una): enough SACKed above it (RFC 6675 4).
        u32 count = 0, bytes = 0;
        auto ranges = m_sacked.ranges();
        for (usize i = ranges.size(); i-- > 0;) {
            ++count;
            bytes += ranges[i].size();
        }
        lost = count >= dup_threshold || bytes > (dup_threshold - 1) * m_mss;
    }
    if (lost)
        enter_recovery(now);
}

void Connection::enter_recovery(Instant now)
{
    ++m_counters.fast_recoveries;
    m_cc.on_congestion(flight(), m_mss, now);
    m_cc.set_cwnd(m_cc.ssthresh());
    start_recovery(Recovery::fast);
}

void Connection::start_recovery(Recovery kind)
{
    m_recovery = kind;
    m_recovery_point = m_snd_max;
    m_recovered_once = true;
    m_high_rxt = m_snd_una;
    m_timed_seq.reset(); // Karn: no samples from what will be sent again
    update_loss_boundary();
}

void Connection::update_loss_boundary()
{
    if (m_recovery == Recovery::none)
        return;
    SeqNumber boundary = m_snd_una + m_mss; // the first unacknowledged segment, at least
    if (m_options.sack) {
        u32 count = 0, bytes = 0;
        auto ranges = m_sacked.ranges();
        for (usize i = ranges.size(); i-- > 0;) {
            ++count;
            bytes += ranges[i].size();
            if (count >= dup_threshold || bytes > (dup_threshold - 1) * m_mss) {
                boundary = max(boundary, ranges[i].left);
                break;
            }
        }
    }
    if (m_recovery == Recovery::timeout)
        boundary = max(boundary, m_recovery_point);
    m_loss_boundary = min(boundary, m_snd_max);
}

void Connection::receive_data(SeqNumber seq, std::span<const std::byte> payload, bool fin, Instant now)
{
    u32 len = u32(payload.size());
    if (seq == m_rcv_nxt) {
        u32 taken = len ? m_rx.push(payload) : 0;
        m_rcv_nxt += taken;
        bool filled_gap = false;
        if (!m_ooo.empty() && m_ooo.front().left <= m_rcv_nxt) {
            SeqRange front = m_ooo.front();
            if (front.right > m_rcv_nxt) {
                m_rx.commit(u32(front.right - m_rcv_nxt));
                m_rcv_nxt = front.right;
            }
            m_ooo.remove_below(m_rcv_nxt);
            filled_gap = true;
        }
        if (taken < len)
            ++m_counters.dropped_segments; // out of memory for the buffer
        if (taken)
            m_readable.notify_all();
        if (filled_gap || !m_ooo.empty()) {
            m_ack_now = true; // RFC 5681 4.2: at once when filling or beyond a gap
        } else if (taken) {
            // RFC 5681 4.2: at least every second full-sized segment; a segment the host's
            // NIC merged (64 KiB from a tap) counts for all the segments it holds.
            m_bytes_unacked += taken;
            if (++m_segments_unacked >= 2 || m_bytes_unacked >= 2u * m_local_mss) {
                m_ack_now = true;
            } else if (m_delack_deadline == never) {
                m_delack_deadline = now + m_config.delayed_ack;
                deadline_changed();
            }
        }
    } else if (len) {
        ++m_counters.out_of_order;
        u32 offset = u32(seq - m_rcv_nxt);
        if (m_rx.write_beyond(offset, payload) && m_ooo.add(seq, seq + len)) {
            if (const SeqRange* r = m_ooo.find(seq))
                m_last_ooo = *r;
        } else {
            ++m_counters.dropped_segments;
        }
        m_ack_now = true; // a duplicate ACK, with SACK blocks, tells the sender at once
    }
    if (fin && seq + len >= m_rcv_nxt)
        m_fin_seq = seq + len;
    if (m_fin_seq && *m_fin_seq == m_rcv_nxt && !m_fin_received)
        deliver_fin(now);
}

void Connection::deliver_fin(Instant now)
{
    m_rcv_nxt += 1;
    m_fin_received = true;
    m_ack_now = true;
    m_readable.notify_all();
    switch (m_state) {
    case State::syn_received:
    case State::established:
        set_state(State::close_wait, now);
        break;
    case State::fin_wait_1:
        set_state(m_fin_sent && m_snd_una == m_snd_max ? State::time_wait : State::closing, now);
        break;
    case State::fin_wait_2:
        set_state(State::time_wait, now);
        break;
    default:
        break;
    }
}

// ---- the application's side ------------------------------------------------------------------

ErrorOr<usize, SocketError> Connection::write(std::span<const std::byte> data, Instant now)
{
    if (m_error)
        return failure(*m_error);
    if (m_write_closed || m_state == State::closed)
        return failure(SocketError::closed);
    if (data.empty())
        return usize(0);
    u32 n = m_tx.push(data);
    if (n == 0 && m_tx.free() > 0)
        return failure(SocketError::no_buffers);
    if (n)
        output(now);
    return usize(n);
}

ErrorOr<usize, SocketError> Connection::read(std::span<std::byte> out, Instant now)
{
    if (!m_rx.empty()) {
        u32 n = m_rx.pop(out);
        maybe_window_update(now);
        return usize(n);
    }
    if (m_fin_received)
        return usize(0);
    if (m_error)
        return failure(*m_error);
    if (m_state == State::closed)
        return failure(SocketError::closed);
    return usize(0);
}

void Connection::maybe_window_update(Instant now)
{
    if (m_state != State::established && m_state != State::fin_wait_1 && m_state != State::fin_wait_2)
        return;
    SeqNumber potential = m_rcv_nxt + (m_rx.capacity() - m_rx.size());
    u32 threshold = std::min<u32>(m_rx.capacity() / 2, m_local_mss);
    if (potential > m_rcv_adv && u32(potential - m_rcv_adv) >= threshold
        && u32(m_rcv_adv - m_rcv_nxt) < m_rx.capacity() / 2) {
        send_ack(now);
    }
}

ErrorOr<void, SocketError> Connection::shutdown_write(Instant now)
{
    if (m_error)
        return failure(*m_error);
    if (m_write_closed)
        return {};
    m_write_closed = true;
    switch (m_state) {
    case State::established:
        set_state(State::fin_wait_1, now);
        break;
    case State::close_wait:
        set_state(State::last_ack, now);
        break;
    case State::syn_sent:
    case State::syn_received:
        break; // set_state sends it once established
    default:
        return {};
    }
    output(now);
    return {};
}

void Connection::close(Instant now)
{
    m_user_closed = true;
    switch (m_state) {
    case State::closed:
    case State::time_wait:
        return;
    case State::syn_sent:
        set_state(State::closed, now);
        return;
    default:
        break;
    }
    if (!m_rx.empty()) {
        abort(now); // unread data: the peer must not think it was consumed
        return;
    }
    (void)shutdown_write(now);
    if (m_state == State::fin_wait_2) {
        m_close_deadline = now + m_config.fin_wait_2_timeout;
        deadline_changed();
    }
}

void Connection::abort(Instant now)
{
    if (m_state == State::closed)
        return;
    if (m_state != State::syn_sent && m_state != State::time_wait && m_state != State::listen)
        send_rst(m_snd_max, now);
    m_rx.consume(m_rx.size());
    fail(SocketError::connection_aborted, now);
}

void Connection::set_no_delay(bool on, Instant now)
{
    m_no_delay = on;
    if (on)
        output(now);
}

void Connection::on_path_mtu(u16 mtu, Instant now)
{
    u32 mss = u32(mtu) - 40 - (m_options.timestamps ? timestamps_option_len : 0);
    if (mss >= m_mss || m_state < State::established)
        return;
    m_mss = mss;
    // Everything in flight was sent with the old size and is lost: retransmit it all, as
    // after a timeout, but with the window as it was (Linux's tcp_simple_retransmit).
    start_recovery(Recovery::timeout);
    output(now);
}

// ---- sending ---------------------------------------------------------------------------------

u32 Connection::timestamp(Instant now) const
{
    return u32(u64(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count())) + m_ts_offset;
}

u32 Connection::receive_window() const
{
    u32 free = m_rx.capacity() - m_rx.size();
    SeqNumber potential = m_rcv_nxt + free;
    u32 threshold = std::min<u32>(m_rx.capacity() / 2, m_local_mss);
    // Receiver SWS avoidance (RFC 9293 3.8.6.2.2): move the right edge only by a useful step;
    // never move it back.
    if (potential > m_rcv_adv && u32(potential - m_rcv_adv) >= threshold)
        return free;
    return m_rcv_adv > m_rcv_nxt ? u32(m_rcv_adv - m_rcv_nxt) : 0;
}

u16 Connection::window_field()
{
    u32 field = std::min<u32>(receive_window() >> m_options.receive_shift, 65535);
    SeqNumber edge = m_rcv_nxt + (field << m_options.receive_shift);
    if (edge > m_rcv_adv)
        m_rcv_adv = edge;
    return u16(field);
}

void Connection::fill_header(wire::TcpRepr& h, Instant now, bool with_sack, u32 data_len)
{
    h.source_port = m_local.port;
    h.destination_port = m_remote.port;
    h.acknowledgment = m_rcv_nxt.value();
    h.flags.bits |= TcpFlags::ack;
    h.window = window_field();
    if (m_options.timestamps)
        h.timestamps = wire::TcpTimestamps { timestamp(now), m_ts_recent };
    if (with_sack && m_options.sack && !m_ooo.empty()) {
        // Options and data together stay within the MSS (RFC 6691): blocks that do not fit
        // beside the data are left to the next pure ACK.
        u32 room = m_mss > data_len ? m_mss - data_len : 0;
        usize limit = std::min<usize>(m_options.timestamps ? 3 : 4, room >= 12 ? (room - 4) / 8 : 0);
        // The block with the latest segment first (RFC 2018 4), then the rest in order.
        const SeqRange* first = m_ooo.find(m_last_ooo.left);
        if (first && limit > 0)
            h.sack_blocks[h.sack_count++] = { first->left.value(), first->right.value() };
        for (auto& r : m_ooo.ranges()) {
            if (h.sack_count >= limit)
                break;
            if (&r != first)
                h.sack_blocks[h.sack_count++] = { r.left.value(), r.right.value() };
        }
    }
}

void Connection::ack_sent()
{
    m_ack_now = false;
    m_segments_unacked = 0;
    m_bytes_unacked = 0;
    m_last_ack_sent = m_rcv_nxt;
    if (m_delack_deadline != never)
        m_delack_deadline = never;
}

void Connection::send_range(SeqNumber seq, u32 data_len, bool fin, bool retransmission, Instant now)
{
    wire::TcpRepr h;
    h.sequence = seq.value();
    if (fin)
        h.flags.bits |= TcpFlags::fin;
    u32 offset = u32(seq - m_snd_una);
    if (data_len && offset + data_len == m_tx.size())
        h.flags.bits |= TcpFlags::psh;
    fill_header(h, now, true, std::min(data_len, m_mss));
    auto [a, b] = m_tx.pieces(offset, data_len);
    m_port.transmit(*this, h, a, b, now);
    m_counters.segments_sent += data_len > m_mss ? (data_len + m_mss - 1) / m_mss : 1;
    if (retransmission) {
        m_counters.bytes_retransmitted += data_len;
        if (m_timed_seq && seq < *m_timed_seq)
            m_timed_seq.reset(); // Karn: an ambiguous sample
    } else {
        m_counters.bytes_sent += data_len;
        if (!m_options.timestamps && !m_timed_seq && data_len) {
            m_timed_seq = seq + data_len;
            m_timed_at = now;
        }
    }
    ack_sent();
    if (m_rto_deadline == never || m_persist)
        arm_rto(now);
}

void Connection::send_syn(Instant now)
{
    wire::TcpRepr h;
    h.source_port = m_local.port;
    h.destination_port = m_remote.port;
    h.sequence = m_iss.value();
    h.flags.bits = TcpFlags::syn;
    h.mss = m_local_mss;
    bool passive = m_state == State::syn_received;
    if (passive) {
        h.flags.bits |= TcpFlags::ack;
        h.acknowledgment = m_rcv_nxt.value();
    }
    bool scale = passive ? m_options.window_scale : m_config.window_scale;
    if (scale)
        h.window_scale = m_options.receive_shift;
    h.sack_permitted = passive ? m_options.sack : m_config.sack;
    if (passive ? m_options.timestamps : m_config.timestamps)
        h.timestamps = wire::TcpTimestamps { timestamp(now), passive ? m_ts_recent : 0 };
    u32 window = std::min<u32>(m_rx.capacity(), 65535);
    h.window = u16(window);
    if (passive && m_rcv_nxt + window > m_rcv_adv)
        m_rcv_adv = m_rcv_nxt + window;
    m_port.transmit(*this, h, {}, {}, now);
    ++m_counters.segments_sent;
    if (passive)
        ack_sent();
    m_rto_deadline = now + m_rtt.rto();
    m_persist = false;
    deadline_changed();
}

void Connection::send_control(u8 flags, SeqNumber seq, Instant now)
{
    wire::TcpRepr h;
    h.sequence = seq.value();
    h.flags.bits = flags;
    fill_header(h, now, true, 0);
    m_port.transmit(*this, h, {}, {}, now);
    ++m_counters.segments_sent;
    ack_sent();
}

void Connection::send_ack(Instant now)
{
    if (m_state == State::syn_sent || m_state == State::closed)
        return;
    if (!m_port.can_transmit(*this)) {
        m_ack_now = true; // goes when the port resumes the connection
        return;
    }
    send_control(TcpFlags::ack, m_snd_max, now);
}

void Connection::send_challenge_ack(Instant now)
{
    if (!m_port.allow_challenge_ack(now))
        return;
    ++m_counters.challenge_acks;
    send_ack(now);
}

void Connection::send_rst(SeqNumber seq, Instant now)
{
    wire::TcpRepr h;
    h.source_port = m_local.port;
    h.destination_port = m_remote.port;
    h.sequence = seq.value();
    h.flags.bits = TcpFlags::rst;
    m_port.transmit(*this, h, {}, {}, now);
    ++m_counters.segments_sent;
}

u32 Connection::pipe() const
{
    u32 in_flight = flight();
    u32 sacked = m_options.sack ? m_sacked.total() : std::min(m_dupacks * m_mss, in_flight);
    u32 lost_pending = 0;
    if (m_recovery != Recovery::none) {
        SeqNumber from = max(m_high_rxt, m_snd_una);
        if (from < m_loss_boundary)
            lost_pending = u32(m_loss_boundary - from) - m_sacked.covered(from, m_loss_boundary);
    }
    u32 gone = sacked + lost_pending;
    return gone >= in_flight ? 0 : in_flight - gone;
}

bool Connection::next_retransmission(SeqNumber& seq, u32& len) const
{
    if (m_recovery == Recovery::none)
        return false;
    SeqNumber s = max(m_high_rxt, m_snd_una);
    SeqNumber end = m_loss_boundary;
    for (auto& r : m_sacked.ranges()) {
        if (s.in_window(r.left, r.right))
            s = r.right;
        else if (s < r.left) {
            end = min(end, r.left);
            break;
        }
    }
    if (!(s < end))
        return false;
    seq = s;
    len = std::min<u32>(u32(end - s), m_mss);
    // A retransmission that ends just before our FIN takes the FIN along.
    if (m_fin_sent && seq + len + 1 == m_snd_max && end == m_snd_max)
        ++len;
    return true;
}

void Connection::output(Instant now)
{
    switch (m_state) {
    case State::closed:
    case State::listen:
    case State::syn_sent:
        return;
    case State::syn_received:
    case State::time_wait:
        if (m_ack_now)
            send_ack(now);
        return;
    default:
        break;
    }
    // News of a gap goes at once, in a pure ACK that has room for every SACK block: a
    // segment with data is no duplicate ACK to the peer.
    if (m_ack_now && !m_ooo.empty())
        send_ack(now);
    bool sent = false;
    u32 in_pipe = pipe();
    bool fin_ready = m_write_closed && (m_state == State::fin_wait_1 || m_state == State::last_ack || m_state == State::closing);
    for (;;) {
        u32 cwnd = m_cc.cwnd();
        if (in_pipe >= cwnd || !m_port.can_transmit(*this))
            break;
        SeqNumber seq;
        u32 len = 0;
        if (next_retransmission(seq, len)) {
            bool fin = m_fin_sent && seq + len == m_snd_max;
            u32 data_len = fin ? len - 1 : len;
            u32 offset = u32(seq - m_snd_una);
            data_len = std::min(data_len, m_tx.size() > offset ? m_tx.size() - offset : 0);
            send_range(seq, data_len, fin, true, now);
            m_high_rxt = seq + len;
            in_pipe += len;
            sent = true;
            continue;
        }
        if (m_fin_sent)
            break;
        u32 offset = u32(m_snd_max - m_snd_una);
        u32 unsent = m_tx.size() - offset;
        if (unsent == 0 && !fin_ready)
            break;
        SeqNumber edge = m_snd_una + m_snd_wnd;
        u32 window_room = edge > m_snd_max ? u32(edge - m_snd_max) : 0;
        // New data goes in bursts of whole segments when the NIC cuts them (TSO); the rules
        // below (sender SWS avoidance, Nagle) still look at single segments.
        u32 burst = unsent > m_mss ? std::max(m_port.max_transmit(m_mss), m_mss) : m_mss;
        len = std::min({ unsent, burst, window_room, cwnd - in_pipe });
        if (len > m_mss && len < unsent)
            len -= len % m_mss; // the rest waits, as a segment of its own would
        if (len < unsent && len < m_mss) {
            // Sender SWS avoidance (RFC 9293 3.8.6.2.1): no runts because of a small window,
            // unless nothing is in flight and the room is half the largest window offered.
            if (len == 0 || flight() > 0 || len < m_max_snd_wnd / 2)
                break;
        } else if (len == unsent && len < m_mss && !fin_ready && !m_no_delay && small_segment_in_flight()) {
            break; // Nagle, as Minshall refined it: one small segment in flight at a time
        }
        bool fin = fin_ready && len == unsent;
        send_range(m_snd_max, len, fin, false, now);
        if (len % m_mss != 0)
            m_small_end = m_snd_max + len; // the last segment of what went was short
        m_snd_max += len + (fin ? 1 : 0);
        if (fin)
            m_fin_sent = true;
        in_pipe += len + (fin ? 1 : 0);
        sent = true;
    }
    if (!sent && m_ack_now)
        send_ack(now); // which waits for room itself
    // Data waits behind a closed window and nothing is in flight to bring an update: probe.
    u32 unsent = m_tx.size() - std::min(m_tx.size(), u32(m_snd_max - m_snd_una));
    if (flight() == 0 && unsent > 0 && m_rto_deadline == never)
        arm_persist(now);
}

void Connection::resume_output(Instant now) { output(now); }

// ---- timers ----------------------------------------------------------------------------------

Instant Connection::next_deadline() const
{
    return std::min({ m_rto_deadline, m_delack_deadline, m_keepalive_deadline, m_close_deadline });
}

void Connection::deadline_changed() { m_port.deadline_changed(*this); }

void Connection::arm_rto(Instant now)
{
    m_persist = false;
    m_rto_deadline = now + m_rtt.rto();
    deadline_changed();
}

void Connection::arm_persist(Instant now)
{
    m_persist = true;
    m_rto_deadline = now + std::max<Duration>(m_rtt.rto(), 200ms);
    deadline_changed();
}

void Connection::on_timer(Instant now)
{
    if (m_close_deadline <= now) {
        m_close_deadline = never;
        if (m_state == State::time_wait || m_state == State::fin_wait_2)
            set_state(State::closed, now);
        return;
    }
    if (m_delack_deadline <= now) {
        m_delack_deadline = never;
        send_ack(now);
    }
    if (m_rto_deadline <= now) {
        m_rto_deadline = never;
        if (m_persist) {
            // A zero-window probe: an old byte's number, which the peer must acknowledge with
            // its current window. Backs off, but never gives up while the peer answers.
            m_persist = false;
            send_control(TcpFlags::ack, m_snd_una - 1, now);
            m_rtt.back_off();
            u32 unsent = m_tx.size() - std::min(m_tx.size(), u32(m_snd_max - m_snd_una));
            if (unsent && flight() == 0)
                arm_persist(now);
        } else {
            on_rto(now);
        }
        if (m_state == State::closed)
            return;
    }
    if (m_keepalive_deadline <= now) {
        m_keepalive_deadline = never;
        if (m_state == State::established || m_state == State::close_wait) {
            if (flight() > 0) {
                m_keepalive_deadline = now + m_config.keepalive_idle; // the RTO watches this
            } else if (m_keepalive_sent >= m_config.keepalive_probes) {
                fail(SocketError::timed_out, now);
                return;
            } else {
                ++m_keepalive_sent;
                send_control(TcpFlags::ack, m_snd_una - 1, now);
                m_keepalive_deadline = now + m_config.keepalive_interval;
            }
        }
    }
    deadline_changed();
}

void Connection::on_rto(Instant now)
{
    if (m_state == State::syn_sent || m_state == State::syn_received) {
        if (++m_retransmissions > m_config.max_syn_retransmissions) {
            fail(SocketError::timed_out, now);
            return;
        }
        m_rtt.back_off();
        send_syn(now);
        return;
    }
    if (flight() == 0)
        return;
    if (++m_retransmissions > m_config.max_retransmissions) {
        fail(SocketError::timed_out, now);
        return;
    }
    ++m_counters.timeouts;
    m_cc.on_timeout(flight(), m_mss, now);
    m_dupacks = 0;
    start_recovery(Recovery::timeout);
    m_rtt.back_off();
    output(now);
    if (m_rto_deadline == never)
        arm_rto(now);
}

} // namespace sarab::net::tcp
