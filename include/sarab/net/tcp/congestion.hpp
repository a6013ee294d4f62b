// Congestion control, chosen when Sarab is configured (cmake -DSARAB_TCP_CONGESTION=cubic or
// newreno; `Congestion` below is the one the stack uses). Both classes have the same shape,
// and the connection's loss recovery (RFC 6675 with SACK, RFC 6582 without) calls them:
//
//   on_ack(acked, ...)       new data acknowledged outside recovery: grow cwnd
//   on_congestion(flight)    entering fast recovery: set ssthresh; the caller sets cwnd to it
//   on_timeout(flight)       a retransmission timeout: ssthresh, and cwnd = 1 segment
//
// NewReno (RFC 5681): slow start below ssthresh (cwnd += min(acked, 2 * SMSS) per ACK, the
// RFC 3465 limit L = 2), then congestion avoidance: one SMSS per cwnd of bytes acknowledged.
// ssthresh = max(FlightSize / 2, 2 * SMSS).
//
// CUBIC (RFC 9438): after a reduction by beta = 0.7, cwnd follows W(t) = C (t - K)^3 + W_max
// (C = 0.4, segments, seconds) towards and past the W_max where loss last struck, aiming at
// W(t + RTT) each ACK; it stays at least as large as the window Reno would have (the
// "Reno-friendly" W_est, alpha = 3 (1 - beta) / (1 + beta)); fast convergence lowers W_max
// when a loss comes before the last W_max was reached. Slow start is Reno's.
//
// The initial window is 10 segments (RFC 6928), as Linux's.
#pragma once

#include <sarab/base/time.hpp>
#include <sarab/base/types.hpp>

#include <algorithm>
#include <limits>
#include <string_view>

namespace sarab::net::tcp {

inline constexpr u32 initial_window_segments = 10;

class NewReno {
public:
    static constexpr std::string_view name = "newreno";

    void init(u32 mss)
    {
        m_cwnd = initial_window_segments * mss;
        m_ssthresh = std::numeric_limits<u32>::max();
        m_acked_in_ca = 0;
    }
    u32 cwnd() const { return m_cwnd; }
    u32 ssthresh() const { return m_ssthresh; }
    void set_cwnd(u32 cwnd) { m_cwnd = cwnd; }

    void on_ack(u32 acked, u32 mss, Instant, Duration)
    {
        if (m_cwnd < m_ssthresh) {
            m_cwnd += std::min(acked, 2 * mss);
            return;
        }
        m_acked_in_ca += acked;
        if (m_acked_in_ca >= m_cwnd) {
            m_acked_in_ca -= m_cwnd;
            m_cwnd += mss;
        }
    }
    void on_congestion(u32 flight, u32 mss, Instant)
    {
        m_ssthresh = std::max(flight / 2, 2 * mss);
        m_acked_in_ca = 0;
    }
    void on_timeout(u32 flight, u32 mss, Instant now)
    {
        on_congestion(flight, mss, now);
        m_cwnd = mss;
    }

private:
    u32 m_cwnd = 0;
    u32 m_ssthresh = 0;
    u32 m_acked_in_ca = 0;
};

class Cubic {
public:
    static constexpr std::string_view name = "cubic";
    static constexpr double c = 0.4;
    static constexpr double beta = 0.7;
    static constexpr double alpha_friendly = 3.0 * (1.0 - beta) / (1.0 + beta);

    void init(u32 mss)
    {
        m_cwnd = initial_window_segments * mss;
        m_ssthresh = std::numeric_limits<u32>::max();
        m_w_max = 0;
        m_epoch_valid = false;
    }
    u32 cwnd() const { return m_cwnd; }
    u32 ssthresh() const { return m_ssthresh; }
    void set_cwnd(u32 cwnd) { m_cwnd = cwnd; }
    double w_max_segments() const { return m_w_max; }
    double k_seconds() const { return m_k; }

    void on_ack(u32 acked, u32 mss, Instant now, Duration srtt)
    {
        if (m_cwnd < m_ssthresh) {
            m_cwnd += std::min(acked, 2 * mss);
            return;
        }
        double cwnd = double(m_cwnd) / mss;
        if (!m_epoch_valid) {
            m_epoch_valid = true;
            m_epoch_start = now;
            m_w_est = cwnd;
            if (m_w_max < cwnd) {
                // No loss yet above this window: start on the plateau's far side.
                m_w_max = cwnd;
                m_k = 0;
            } else {
                m_k = cube_root((m_w_max - cwnd) / c);
            }
        }
        double t = std::chrono::duration<double>(now - m_epoch_start + srtt).count();
        double target = c * (t - m_k) * (t - m_k) * (t - m_k) + m_w_max;
        target = std::clamp(target, cwnd, 1.5 * cwnd);
        double segments_acked = double(acked) / mss;
        m_w_est += (m_w_est >= m_w_max ? 1.0 : alpha_friendly) * segments_acked / cwnd;
        double next = cwnd + (target - cwnd) * segments_acked / cwnd;
        if (m_w_est > next)
            next = m_w_est;
        double bytes = next * mss;
        m_cwnd = bytes > 4e9 ? 4'000'000'000u : std::max(m_cwnd, u32(bytes));
    }

    void on_congestion(u32 flight, u32 mss, Instant)
    {
        (void)flight;
        double cwnd = double(m_cwnd) / mss;
        m_w_max = (cwnd < m_w_max) ? cwnd * (1.0 + beta) / 2.0 : cwnd; // fast convergence
        m_ssthresh = std::max(u32(double(m_cwnd) * beta), 2 * mss);
        m_epoch_valid = false;
    }
    void on_timeout(u32 flight, u32 mss, Instant now)
    {
        on_congestion(flight, mss, now);
        m_cwnd = mss;
    }

    static double cube_root(double v)
    {
        if (v <= 0)
            return 0;
        double r = v < 1 ? 1 : v / 3;
        for (int i = 0; i < 100; ++i) {
            double next = r - (r * r * r - v) / (3 * r * r);
            if (next == r)
                break;
            r = next;
        }
        return r;
    }

private:
    u32 m_cwnd = 0;
    u32 m_ssthresh = 0;
    double m_w_max = 0;
    double m_k = 0;
    double m_w_est = 0;
    Instant m_epoch_start {};
    bool m_epoch_valid = false;
};

#if defined(SARAB_TCP_NEWRENO)
using Congestion = NewReno;
#else
using Congestion = Cubic;
#endif

} // namespace sarab::net::tcp
