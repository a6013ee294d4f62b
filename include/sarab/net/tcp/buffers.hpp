// The byte stores of a TCP connection: a ring of bytes, and a bounded set of sequence-number
// ranges (the out-of-order segments a receiver holds, the blocks a sender has seen SACKed).
//
// RingBuffer holds the bytes of one direction: what the application wrote and the peer has
// not yet acknowledged, or what arrived in order and the application has not read, followed
// (receive side) by room where out-of-order segments are written at their place before the
// gap in front of them fills. Its memory is allocated on first use, so an idle connection
// costs no buffer at all, and starts small (initial_allocation) and doubles as bytes need
// room, up to the capacity: a connection that exchanges a few small messages never holds the
// megabyte its window may promise to a bulk transfer.
//
// RangeSet keeps disjoint, non-adjacent [left, right) ranges in sequence order, merging what
// touches. It holds at most `capacity` ranges; add() refuses a range that would need one
// more, which a receiver answers by dropping the segment (the sender will send it again).
#pragma once

#include <sarab/base/verify.hpp>
#include <sarab/net/tcp/sequence.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <new>
#include <span>

namespace sarab::net::tcp {

class RingBuffer {
public:
    static constexpr u32 initial_allocation = 16 * 1024;

    explicit RingBuffer(u32 capacity = 0)
        : m_capacity(capacity)
    {
    }
    u32 capacity() const { return m_capacity; }
    u32 size() const { return m_size; }
    u32 free() const { return m_capacity - m_size; }
    bool empty() const { return m_size == 0; }
    bool allocated() const { return m_data != nullptr; }
    u32 allocation() const { return m_allocated; }

    // Changes the capacity; only while nothing is stored.
    void set_capacity(u32 capacity)
    {
        VERIFY(m_size == 0);
        if (capacity < m_allocated) {
            m_data.reset();
            m_allocated = 0;
        }
        m_capacity = capacity;
        m_head = 0;
    }

    // Gives the memory back while empty (an idle connection).
    void release()
    {
        if (m_size == 0) {
            m_data.reset();
            m_allocated = 0;
            m_head = 0;
        }
    }

    // Appends as much of `bytes` as fits; returns how much that was (0 when out of memory).
    u32 push(std::span<const std::byte> bytes)
    {
        u32 n = u32(std::min<usize>(bytes.size(), free()));
        if (n == 0 || !ensure(m_size + n))
            return 0;
        write_at(m_size, bytes.first(n));
        m_size += n;
        return n;
    }

    // Writes bytes `offset` bytes past the end of what is stored, without storing them yet
    // (an out-of-order segment); false when they do not fit or memory is short.
    bool write_beyond(u32 offset, std::span<const std::byte> bytes)
    {
        if (u64(m_size) + offset + bytes.size() > m_capacity || !ensure(u32(m_size + offset + bytes.size())))
            return false;
        write_at(m_size + offset, bytes);
        return true;
    }
    // Makes n bytes past the end part of what is stored (written before by write_beyond).
    void commit(u32 n)
    {
        VERIFY(n <= free());
        m_size += n;
    }

    // Copies up to out.size() bytes starting `offset` bytes into what is stored.
    u32 peek(u32 offset, std::span<std::byte> out) const
    {
        if (offset >= m_size)
            return 0;
        u32 n = u32(std::min<usize>(out.size(), m_size - offset));
        u32 start = (m_head + offset) % m_allocated;
        u32 first = std::min(n, m_allocated - start);
        std::memcpy(out.data(), m_data.get() + start, first);
        std::memcpy(out.data() + first, m_data.get(), n - first);
        return n;
    }
    // The stored bytes [offset, offset + n) as one or two contiguous pieces.
    std::pair<std::span<const std::byte>, std::span<const std::byte>> pieces(u32 offset, u32 n) const
    {
        VERIFY(offset + n <= m_size);
        if (n == 0)
            return {};
        u32 start = (m_head + offset) % m_allocated;
        u32 first = std::min(n, m_allocated - start);
        return { std::span<const std::byte>(m_data.get() + start, first), std::span<const std::byte>(m_data.get(), n - first) };
    }

    // Drops n bytes from the front.
    void consume(u32 n)
    {
        VERIFY(n <= m_size);
        // The head moves even when nothing stays: out-of-order bytes may sit beyond the end.
        m_size -= n;
        m_head = m_allocated ? (m_head + n) % m_allocated : 0;
    }

