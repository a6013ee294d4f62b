// TCP sequence numbers: 32-bit counters that wrap, compared in serial-number arithmetic
// (RFC 9293 3.4, RFC 1982). a < b means "b is ahead of a by less than 2^31"; the order is
// only meaningful between numbers less than 2^31 apart, which TCP's windows guarantee. The
// type keeps them from being mixed up with ordinary integers: the only arithmetic is adding
// or subtracting a length, and the distance between two of them.
#pragma once

#include <sarab/base/types.hpp>

namespace sarab::net::tcp {

class SeqNumber {
public:
    constexpr SeqNumber() = default;
    constexpr explicit SeqNumber(u32 value)
        : m_value(value)
    {
    }
    constexpr u32 value() const { return m_value; }

    constexpr SeqNumber operator+(u32 n) const { return SeqNumber(m_value + n); }
    constexpr SeqNumber operator-(u32 n) const { return SeqNumber(m_value - n); }
    constexpr SeqNumber& operator+=(u32 n)
    {
        m_value += n;
        return *this;
    }
    // How far `this` is ahead of `other` (negative when behind).
    constexpr i32 operator-(SeqNumber other) const { return i32(m_value - other.m_value); }

    constexpr bool operator==(const SeqNumber&) const = default;
    constexpr bool operator<(SeqNumber o) const { return i32(m_value - o.m_value) < 0; }
    constexpr bool operator>(SeqNumber o) const { return o < *this; }
    constexpr bool operator<=(SeqNumber o) const { return !(o < *this); }
    constexpr bool operator>=(SeqNumber o) const { return !(*this < o); }

    // low <= this < high, across a wrap too.
    constexpr bool in_window(SeqNumber low, SeqNumber high) const { return u32(m_value - low.m_value) < u32(high.m_value - low.m_value); }

private:
    u32 m_value = 0;
};

constexpr SeqNumber max(SeqNumber a, SeqNumber b) { return a < b ? b : a; }
constexpr SeqNumber min(SeqNumber a, SeqNumber b) { return a < b ? a : b; }

} // namespace sarab::net::tcp
