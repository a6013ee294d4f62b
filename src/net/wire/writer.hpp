// Private to net/wire: writes option lists byte by byte. The same code that writes a list
// also measures it, so that buffer_len() and emit() cannot disagree: a writer made without a
// buffer only counts.
#pragma once

#include <sarab/net/wire/byte_order.hpp>

namespace sarab::net::wire::detail {

class ByteWriter {
public:
    ByteWriter() = default; // measures only
    explicit ByteWriter(std::span<std::byte> out)
        : m_out(out)
        , m_writes(true)
    {
    }

    void put8(u8 value)
    {
        if (m_writes)
            write_u8(m_out, m_at, value);
        ++m_at;
    }
    void put16(u16 value)
    {
        put8(u8(value >> 8));
        put8(u8(value));
    }
    void put32(u32 value)
    {
        put16(u16(value >> 16));
        put16(u16(value));
    }
    void put(std::span<const std::byte> bytes)
    {
        if (m_writes)
            copy_bytes(m_out.subspan(m_at), bytes);
        m_at += bytes.size();
    }
    usize size() const { return m_at; }

private:
    std::span<std::byte> m_out;
    usize m_at = 0;
    bool m_writes = false;
};

} // namespace sarab::net::wire::detail
