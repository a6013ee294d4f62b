// The retransmission timeout (RFC 6298) from round-trip samples.
//
// The first sample sets SRTT = R and RTTVAR = R/2; later ones move them by 1/8 and 1/4.
// RTO = SRTT + max(G, 4 * RTTVAR), kept within [min_rto, max_rto]. Before any sample the RTO
// is 1 s (2.1). Each expiry doubles it (5.5, "back off the timer"); a new sample ends the
// back-off. Sarab's min_rto defaults to 200 ms, as Linux's, rather than the RFC's 1 s (2.4 is
// a SHOULD): on a LAN a one-second floor turns every tail loss into a second of silence.
#pragma once

#include <sarab/base/time.hpp>

#include <algorithm>

namespace sarab::net::tcp {

struct RtoLimits {
    Duration min_rto = std::chrono::milliseconds(200);
    Duration max_rto = std::chrono::seconds(60);
    Duration initial_rto = std::chrono::seconds(1);
    Duration granularity = std::chrono::milliseconds(1);
};

class RttEstimator {
public:
    using Limits = RtoLimits;

    explicit RttEstimator(Limits limits = {})
        : m_limits(limits)
    {
    }

    void sample(Duration rtt)
    {
        if (rtt < Duration::zero())
            return;
        if (!m_have_sample) {
            m_srtt = rtt;
            m_rttvar = rtt / 2;
            m_have_sample = true;
        } else {
            Duration delta = m_srtt > rtt ? m_srtt - rtt : rtt - m_srtt;
            m_rttvar = (3 * m_rttvar + delta) / 4;
            m_srtt = (7 * m_srtt + rtt) / 8;
        }
        m_backoff = 0;
    }

    // Doubles the RTO after an expiry (bounded by max_rto).
    void back_off()
    {
        if (m_backoff < 16)
            ++m_backoff;
    }
    void reset_backoff() { m_backoff = 0; }
    u32 backoffs() const { return m_backoff; }

    Duration rto() const
    {
        Duration base = m_have_sample ? m_srtt + std::max(m_limits.granularity, 4 * m_rttvar) : m_limits.initial_rto;
        base = std::clamp(base, m_limits.min_rto, m_limits.max_rto);
        for (u32 i = 0; i < m_backoff && base < m_limits.max_rto; ++i)
            base *= 2;
        return std::min(base, m_limits.max_rto);
    }
    bool has_sample() const { return m_have_sample; }
    Duration srtt() const { return m_srtt; }
    Duration rttvar() const { return m_rttvar; }
    const Limits& limits() const { return m_limits; }

private:
    Limits m_limits;
    Duration m_srtt {};
    Duration m_rttvar {};
    bool m_have_sample = false;
    u32 m_backoff = 0;
};

} // namespace sarab::net::tcp
