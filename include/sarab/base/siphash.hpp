// SipHash-2-4 (Aumasson and Bernstein, 2012): a fast keyed hash, a pseudorandom function of
// its input for anyone who does not know the 128-bit key. Sarab uses it where an outsider
// must not be able to predict or collide values: TCP initial sequence numbers (RFC 6528)
// and SYN cookies. Not a message authentication code for long-lived secrets.
#pragma once

#include <sarab/base/types.hpp>

#include <bit>
#include <cstring>
#include <span>

namespace sarab {

struct SipKey {
    u64 k0 = 0;
    u64 k1 = 0;
};

class SipHash {
public:
    explicit constexpr SipHash(SipKey key)
        : m_v { key.k0 ^ 0x736f6d6570736575ull, key.k1 ^ 0x646f72616e646f6dull, key.k0 ^ 0x6c7967656e657261ull,
            key.k1 ^ 0x7465646279746573ull }
    {
    }

    // Absorbs bytes; may be called many times.
    void update(std::span<const std::byte> bytes)
    {
        for (std::byte b : bytes) {
            m_tail |= u64(b) << (8 * (m_length & 7));
            ++m_length;
            if ((m_length & 7) == 0) {
                absorb(m_tail);
                m_tail = 0;
            }
        }
    }
    void update_u32(u32 v)
    {
        std::byte b[4];
        std::memcpy(b, &v, 4);
        update(b);
    }

    u64 finish()
    {
        absorb(m_tail | (u64(m_length & 0xff) << 56));
        m_v[2] ^= 0xff;
        for (int i = 0; i < 4; ++i)
            round();
        return m_v[0] ^ m_v[1] ^ m_v[2] ^ m_v[3];
    }

private:
    void round()
    {
        m_v[0] += m_v[1];
        m_v[1] = std::rotl(m_v[1], 13);
        m_v[1] ^= m_v[0];
        m_v[0] = std::rotl(m_v[0], 32);
        m_v[2] += m_v[3];
        m_v[3] = std::rotl(m_v[3], 16);
        m_v[3] ^= m_v[2];
        m_v[0] += m_v[3];
        m_v[3] = std::rotl(m_v[3], 21);
        m_v[3] ^= m_v[0];
        m_v[2] += m_v[1];
        m_v[1] = std::rotl(m_v[1], 17);
        m_v[1] ^= m_v[2];
        m_v[2] = std::rotl(m_v[2], 32);
    }
    void absorb(u64 m)
    {
        m_v[3] ^= m;
        round();
        round();
        m_v[0] ^= m;
    }

    u64 m_v[4];
    u64 m_tail = 0;
    u64 m_length = 0;
};

inline u64 siphash(SipKey key, std::span<const std::byte> bytes)
{
    SipHash h(key);
    h.update(bytes);
    return h.finish();
}

} // namespace sarab