    u32 pop(std::span<std::byte> out)
    {
        u32 n = peek(0, out);
        consume(n);
        return n;
    }

private:
    // Makes positions [0, needed) from the head addressable, growing the allocation (by
    // doubling, within the capacity) and moving what it holds, in order, to its start.
    bool ensure(u32 needed)
    {
        if (needed <= m_allocated)
            return true;
        u32 size = std::max(m_allocated ? m_allocated : initial_allocation, u32(1));
        while (size < needed)
            size = size > m_capacity / 2 ? m_capacity : size * 2;
        size = std::min(size, m_capacity);
        std::unique_ptr<std::byte[]> grown(new (std::nothrow) std::byte[size]);
        if (!grown)
            return false;
        if (m_data) {
            // Everything from the head on, in-order bytes and those written beyond them.
            u32 first = m_allocated - m_head;
            std::memcpy(grown.get(), m_data.get() + m_head, first);
            std::memcpy(grown.get() + first, m_data.get(), m_head);
        }
        m_data = std::move(grown);
        m_allocated = size;
        m_head = 0;
        return true;
    }
    void write_at(u32 position, std::span<const std::byte> bytes)
    {
        u32 start = (m_head + position) % m_allocated;
        u32 first = std::min(u32(bytes.size()), m_allocated - start);
        std::memcpy(m_data.get() + start, bytes.data(), first);
        std::memcpy(m_data.get(), bytes.data() + first, bytes.size() - first);
    }

    std::unique_ptr<std::byte[]> m_data;
    u32 m_allocated = 0; // bytes of m_data; the ring wraps there
    u32 m_capacity = 0;
    u32 m_head = 0;
    u32 m_size = 0;
};

struct SeqRange {
    SeqNumber left;
    SeqNumber right; // one past the last
    u32 size() const { return u32(right - left); }
    constexpr bool operator==(const SeqRange&) const = default;
};

template<usize Capacity>
class RangeSet {
public:
    usize count() const { return m_count; }
    bool empty() const { return m_count == 0; }
    std::span<const SeqRange> ranges() const { return std::span(m_ranges).first(m_count); }
    const SeqRange& front() const { return m_ranges[0]; }
    const SeqRange& back() const { return m_ranges[m_count - 1]; }
    u32 total() const
    {
        u32 sum = 0;
        for (auto& r : ranges())
            sum += r.size();
        return sum;
    }
    void clear() { m_count = 0; }

    // Adds [left, right), merging with what it touches. False (and no change) when it would
    // need more than Capacity ranges.
    bool add(SeqNumber left, SeqNumber right)
    {
        if (!(left < right))
            return true;
        usize first = 0;
        while (first < m_count && m_ranges[first].right < left)
            ++first;
        usize last = first;
        while (last < m_count && m_ranges[last].left <= right)
            ++last;
        if (first == last) {
            if (m_count == Capacity)
                return false;
            std::move_backward(m_ranges.begin() + first, m_ranges.begin() + m_count, m_ranges.begin() + m_count + 1);
            m_ranges[first] = { left, right };
            ++m_count;
            return true;
        }
        SeqRange merged { min(left, m_ranges[first].left), max(right, m_ranges[last - 1].right) };
        m_ranges[first] = merged;
        std::move(m_ranges.begin() + last, m_ranges.begin() + m_count, m_ranges.begin() + first + 1);
        m_count -= last - first - 1;
        return true;
    }

    // Forgets everything below `seq`.
    void remove_below(SeqNumber seq)
    {
        usize drop = 0;
        while (drop < m_count && m_ranges[drop].right <= seq)
            ++drop;
        if (drop) {
            std::move(m_ranges.begin() + drop, m_ranges.begin() + m_count, m_ranges.begin());
            m_count -= drop;
        }
        if (m_count && m_ranges[0].left < seq)
            m_ranges[0].left = seq;
    }

    // The range that contains seq, if any.
    const SeqRange* find(SeqNumber seq) const
    {
        for (auto& r : ranges())
            if (seq.in_window(r.left, r.right))
                return &r;
        return nullptr;
    }

    // Bytes of the set inside [left, right).
    u32 covered(SeqNumber left, SeqNumber right) const
    {
        u32 sum = 0;
        for (auto& r : ranges()) {
            SeqNumber a = max(r.left, left), b = min(r.right, right);
            if (a < b)
                sum += u32(b - a);
        }
        return sum;
    }

private:
    std::array<SeqRange, Capacity> m_ranges {};
    usize m_count = 0;
};

} // namespace sarab::net::tcp
